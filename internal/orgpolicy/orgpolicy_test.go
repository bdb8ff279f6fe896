package orgpolicy

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/estate"
	"github.com/acme/genai-estate/internal/review/iameval"
)

// Each generated policy, evaluated with the project's IAM evaluator, denies
// what it must and leaves the estate's own calls alone.
func TestExamplePolicies(t *testing.T) {
	c, err := config.Load("../../config/usecases.yaml")
	require.NoError(t, err)
	e, err := estate.Build(c)
	require.NoError(t, err)
	ps, err := Generate(e)
	require.NoError(t, err)
	docs := map[string]any{}
	for _, p := range ps {
		assert.LessOrEqual(t, p.Document.Size(), MaxSCPChars, p.Name)
		docs[p.Name] = p.Document.Value()
	}
	const (
		admin  = "arn:aws:iam::222222222222:role/Admin"
		deploy = "arn:aws:iam::222222222222:role/cdk-hnb659fds-cfn-exec-role-222222222222-us-east-1"
	)
	in := func(region string) map[string][]string { return map[string][]string{"aws:RequestedRegion": {region}} }
	by := func(p string) map[string][]string { return map[string][]string{"aws:PrincipalArn": {p}} }
	for _, tc := range []struct {
		policy, name, action, resource string
		ctx                            map[string][]string
		denied                         bool
	}{
		{"DenyBedrockApiKeys", "using an API key", "bedrock:CallWithBearerToken", "*", nil, true},
		{"DenyBedrockApiKeys", "using a mantle API key", "bedrock-mantle:CallWithBearerToken", "*", nil, true},
		{"DenyBedrockApiKeys", "creating a Bedrock API key", "iam:CreateServiceSpecificCredential", "arn:aws:iam::222222222222:user/dev", map[string][]string{"iam:ServiceSpecificCredentialServiceName": {"bedrock.amazonaws.com"}}, true},
		{"DenyBedrockApiKeys", "a CodeCommit credential", "iam:CreateServiceSpecificCredential", "arn:aws:iam::222222222222:user/dev", map[string][]string{"iam:ServiceSpecificCredentialServiceName": {"codecommit.amazonaws.com"}}, false},
		{"DenyBedrockApiKeys", "a signed invoke", "bedrock:InvokeModel", "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0", nil, false},
		{"DenyBedrockMantle", "any mantle call", "bedrock-mantle:CreateInference", "*", nil, true},
		{"DenyUngrantedModels", "a granted model", "bedrock:InvokeModel", "arn:aws:bedrock:us-east-1::foundation-model/meta.llama3-70b-instruct-v1:0", nil, false},
		{"DenyUngrantedModels", "a granted profile", "bedrock:InvokeModelWithResponseStream", "arn:aws:bedrock:us-west-2:222222222222:inference-profile/us.anthropic.claude-3-5-sonnet-20241022-v2:0", nil, false},
		{"DenyUngrantedModels", "a profile's destination model", "bedrock:InvokeModel", "arn:aws:bedrock:us-east-2::foundation-model/anthropic.claude-3-5-sonnet-20241022-v2:0", nil, false},
		{"DenyUngrantedModels", "an application profile", "bedrock:InvokeModel", "arn:aws:bedrock:us-east-1:222222222222:application-inference-profile/abcdef123456", nil, false},
		{"DenyUngrantedModels", "a model no one is granted", "bedrock:InvokeModel", "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-opus-20240229-v1:0", nil, true},
		{"DenyUngrantedModels", "a profile no one is granted", "bedrock:InvokeModel", "arn:aws:bedrock:us-east-1:222222222222:inference-profile/us.amazon.nova-pro-v1:0", nil, true},
		{"BedrockRegions", "a granted region", "bedrock:InvokeModel", "*", in("us-west-2"), false},
		{"BedrockRegions", "a destination of a granted profile", "bedrock:InvokeModel", "*", in("us-east-2"), false},
		{"BedrockRegions", "another region", "bedrock:InvokeModel", "*", in("eu-west-1"), true},
		{"ProtectEstate", "an admin edits an invoke role's policy", "iam:PutRolePolicy", "arn:aws:iam::222222222222:role/ACME-GenAI-UseCaseA-BedrockInvokeRole", by(admin), true},
		{"ProtectEstate", "an admin edits a generated policy", "iam:CreatePolicyVersion", "arn:aws:iam::222222222222:policy/ACME-GenAI-UseCaseA-UsEast1-ProfileInvokePolicy", by(admin), true},
		{"ProtectEstate", "the deployment role does", "iam:CreatePolicyVersion", "arn:aws:iam::222222222222:policy/ACME-GenAI-UseCaseA-UsEast1-ProfileInvokePolicy", by(deploy), false},
		{"ProtectEstate", "an admin rewrites profile ARNs", "ssm:PutParameter", "arn:aws:ssm:us-east-1:222222222222:parameter/ACME/GenAIGateway/profiles/UseCaseA", by(admin), true},
		{"ProtectEstate", "an admin deletes a profile", "bedrock:DeleteInferenceProfile", "arn:aws:bedrock:us-east-1:222222222222:application-inference-profile/abcdef123456", by(admin), true},
		{"ProtectEstate", "an admin's own role", "iam:PutRolePolicy", "arn:aws:iam::222222222222:role/Admin", by(admin), false},
		{"ProtectEstate", "an admin turns invocation logging off", "bedrock:DeleteModelInvocationLoggingConfiguration", "*", by(admin), true},
		{"ProtectEstate", "an admin redirects invocation logs", "bedrock:PutModelInvocationLoggingConfiguration", "*", by(admin), true},
		{"ProtectEstate", "the logging custom resource sets it", "bedrock:PutModelInvocationLoggingConfiguration", "*", by("arn:aws:iam::222222222222:role/ACME-GenAI-InvocationLogging-UsEast1"), false},
		{"ProtectEstate", "the deployment role deletes it", "bedrock:DeleteModelInvocationLoggingConfiguration", "*", by(deploy), false},
		{"ProtectEstate", "an admin deletes the invocation logs", "logs:DeleteLogGroup", "arn:aws:logs:us-east-1:222222222222:log-group:/ACME/GenAI/bedrock/model-invocations:*", by(admin), true},
		{"ProtectEstate", "an admin shortens their retention", "logs:PutRetentionPolicy", "arn:aws:logs:us-east-1:222222222222:log-group:/ACME/GenAI/bedrock/model-invocations", by(admin), true},
		{"ProtectEstate", "an admin's own log group", "logs:DeleteLogGroup", "arn:aws:logs:us-east-1:222222222222:log-group:/app/x:*", by(admin), false},
	} {
		t.Run(tc.policy+"/"+tc.name, func(t *testing.T) {
			doc, ok := docs[tc.policy]
			require.True(t, ok)
			d, _ := iameval.Evaluate(doc, iameval.Request{Action: tc.action, Resource: tc.resource, Context: tc.ctx})
			assert.Equal(t, tc.denied, d == iameval.ExplicitDeny, "decision %v", d)
		})
	}
}

// A NotResource Deny cannot be split, so too many distinct models is an error.
func TestTooManyModels(t *testing.T) {
	head := "org: ACME\nlayer: GenAI\nidentityProvider: {name: Okta, issuerUrl: \"https://acme.okta.com/oauth2/default\", audiences: [a]}\ncentral: {account: \"111111111111\", region: us-east-1}\nmodelAccounts: [{name: A, account: \"222222222222\", regions: [us-east-1]}]\nuseCases:\n  - {name: U, subjects: [s], access: [{account: A, models: ["
	var ids, models string
	for i := range 80 {
		id := "anthropic.fake-model-with-a-long-name-" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "-v1:0"
		if i > 0 {
			ids += ", "
		}
		ids += id
		models += "  - {id: " + id + ", provider: Anthropic}\n"
	}
	c, err := config.Parse("e.yaml", []byte(head+ids+"]}]}\nmodels:\n"+models))
	require.NoError(t, err)
	e, err := estate.Build(c)
	require.NoError(t, err)
	_, err = Generate(e)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "DenyUngrantedModels")
}
