package test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// byType returns the resources of one type in a template, by logical id.
func byType(tpl map[string]any, typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range resources(tpl) {
		res := r.(map[string]any)
		if res["Type"] == typ {
			out[id] = res["Properties"].(map[string]any)
		}
	}
	return out
}

func roleNamed(t *testing.T, tpl map[string]any, name string) map[string]any {
	for _, p := range byType(tpl, "AWS::IAM::Role") {
		if p["RoleName"] == name {
			return p
		}
	}
	t.Fatalf("no role %s", name)
	return nil
}

func strs(v any) []string {
	var out []string
	switch v := v.(type) {
	case string:
		out = append(out, v)
	case []any:
		for _, s := range v {
			out = append(out, s.(string))
		}
	}
	return out
}

func TestTrustPolicies(t *testing.T) {
	tpls := synth(t, example, nil, nil)
	const iss = "acme.okta.com/oauth2/default"
	tests := []struct {
		stack, role, account string
		subjects             []string
	}{
		{"ACME-GenAI-SharedModelsA", "ACME-GenAI-UseCaseA-BedrockInvokeRole", "222222222222", []string{"usecase-a"}},
		{"ACME-GenAI-SharedModelsB", "ACME-GenAI-Marketing-BedrockInvokeRole", "333333333333", []string{"usecase-b", "usecase-c"}},
		{"ACME-GenAI-SharedModelsC", "ACME-GenAI-Analytics-BedrockInvokeRole", "444444444444", []string{"usecase-a", "usecase-d", "usecase-d-batch"}},
		{"ACME-GenAI-SharedModelsC", "ACME-GenAI-UseCaseD-BedrockInvokeRole", "444444444444", []string{"usecase-d", "usecase-d-batch"}},
	}
	for _, tc := range tests {
		t.Run(tc.role+"@"+tc.account, func(t *testing.T) {
			doc := roleNamed(t, tpls[tc.stack], tc.role)["AssumeRolePolicyDocument"].(map[string]any)
			st := doc["Statement"].([]any)
			require.Len(t, st, 1)
			s := st[0].(map[string]any)
			assert.Equal(t, "Allow", s["Effect"])
			assert.Equal(t, []string{"sts:AssumeRoleWithWebIdentity"}, strs(s["Action"]))
			// The provider of the role's own account: providers are account-scoped.
			assert.Equal(t, "arn:aws:iam::"+tc.account+":oidc-provider/"+iss, s["Principal"].(map[string]any)["Federated"])
			cond := s["Condition"].(map[string]any)
			assert.Equal(t, []string{"StringEquals"}, keys(cond), "aud and sub only, by exact match")
			eq := cond["StringEquals"].(map[string]any)
			assert.Equal(t, []string{"genai-gateway"}, strs(eq[iss+":aud"]))
			assert.Equal(t, tc.subjects, strs(eq[iss+":sub"]))
			b, _ := json.Marshal(doc)
			assert.NotContains(t, string(b), "groups", "groups is not an IAM condition key")
		})
	}
}

