package estate

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/genai-estate/config"
)

const head = `org: ACME
layer: GenAI
identityProvider: {name: Okta, issuerUrl: "https://acme.okta.com/oauth2/default", audiences: [genai-gateway]}
central: {account: "111111111111", region: us-east-1}
modelAccounts:
  - {name: A, account: "222222222222", regions: [us-east-1, us-west-2]%s}
useCases:
`

func load(t *testing.T, accountExtra, body string) (*Estate, error) {
	t.Helper()
	c, err := config.Parse("estate.yaml", []byte(fmt.Sprintf(head, accountExtra)+body))
	require.NoError(t, err)
	return Build(c)
}

// manyModels registers n fake Anthropic models and grants them all.
func manyModels(n int, name string) string {
	var models, ids []string
	for i := range n {
		id := fmt.Sprintf("anthropic.fake-model-%03d-with-a-long-version-suffix-v1:0", i)
		models = append(models, fmt.Sprintf("  - {id: %s, provider: Anthropic}", id))
		ids = append(ids, id)
	}
	return fmt.Sprintf("  - name: %s\n    subjects: [s]\n    access: [{account: A, models: [%s]}]\nmodels:\n%s\n", name, strings.Join(ids, ", "), strings.Join(models, "\n"))
}

func TestPolicySplitting(t *testing.T) {
	tests := []struct {
		name  string
		n     int
		parts []string
	}{
		{"fits in one", 10, []string{"ACME-GenAI-U-Anthropic-InvokePolicy"}},
		{"split into numbered parts", 50, []string{"ACME-GenAI-U-Anthropic-InvokePolicy", "ACME-GenAI-U-Anthropic-InvokePolicy-2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := load(t, "", manyModels(tc.n, "U"))
			require.NoError(t, err)
			r := e.Accounts[0].Roles[0]
			var names []string
			resources := 0
			for _, p := range r.Policies {
				names = append(names, p.Name.String())
				assert.LessOrEqual(t, p.Document.Size(), MaxManagedPolicyChars)
				resources += len(p.Document.Statement[0].Resource)
			}
			assert.Equal(t, tc.parts, names)
			assert.Equal(t, 2*tc.n, resources, "every model in both regions, once")
		})
	}
}

func TestLimitErrors(t *testing.T) {
	var subjects []string
	for i := range 60 {
		subjects = append(subjects, fmt.Sprintf("subject-number-%02d-of-a-very-chatty-use-case", i))
	}
	bigTrust := fmt.Sprintf("  - {name: U, subjects: [%s], access: [{account: A, models: [amazon.titan-text-express-v1]}]}\n", strings.Join(subjects, ", "))
	tests := []struct {
		name, extra, body string
		want              []string
	}{
		{"trust policy over quota", "", bigTrust, []string{"useCases[0].name", "trust policy of ACME-GenAI-U-BedrockInvokeRole", "over the quota of 2048", "limits.trustPolicyChars"}},
		{"trust quota raised", ", limits: {trustPolicyChars: 4096}", bigTrust, nil},
		{"too many policies per role", "", manyModels(500, "U"), []string{"managed policies", "over the quota of 10 per role"}},
		{"policies per account over quota", ", limits: {rolesPerAccount: 5000}", manyRoles(1600), []string{"1600 customer managed policies, 100 over its quota of 1500"}},
		{"pinned shards too few", ", stackShards: 1", strings.Repeat("", 0) + manyRoles(260), []string{"stackShards", "over CloudFormation's 500 resources"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, tc.extra, tc.body)
			if tc.want == nil {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			var list config.ErrorList
			require.ErrorAs(t, err, &list)
			for _, e := range list {
				if !e.IsWarning() {
					assert.Equal(t, config.KindLimit, e.Kind, "a quota is a limit: %v", e)
				}
			}
		})
	}
}

// Partitions come from each account's regions, not from the central account.
func TestPartitionPerAccount(t *testing.T) {
	c, err := config.Parse("estate.yaml", []byte(`org: ACME
layer: GenAI
identityProvider: {name: Okta, issuerUrl: "https://acme.okta.com", audiences: [gw]}
central: {account: "111111111111", region: us-east-1}
modelAccounts:
  - {name: China, account: "222222222222", regions: [cn-north-1]}
useCases:
  - {name: U, subjects: [s], access: [{account: China, models: [amazon.titan-text-express-v1]}]}
  - {name: URoleArn, subjects: [t], access: [{account: China, models: [amazon.titan-text-express-v1]}]}
`))
	require.NoError(t, err)
	e, err := Build(c)
	require.NoError(t, err)
	a := e.Accounts[0]
	assert.Equal(t, "arn:aws-cn:iam::222222222222:oidc-provider/acme.okta.com", a.ProviderArn)
	assert.Equal(t, "arn:aws-cn:bedrock:cn-north-1::foundation-model/amazon.titan-text-express-v1", a.Roles[0].Policies[0].Document.Statement[0].Resource[0])
}

