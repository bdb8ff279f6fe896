package invokerole

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/cdktest"
	"github.com/acme/genai-estate/internal/estate"
	"github.com/acme/genai-estate/internal/iampolicy"
	"github.com/acme/genai-estate/internal/naming"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

func policy(provider string, part int) *estate.Policy {
	return &estate.Policy{
		Name:     naming.Policy{Org: "ACME", Layer: "GenAI", Subject: "UseCaseA", Provider: provider, PermissionType: "Invoke", Part: part},
		Document: iampolicy.New(iampolicy.Statement{Effect: "Allow", Action: estate.InvokeActions, Resource: []string{"arn:aws:bedrock:us-east-1::foundation-model/m"}}),
	}
}

func TestInvokeRoles(t *testing.T) {
	cfg := &config.Config{IdentityProvider: config.IdentityProvider{Name: "Okta", IssuerURL: "https://x", Audiences: []string{"gw"}}}
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
			role := &estate.Role{
				Name:      naming.Role{Org: "ACME", Layer: "GenAI", Subject: "UseCaseA", Capability: "BedrockInvoke"},
				TrustName: naming.TrustPolicy{Org: "ACME", Layer: "GenAI", Subject: "UseCaseA"},
				Kind:      "useCase", Description: "d", Policies: tc.policies,
				Trust: iampolicy.New(iampolicy.Statement{Effect: "Allow", Action: []string{"sts:AssumeRoleWithWebIdentity"}}),
			}
			a := &estate.Account{CreateProvider: tc.withDep, IdPName: naming.IdP{Org: "ACME", Provider: "Okta"}, Roles: []*estate.Role{role}, Shards: 1}
			r := NewInvokeRoles(stack, "Roles", &InvokeRolesProps{Config: cfg, Account: a})

			// Typed L1 constructs, for code that extends them.
			require.NotNil(t, r.Role("UseCaseA"))
			assert.Nil(t, r.Role("Other"))
			require.Len(t, r.Policies("UseCaseA"), len(tc.policies))
			assert.Equal(t, "ACME-GenAI-UseCaseA-BedrockInvokeRole", *r.Role("UseCaseA").RoleName())
			assert.Equal(t, tc.withDep, r.Provider() != nil)

			tpl := assertions.Template_FromStack(stack, nil)
			tpl.ResourceCountIs(jsii.String("AWS::IAM::ManagedPolicy"), jsii.Number(len(tc.policies)))
			for _, n := range tc.policyNames {
				tpl.HasResourceProperties(jsii.String("AWS::IAM::ManagedPolicy"), &map[string]any{
					"ManagedPolicyName": n,
					"Roles":             []any{map[string]any{"Ref": "UseCaseARole35DE483E"}},
				})
			}
			want := assertions.Match_ObjectLike(&map[string]any{"Properties": map[string]any{"RoleName": "ACME-GenAI-UseCaseA-BedrockInvokeRole"}})
			if tc.withDep {
				want = assertions.Match_ObjectLike(&map[string]any{"DependsOn": []any{"ACMEIdPOkta"}})
			}
			tpl.HasResource(jsii.String("AWS::IAM::Role"), want)
			tpl.HasOutput(jsii.String("UseCaseAArn38E03BB5"), &map[string]any{"Value": map[string]any{"Fn::GetAtt": []any{"UseCaseARole35DE483E", "Arn"}}})
		})
	}
}
