package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const base = `org: ACME
layer: GenAI
identityProvider: {name: Okta, issuerUrl: "https://acme.okta.com/oauth2/default", audiences: [genai-gateway]}
central: {account: "111111111111", region: us-east-1}
modelAccounts:
  - {name: SharedModelsA, account: "222222222222", regions: [us-east-1, us-west-2]}
useCases:
  - name: UseCaseA
    subjects: [usecase-a]
    access:
      - {account: SharedModelsA, models: [anthropic.claude-3-haiku-20240307-v1:0]}
`

const ragYAML = `rag:
  name: Rag
  account: "666666666666"
  region: us-east-1
  llmModel: anthropic.claude-3-haiku-20240307-v1:0
  embeddingModel: amazon.titan-embed-text-v2:0
  vectorDimension: 1536
  image: {repository: "arn:aws:ecr:us-east-1:666666666666:repository/rag", tag: "1"}
`

func TestExampleEstateLoads(t *testing.T) {
	c, err := Load("usecases.yaml")
	require.NoError(t, err)
	assert.Equal(t, "ACME", c.Org)
	assert.Len(t, c.ModelAccounts, 3)
	assert.Len(t, c.UseCases, 4)
	assert.Len(t, c.Groups, 2)
	assert.Len(t, c.Vendors, 1)
}