// A vendor role is assumable only by the vendor's principal with its external
// id, only in the accounts its access names, and grants only its models.
func TestVendorRole(t *testing.T) {
	tpls := synth(t, example, nil, nil)
	for stack, tpl := range tpls {
		for _, r := range byType(tpl, "AWS::IAM::Role") {
			if r["RoleName"] == "ACME-GenAI-EvalPartner-BedrockInvokeRole" {
				assert.Equal(t, "ACME-GenAI-SharedModelsB", stack, "vendor role only where its access is")
			}
		}
	}
	doc := roleNamed(t, tpls["ACME-GenAI-SharedModelsB"], "ACME-GenAI-EvalPartner-BedrockInvokeRole")["AssumeRolePolicyDocument"].(map[string]any)
	st := doc["Statement"].([]any)
	require.Len(t, st, 1)
	s := st[0].(map[string]any)
	assert.Equal(t, map[string]any{"AWS": "arn:aws:iam::555555555555:root"}, s["Principal"])
	assert.Equal(t, []string{"sts:AssumeRole"}, strs(s["Action"]))
	assert.Equal(t, map[string]any{"StringEquals": map[string]any{"sts:ExternalId": []any{"acme-evalpartner-7f3c2a91"}}}, s["Condition"])
	b, _ := json.Marshal(doc)
	assert.NotContains(t, string(b), "aws:SourceAccount")
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Every managed policy grants exactly the two invoke actions on exact ARNs.
func TestPermissionPolicies(t *testing.T) {
	// The direct grants (the example's profile grants: governance_test.go).
	tpls := synth(t, example, exampleWith(t, "costAttribution: profiles", "costAttribution: direct", "    guardrail: {id: gr7k2m9x4p1q, version: \"3\"}\n", ""), nil)
	var names []string
	for _, tpl := range tpls {
		for _, p := range byType(tpl, "AWS::IAM::ManagedPolicy") {
			names = append(names, p["ManagedPolicyName"].(string))
			for _, raw := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				s := raw.(map[string]any)
				assert.Equal(t, "Allow", s["Effect"])
				assert.Equal(t, []string{"bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"}, strs(s["Action"]))
				for _, r := range strs(s["Resource"]) {
					assert.NotContains(t, r, "*", p["ManagedPolicyName"])
					assert.True(t, strings.HasPrefix(r, "arn:aws:bedrock:"), r)
				}
			}
		}
	}
	assert.ElementsMatch(t, []string{
		"ACME-GenAI-UseCaseA-Anthropic-InvokePolicy", "ACME-GenAI-UseCaseA-AmazonTitan-InvokePolicy", "ACME-GenAI-UseCaseB-Meta-InvokePolicy",
		"ACME-GenAI-UseCaseA-Anthropic-InvokePolicy", "ACME-GenAI-UseCaseC-Anthropic-InvokePolicy", "ACME-GenAI-UseCaseC-AmazonTitan-InvokePolicy",
		"ACME-GenAI-Marketing-MultiModel-InvokePolicy",
		"ACME-GenAI-Analytics-Anthropic-InvokePolicy", "ACME-GenAI-UseCaseD-Meta-InvokePolicy",
		"ACME-GenAI-EvalPartner-Anthropic-InvokePolicy",
	}, names)

	// UseCaseB may call one model in one region of account A: exactly that ARN.
	for _, p := range byType(tpls["ACME-GenAI-SharedModelsA"], "AWS::IAM::ManagedPolicy") {
		if p["ManagedPolicyName"] == "ACME-GenAI-UseCaseB-Meta-InvokePolicy" {
			st := p["PolicyDocument"].(map[string]any)["Statement"].([]any)
			require.Len(t, st, 1)
			assert.Equal(t, []string{"arn:aws:bedrock:us-east-1::foundation-model/meta.llama3-70b-instruct-v1:0"}, strs(st[0].(map[string]any)["Resource"]))
		}
	}
}

// A cross-region profile grants the profile ARN and, only through that
// profile, the model in every destination region.
func TestInferenceProfileGrant(t *testing.T) {
	// A direct grant of a system profile (through application profiles: governance_test.go).
	tpls := synth(t, example, exampleWith(t, "costAttribution: profiles", "costAttribution: direct"), nil)
	for _, p := range byType(tpls["ACME-GenAI-SharedModelsA"], "AWS::IAM::ManagedPolicy") {
		if p["ManagedPolicyName"] != "ACME-GenAI-UseCaseA-Anthropic-InvokePolicy" {
			continue
		}
		sids := map[string]map[string]any{}
		for _, raw := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			s := raw.(map[string]any)
			sids[s["Sid"].(string)] = s
		}
		profiles := []string{
			"arn:aws:bedrock:us-east-1:222222222222:inference-profile/us.anthropic.claude-3-5-sonnet-20241022-v2:0",
			"arn:aws:bedrock:us-west-2:222222222222:inference-profile/us.anthropic.claude-3-5-sonnet-20241022-v2:0",
		}
		assert.Equal(t, profiles, strs(sids["InvokeInferenceProfiles"]["Resource"]))
		via := sids["ViaUsAnthropicClaude35Sonnet20241022V20"]
		require.NotNil(t, via)
		assert.Equal(t, []string{
			"arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20241022-v2:0",
			"arn:aws:bedrock:us-east-2::foundation-model/anthropic.claude-3-5-sonnet-20241022-v2:0",
			"arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-5-sonnet-20241022-v2:0",
		}, strs(via["Resource"]))
		assert.Equal(t, profiles, strs(via["Condition"].(map[string]any)["StringEquals"].(map[string]any)["bedrock:InferenceProfileArn"]))
		return
	}
	t.Fatal("policy not found")
}