func manyRoles(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "  - {name: UseCase%03d, subjects: [uc-%03d], access: [{account: A, models: [amazon.titan-text-express-v1]}]}\n", i, i)
	}
	return b.String()
}

// Adding a role must never move an existing one to another stack: that would
// delete it in one stack and create it in another, which fails on the name.
func TestShardingIsStable(t *testing.T) {
	e1, err := load(t, "", manyRoles(300))
	require.NoError(t, err)
	e2, err := load(t, "", manyRoles(320))
	require.NoError(t, err)
	a1, a2 := e1.Accounts[0], e2.Accounts[0]
	require.Equal(t, 2, a1.Shards, "300 roles x 2 resources need two stacks")
	require.Equal(t, a1.Shards, a2.Shards)
	shard := map[string]int{}
	for _, r := range a2.Roles {
		shard[r.Name.String()] = r.Shard
	}
	for _, r := range a1.Roles {
		assert.Equal(t, r.Shard, shard[r.Name.String()], r.Name.String())
	}
	for s := range a1.Shards {
		assert.LessOrEqual(t, len(a1.ShardRoles(s)), MaxStackOutputs)
	}
	assert.Equal(t, "ACME-GenAI-A-2", a1.Stack("ACME", "GenAI", 1))
}

func TestGlobalProfileGrant(t *testing.T) {
	e, err := load(t, "", "  - {name: U, subjects: [s], access: [{account: A, regions: [us-east-1], models: [global.anthropic.claude-sonnet-4-5-20250929-v1:0]}]}\n")
	require.NoError(t, err)
	doc := string(e.Accounts[0].Roles[0].Policies[0].Document.JSON())
	assert.Contains(t, doc, `"arn:aws:bedrock:::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0"`)
	assert.Contains(t, doc, `"aws:RequestedRegion":["unspecified"]`)
	assert.Contains(t, doc, `"arn:aws:bedrock:us-east-1:222222222222:inference-profile/global.anthropic.claude-sonnet-4-5-20250929-v1:0"`)
	assert.NotContains(t, doc, "*")
}

func TestVendorTrust(t *testing.T) {
	tests := []struct{ principal, want string }{
		{`"999999999999"`, "arn:aws:iam::999999999999:root"},
		{"arn:aws:iam::999999999999:role/vendor-broker", "arn:aws:iam::999999999999:role/vendor-broker"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			e, err := load(t, "", "  - {name: U, subjects: [s], access: [{account: A, models: [amazon.titan-text-express-v1]}]}\nvendors:\n  - {name: V, principal: "+tc.principal+", externalId: ext-1234, access: [{account: A, regions: [us-east-1], models: [amazon.titan-text-express-v1]}]}\n")
			require.NoError(t, err)
			var v *Role
			for _, r := range e.Accounts[0].Roles {
				if r.Kind == "vendor" {
					v = r
				}
			}
			require.NotNil(t, v)
			assert.Equal(t, "ACME-GenAI-V-BedrockInvokeRole", v.Name.String())
			assert.Equal(t, `{"Version":"2012-10-17","Statement":[{"Sid":"VendorWithExternalId","Effect":"Allow","Principal":{"AWS":"`+tc.want+`"},"Action":["sts:AssumeRole"],"Condition":{"StringEquals":{"sts:ExternalId":["ext-1234"]}}}]}`, string(v.Trust.JSON()))
			assert.Equal(t, []string{"amazon.titan-text-express-v1"}, v.Grants["us-east-1"])
			assert.Empty(t, v.Grants["us-west-2"])
		})
	}
}

func TestRoutingParameterTiers(t *testing.T) {
	tests := []struct {
		name     string
		models   int
		advanced bool
		err      string
	}{
		{"small is standard", 2, false, ""},
		{"over 4 KB is advanced", 40, true, ""},
		{"over 8 KB is an error", 80, false, "over SSM's advanced-parameter limit of 8192"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := load(t, ", limits: {managedPoliciesPerRole: 25}", manyModels(tc.models, "U"))
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				assert.Contains(t, err.Error(), "useCases[0].name")
				return
			}
			require.NoError(t, err)
			require.Len(t, e.Routing, 1)
			p := e.Routing[0]
			assert.Equal(t, "/ACME/GenAIGateway/routing/U", p.Name)
			assert.Equal(t, tc.advanced, p.Advanced, "%d bytes", len(p.Value))
			assert.Contains(t, p.Value, `"roleArn":"arn:aws:iam::222222222222:role/ACME-GenAI-U-BedrockInvokeRole"`)
		})
	}
}