// Each case: a config, then the line and the words its one error must carry.
func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name     string
		yaml     string
		line     int
		path     string
		contains []string
	}{
		{"misspelled key", strings.Replace(base, "layer:", "layr:", 1), 2, "layr", []string{`unknown field "layr"`, `did you mean "layer"?`}},
		{"unquoted account", strings.Replace(base, `"111111111111"`, `111111111111`, 1), 4, "central.account", []string{"not quoted", `quote it: "111111111111"`}},
		{"short account", strings.Replace(base, `"222222222222"`, `"22222222222"`, 1), 6, "modelAccounts[0].account", []string{"not a 12-digit account id"}},
		{"unknown region", strings.Replace(base, "us-west-2]", "us-wset-2]", 1), 6, "modelAccounts[0].regions[1]", []string{`"us-wset-2" is not an AWS region`, `did you mean "us-west-2"?`}},
		{"unknown account ref", strings.Replace(base, "{account: SharedModelsA,", "{account: SharedModelA,", 1), 11, "useCases[0].access[0].account", []string{`unknown model account "SharedModelA"`, `did you mean "SharedModelsA"?`}},
		{"unknown model", strings.Replace(base, "claude-3-haiku", "claude-3-haiku-x", 1), 11, "useCases[0].access[0].models[0]", []string{"unknown model", `did you mean "anthropic.claude-3-haiku-20240307-v1:0"?`}},
		{"wildcard model", strings.Replace(base, "anthropic.claude-3-haiku-20240307-v1:0", "anthropic.*", 1), 11, "useCases[0].access[0].models[0]", []string{"wildcard"}},
		{"name with hyphen", strings.Replace(base, "name: UseCaseA", "name: Use-Case-A", 1), 8, "useCases[0].name", []string{"hyphens are reserved", "e.g. UseCaseA"}},
		{"role name too long", strings.Replace(base, "name: UseCaseA", "name: UseCase"+strings.Repeat("X", 40), 1), 8, "useCases[0].name", []string{"12 over IAM's limit of 64", "shorten"}},
		{"region not in account", strings.Replace(base, "{account: SharedModelsA,", "{account: SharedModelsA, regions: [eu-west-1],", 1), 11, "useCases[0].access[0].regions[0]", []string{"does not list region eu-west-1"}},
		{"profile from wrong region", strings.Replace(strings.Replace(base, "us-west-2]", "eu-west-1]", 1), "anthropic.claude-3-haiku", "us.anthropic.claude-3-haiku", 1), 11, "useCases[0].access[0].models[0]", []string{"cannot be called from eu-west-1"}},
		{"http issuer", strings.Replace(base, `"https://`, `"http://`, 1), 3, "identityProvider.issuerUrl", []string{"not an https issuer URL"}},
		{"bad layout", strings.Replace(base, "subjects: [usecase-a]", "subjects: [usecase-a]\n    policyLayout: multimodel", 1), 10, "useCases[0].policyLayout", []string{`did you mean "multiModel"?`}},
		{"limit out of range", base + "limits: {trustPolicyChars: 9000}\n", 12, "limits.trustPolicyChars", []string{"outside IAM's range 2048–4096"}},
		{"list where scalar", strings.Replace(base, "org: ACME", "org: [ACME]", 1), 1, "org", []string{"expected a string"}},
		{"unknown group member", base + "groups:\n  - {name: Marketing, members: [UseCaseAA], access: [{account: SharedModelsA, models: [amazon.titan-text-express-v1]}]}\n", 13, "groups[0].members[0]", []string{`unknown use case "UseCaseAA"`, `did you mean "UseCaseA"?`}},
		{"name clash ignoring case", base + "groups:\n  - {name: usecasea, members: [UseCaseA], access: [{account: SharedModelsA, models: [amazon.titan-text-express-v1]}]}\n", 13, "groups[0].name", []string{"collides", "unique ignoring case"}},
		{"shared subject", base + "  - {name: UseCaseB, subjects: [usecase-a]}\n", 12, "useCases[1].subjects[0]", []string{"already identifies use case UseCaseA"}},
		{"profile to unknown model", base + "models:\n  - {id: eu.acme.x, inferenceProfile: {model: acme.x, regions: [eu-west-1]}}\n", 13, "models[0].inferenceProfile.model", []string{`unknown foundation model "acme.x"`}},
		{"imported provider in wrong account", strings.Replace(base, `regions: [us-east-1, us-west-2]}`, `regions: [us-east-1, us-west-2], oidcProviderArn: "arn:aws:iam::999999999999:oidc-provider/acme.okta.com/oauth2/default"}`, 1), 6, "modelAccounts[0].oidcProviderArn", []string{"arn:aws:iam::222222222222:oidc-provider/acme.okta.com/oauth2/default"}},
		{"description not latin-1", strings.Replace(base, "subjects: [usecase-a]", "subjects: [usecase-a]\n    description: \"Support \u2603\"", 1), 10, "useCases[0].description", []string{"IAM does not accept this role description"}},
		{"account name makes stack name too long", strings.ReplaceAll(strings.Replace(base, "{name: SharedModelsA,", "{name: A"+strings.Repeat("x", 120)+",", 1), "account: SharedModelsA", "account: A"+strings.Repeat("x", 120)), 6, "modelAccounts[0].name", []string{"over CloudFormation's 128 characters"}},
		{"reserved tag key", base + "tags: {\"aws:owner\": x}\n", 12, "tags.aws:owner", []string{"reserved prefix"}},
		{"policy variable in subject", strings.Replace(base, "subjects: [usecase-a]", `subjects: ["${acme.okta.com/oauth2/default:sub}"]`, 1), 9, "useCases[0].subjects[0]", []string{"policy variable"}},
		{"upper-case scheme", strings.Replace(base, `"https://`, `"HTTPS://`, 1), 3, "identityProvider.issuerUrl", []string{"not an https issuer URL"}},
		{"issuer with port", strings.Replace(base, `acme.okta.com/oauth2`, `acme.okta.com:8443/oauth2`, 1), 3, "identityProvider.issuerUrl", []string{"without port"}},
		{"deploy region in another partition", strings.Replace(base, `regions: [us-east-1, us-west-2]}`, `regions: [us-east-1, us-west-2], deployRegion: cn-north-1}`, 1), 6, "modelAccounts[0].deployRegion", []string{"partition aws-cn"}},
		{"provider differs in case", base + "models:\n  - {id: acme.x-v1, provider: anthropic}\n", 13, "models[0].provider", []string{`spell it "Anthropic"`}},
		{"built-in profile loses its model", base + "models:\n  - {id: amazon.nova-pro-v1:0, inferenceProfile: {model: amazon.nova-lite-v1:0, regions: [us-east-1]}}\n", 13, "models[0].id", []string{"built-in inference profile"}},
		{"vendor external id too short", base + "vendors:\n  - {name: V, principal: \"999999999999\", externalId: x, access: [{account: SharedModelsA, models: [amazon.titan-text-express-v1]}]}\n", 13, "vendors[0].externalId", []string{"not valid for sts:ExternalId"}},
		{"vendor wildcard principal", base + "vendors:\n  - {name: V, principal: \"*\", externalId: abc123, access: [{account: SharedModelsA, models: [amazon.titan-text-express-v1]}]}\n", 13, "vendors[0].principal", []string{"never a wildcard"}},
		{"vendors share an external id", base + "vendors:\n  - {name: V, principal: \"999999999999\", externalId: abc123, access: [{account: SharedModelsA, models: [amazon.titan-text-express-v1]}]}\n  - {name: W, principal: \"888888888888\", externalId: abc123, access: [{account: SharedModelsA, models: [amazon.titan-text-express-v1]}]}\n", 14, "vendors[1].externalId", []string{"already used by vendor V"}},
		{"vendor name clashes with use case", base + "vendors:\n  - {name: usecasea, principal: \"999999999999\", externalId: abc123, access: [{account: SharedModelsA, models: [amazon.titan-text-express-v1]}]}\n", 13, "vendors[0].name", []string{"collides"}},
		{"rag vector dimension mismatch", base + ragYAML, 18, "rag.vectorDimension", []string{"amazon.titan-embed-text-v2:0 produces [256 512 1024]-dimensional vectors, not 1536", "use one of 256 512 1024"}},
		{"rag without image", strings.Replace(strings.Replace(base+ragYAML, "vectorDimension: 1536", "vectorDimension: 1024", 1), "  image: {repository: \"arn:aws:ecr:us-east-1:666666666666:repository/rag\", tag: \"1\"}\n", "", 1), 13, "rag.image", []string{"no container image"}},
		{"rag unknown model", strings.Replace(strings.Replace(base+ragYAML, "vectorDimension: 1536", "vectorDimension: 1024", 1), "llmModel: anthropic.claude-3-haiku-20240307-v1:0", "llmModel: anthropic.claude-3-haiku-20240307", 1), 16, "rag.llmModel", []string{"unknown model", "did you mean"}},
		{"rag cors wildcard", strings.Replace(base+ragYAML, "vectorDimension: 1536", "vectorDimension: 1024\n  api: {corsOrigins: [\"*\"]}", 1), 19, "rag.api.corsOrigins[0]", []string{"not an allowed CORS origin"}},
		{"rag log retention not offered", strings.Replace(base+ragYAML, "vectorDimension: 1536", "vectorDimension: 1024\n  lambda: {logRetentionDays: 31}", 1), 19, "rag.lambda.logRetentionDays", []string{"does not offer 31 days"}},
		{"rag cognito without pool", strings.Replace(base+ragYAML, "vectorDimension: 1536", "vectorDimension: 1024\n  api: {auth: cognito}", 1), 19, "rag.api.userPoolArn", []string{"needs a user pool ARN"}},
		{"gateway image not pinned", strings.Replace(base, `central: {account: "111111111111", region: us-east-1}`, `central: {account: "111111111111", region: us-east-1, gateway: {image: "111111111111.dkr.ecr.us-east-1.amazonaws.com/gw", certificateArn: "arn:aws:acm:us-east-1:111111111111:certificate/abc-123"}}`, 1), 4, "central.gateway.image", []string{"not a pinned ECR image URI"}},
		{"gateway memory for cpu", strings.Replace(base, `central: {account: "111111111111", region: us-east-1}`, `central: {account: "111111111111", region: us-east-1, gateway: {image: "111111111111.dkr.ecr.us-east-1.amazonaws.com/gw:1", certificateArn: "arn:aws:acm:us-east-1:111111111111:certificate/abc-123", cpu: 256, memoryMb: 4096}}`, 1), 4, "central.gateway.memoryMb", []string{"not a Fargate memory size for 256 CPU units"}},
		{"gateway ttl too long", strings.Replace(base, `central: {account: "111111111111", region: us-east-1}`, `central: {account: "111111111111", region: us-east-1, gateway: {image: "111111111111.dkr.ecr.us-east-1.amazonaws.com/gw:1", certificateArn: "arn:aws:acm:us-east-1:111111111111:certificate/abc-123", credentialTtlSeconds: 7200}}`, 1), 4, "central.gateway.credentialTtlSeconds", []string{"outside the credentials' lifetime"}},
		{"central provider of another issuer", strings.Replace(base, `central: {account: "111111111111", region: us-east-1}`, `central: {account: "111111111111", region: us-east-1, oidcProviderArn: "arn:aws:iam::111111111111:oidc-provider/other.example.com"}`, 1), 4, "central.oidcProviderArn", []string{"arn:aws:iam::111111111111:oidc-provider/acme.okta.com/oauth2/default"}},
		{"yaml syntax", base + "  - name: UseCaseB\n     subjects: x\n", 13, "", []string{"fix the YAML syntax"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("estate.yaml", []byte(tc.yaml))
			require.Error(t, err)
			list, ok := err.(ErrorList)
			require.True(t, ok, "want an ErrorList, got %T", err)
			require.Len(t, list, 1, "%v", err)
			e := list[0]
			assert.Equal(t, "estate.yaml", e.File)
			assert.Equal(t, tc.line, e.Line, "%v", e)
			assert.Equal(t, tc.path, e.Path)
			assert.NotEmpty(t, e.Fix, "every error carries a fix")
			for _, want := range tc.contains {
				assert.Contains(t, e.Error(), want)
			}
		})
	}
}