// Each account gets its own provider, except where the config imports one.
func TestOIDCProviders(t *testing.T) {
	tpls := synth(t, example, nil, nil)
	tests := []struct {
		stack string
		want  int
	}{{"ACME-GenAI-SharedModelsA", 1}, {"ACME-GenAI-SharedModelsB", 1}, {"ACME-GenAI-SharedModelsC", 0}}
	for _, tc := range tests {
		ps := byType(tpls[tc.stack], "AWS::IAM::OIDCProvider")
		require.Len(t, ps, tc.want, tc.stack)
		for id, p := range ps {
			assert.Equal(t, "ACMEIdPOkta", id)
			assert.Equal(t, "https://acme.okta.com/oauth2/default", p["Url"])
			assert.Equal(t, []string{"genai-gateway"}, strs(p["ClientIdList"]))
		}
	}
}

func TestStackEnvironmentsAndOutputs(t *testing.T) {
	tpls := synth(t, example, nil, nil)
	var described []string
	for _, o := range tpls["ACME-GenAI-SharedModelsB"]["Outputs"].(map[string]any) {
		described = append(described, o.(map[string]any)["Description"].(string))
	}
	assert.ElementsMatch(t, []string{"ARN of ACME-GenAI-EvalPartner-BedrockInvokeRole", "ARN of ACME-GenAI-Marketing-BedrockInvokeRole", "ARN of ACME-GenAI-UseCaseA-BedrockInvokeRole", "ARN of ACME-GenAI-UseCaseC-BedrockInvokeRole"}, described)
	role := roleNamed(t, tpls["ACME-GenAI-SharedModelsB"], "ACME-GenAI-Marketing-BedrockInvokeRole")
	tags := map[string]string{}
	for _, raw := range role["Tags"].([]any) {
		tg := raw.(map[string]any)
		tags[tg["Key"].(string)] = tg["Value"].(string)
	}
	assert.Equal(t, map[string]string{"cost-center": "4200", "genai:org": "ACME", "genai:managed-by": "genai-estate", "genai:use-case": "Marketing",
		"genai:role-kind": "group", "genai:trust-policy": "ACME-GenAI-Marketing-TrustPolicy"}, tags)
}

// -c accounts=X builds only X's stacks.
func TestAccountsContext(t *testing.T) {
	got := synth(t, example, nil, map[string]any{"accounts": "SharedModelsB"})
	// The account's stacks: its roles, and its application profiles in its one region.
	assert.ElementsMatch(t, []string{"ACME-GenAI-SharedModelsB", "ACME-GenAI-SharedModelsB-Profiles-us-east-1"}, keys2(got))
}

func keys2(m map[string]map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// A use case whose name ends like another's output id must not collide.
func TestNoConstructIDClash(t *testing.T) {
	cfg := `org: ACME
layer: GenAI
identityProvider: {name: Okta, issuerUrl: "https://acme.okta.com", audiences: [gw]}
central: {account: "111111111111", region: us-east-1}
modelAccounts: [{name: A, account: "222222222222", regions: [us-east-1]}]
useCases:
  - {name: U, subjects: [s], access: [{account: A, models: [amazon.titan-text-express-v1]}]}
  - {name: URoleArn, subjects: [t], access: [{account: A, models: [amazon.titan-text-express-v1]}]}
  - {name: UArn, subjects: [u], access: [{account: A, models: [amazon.titan-text-express-v1]}]}
`
	tpls := synth(t, "clash.yaml", []byte(cfg), nil)
	assert.Len(t, tpls["ACME-GenAI-A"]["Outputs"], 3)
	assert.Len(t, byType(tpls["ACME-GenAI-A"], "AWS::IAM::Role"), 3)
}
