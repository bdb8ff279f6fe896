package invokerole

import (
	"os"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/genai-estate/internal/estate"
	"github.com/acme/genai-estate/internal/iampolicy"
	"github.com/acme/genai-estate/internal/naming"
)

func TestMain(m *testing.M) {
	os.Setenv("CDK_VALIDATION", "false")
	jsii.Close() // restart node so it sees the variable
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}

func policy(provider string, part int) *estate.Policy {
	return &estate.Policy{
		Name:     naming.Policy{Org: "ACME", Layer: "GenAI", Subject: "UseCaseA", Provider: provider, PermissionType: "Invoke", Part: part},
		Document: iampolicy.New(iampolicy.Statement{Effect: "Allow", Action: estate.InvokeActions, Resource: []string{"arn:aws:bedrock:us-east-1::foundation-model/m"}}),
	}
}

func TestInvokeRole(t *testing.T) {
	tests := []struct {
		name        string
		policies    []*estate.Policy
		withDep     bool
		policyNames []string
	}{
		{"one provider", []*estate.Policy{policy("Anthropic", 0)}, true, []string{"ACME-GenAI-UseCaseA-Anthropic-InvokePolicy"}},
		{"split policy and imported provider", []*estate.Policy{policy("Meta", 0), policy("Meta", 2)}, false, []string{"ACME-GenAI-UseCaseA-Meta-InvokePolicy", "ACME-GenAI-UseCaseA-Meta-InvokePolicy-2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("S"), nil)
			props := &InvokeRoleProps{Role: &estate.Role{
				Name:      naming.Role{Org: "ACME", Layer: "GenAI", Subject: "UseCaseA", Capability: "BedrockInvoke"},
				TrustName: naming.TrustPolicy{Org: "ACME", Layer: "GenAI", Subject: "UseCaseA"},
				Kind:      "useCase", Description: "d", Policies: tc.policies,
				Trust: iampolicy.New(iampolicy.Statement{Effect: "Allow", Action: []string{"sts:AssumeRoleWithWebIdentity"}}),
			}}
			if tc.withDep {
				props.DependsOn = awsiam.NewCfnOIDCProvider(stack, jsii.String("Idp"), &awsiam.CfnOIDCProviderProps{Url: jsii.String("https://x")})
			}
			r := NewInvokeRole(stack, "UseCaseA", props)
			require.Len(t, r.Policies, len(tc.policies))
			tpl := assertions.Template_FromStack(stack, nil)
			tpl.ResourceCountIs(jsii.String("AWS::IAM::ManagedPolicy"), jsii.Number(len(tc.policies)))
			for _, n := range tc.policyNames {
				tpl.HasResourceProperties(jsii.String("AWS::IAM::ManagedPolicy"), &map[string]any{
					"ManagedPolicyName": n,
					"Roles":             []any{map[string]any{"Ref": *stack.GetLogicalId(r.Role)}},
				})
			}
			role := assertions.Match_ObjectLike(&map[string]any{"Properties": map[string]any{"RoleName": "ACME-GenAI-UseCaseA-BedrockInvokeRole"}})
			if tc.withDep {
				role = assertions.Match_ObjectLike(&map[string]any{"DependsOn": []any{"Idp"}})
			}
			tpl.HasResource(jsii.String("AWS::IAM::Role"), role)
			assert.Equal(t, "UseCaseA", *r.Node().Id())
		})
	}
}