// Every problem is reported in one run, in file order.
func TestAllErrorsInOneRun(t *testing.T) {
	bad := strings.NewReplacer("layer:", "layr:", `"111111111111"`, "111111111111", "SharedModelsA, models", "SharedModelZ, models").Replace(base)
	_, err := Parse("estate.yaml", []byte(bad))
	list := err.(ErrorList)
	var paths []string
	for _, e := range list {
		paths = append(paths, e.Path)
	}
	assert.Equal(t, []string{"layr", "central.account", "useCases[0].access[0].account"}, paths)
	assert.True(t, strings.HasPrefix(err.Error(), "3 config errors:"))
}

func TestMissingFile(t *testing.T) {
	_, err := Load("does-not-exist.yaml")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "does-not-exist.yaml")
}

func TestEffectiveLimits(t *testing.T) {
	c := &Config{Limits: Limits{ManagedPoliciesPerRole: 20}}
	got := c.EffectiveLimits(ModelAccount{Limits: Limits{TrustPolicyChars: 4096}})
	assert.Equal(t, Limits{TrustPolicyChars: 4096, ManagedPoliciesPerRole: 20, RolesPerAccount: 1000, ManagedPoliciesPerAccount: 1500}, got)
}

func TestDidYouMean(t *testing.T) {
	tests := []struct{ got, want string }{
		{"SharedModelA", `did you mean "SharedModelsA"?`},
		{"completely-different", "fallback"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, DidYouMean(tc.got, []string{"SharedModelsA", "SharedModelsB"}, "fallback"))
	}
}
