// Package orgpolicy generates the service control policies for the model
// accounts' organizational unit from the estate's plan: they close the doors
// into Bedrock that the invoke roles do not use. Each control is its own
// policy, so an estate opts out of one by not attaching it.
package orgpolicy

import (
	"fmt"
	"maps"
	"slices"

	"github.com/acme/genai-estate/internal/estate"
	"github.com/acme/genai-estate/internal/iampolicy"
)

// MaxSCPChars is AWS Organizations' limit on a service control policy.
const MaxSCPChars = 5120

// Policy is one generated SCP.
type Policy struct {
	Name        string // file name without .json
	Description string
	Document    iampolicy.Document
}

// DeployRolePattern matches the CDK deployment roles (cdk-<qualifier>-cfn-exec-role-…):
// the only principals that may change what the toolkit deploys.
const DeployRolePattern = "arn:aws:iam::*:role/cdk-*"

// Generate returns the policies for an estate, or an error when one cannot
// stay within the SCP size limit.
func Generate(e *estate.Estate) ([]Policy, error) {
	c := e.Config
	part := "aws"
	if len(e.Accounts) > 0 {
		part = e.Accounts[0].Partition
	}
	models, profiles, regions := map[string]bool{}, map[string]bool{}, map[string]bool{}
	global := false
	for _, a := range e.Accounts {
		for _, r := range a.Roles {
			for region, ids := range r.Grants {
				regions[region] = true
				for _, id := range ids {
					m, _ := c.Catalog.Lookup(id)
					if p := m.InferenceProfile; p != nil {
						profiles[id] = true
						models[p.Model] = true
						for _, d := range p.Regions {
							regions[d] = true // cross-region inference runs there
						}
						global = global || p.Global
						continue
					}
					models[id] = true
				}
			}
		}
	}
	invoke := estate.InvokeActions
	var granted []string
	for _, id := range slices.Sorted(maps.Keys(models)) {
		// Any region: the destinations of a granted profile, and (as an
		// empty region) the region-less ARN of a global profile's model.
		granted = append(granted, fmt.Sprintf("arn:%s:bedrock:*::foundation-model/%s", part, id))
	}
	for _, id := range slices.Sorted(maps.Keys(profiles)) {
		granted = append(granted, fmt.Sprintf("arn:%s:bedrock:*:*:inference-profile/%s", part, id))
	}
	// An application profile reaches only what it copies, which is checked
	// against the models above when the call is routed.
	granted = append(granted, fmt.Sprintf("arn:%s:bedrock:*:*:application-inference-profile/*", part))
	allowedRegions := slices.Sorted(maps.Keys(regions))
	if global {
		allowedRegions = append(allowedRegions, "unspecified")
	}
	deployer := map[string]map[string][]string{"ArnNotLike": {"aws:PrincipalArn": {DeployRolePattern}}}
	prefix := c.Org + "-" + c.Layer + "-"
	out := []Policy{
		{"DenyBedrockApiKeys", "Bedrock API keys (bearer tokens) are neither created nor used: every call is signed by a role the matrix grants.",
			iampolicy.New(
				iampolicy.Statement{Sid: "DenyBearerTokens", Effect: "Deny", Action: []string{"bedrock:CallWithBearerToken", "bedrock-mantle:CallWithBearerToken"}, Resource: []string{"*"}},
				iampolicy.Statement{Sid: "DenyBedrockApiKeyCreation", Effect: "Deny", Action: []string{"iam:CreateServiceSpecificCredential"}, Resource: []string{"*"},
					Condition: map[string]map[string][]string{"StringEquals": {"iam:ServiceSpecificCredentialServiceName": {"bedrock.amazonaws.com"}}}},
			)},
		{"DenyBedrockMantle", "The bedrock-mantle (OpenAI-compatible) surface is closed: the matrix grants bedrock-runtime calls only.",
			iampolicy.New(iampolicy.Statement{Sid: "DenyMantle", Effect: "Deny", Action: []string{"bedrock-mantle:*"}, Resource: []string{"*"}})},
		{"DenyUngrantedModels", "No one in these accounts invokes a model the matrix grants to no one.",
			iampolicy.New(iampolicy.Statement{Sid: "DenyUngrantedModels", Effect: "Deny", Action: invoke, NotResource: granted})},
		{"BedrockRegions", "Bedrock is invoked only in the estate's regions and the destination regions of its cross-region profiles.",
			iampolicy.New(iampolicy.Statement{Sid: "DenyOtherRegions", Effect: "Deny", Action: invoke, Resource: []string{"*"},
				Condition: map[string]map[string][]string{"StringNotEquals": {"aws:RequestedRegion": allowedRegions}}})},
		{"ProtectEstate", "Only the CDK deployment roles change the generated roles, policies, profiles and parameters.",
			iampolicy.New(
				iampolicy.Statement{Sid: "ProtectRolesAndPolicies", Effect: "Deny", Action: []string{
					"iam:AttachRolePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:DeleteRole", "iam:DeleteRolePermissionsBoundary",
					"iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary", "iam:PutRolePolicy", "iam:SetDefaultPolicyVersion",
					"iam:TagPolicy", "iam:TagRole", "iam:UntagPolicy", "iam:UntagRole", "iam:UpdateAssumeRolePolicy", "iam:UpdateRole", "iam:UpdateRoleDescription"},
					Resource:  []string{fmt.Sprintf("arn:%s:iam::*:role/%s*", part, prefix), fmt.Sprintf("arn:%s:iam::*:policy/%s*", part, prefix)},
					Condition: deployer},
				iampolicy.Statement{Sid: "ProtectParameters", Effect: "Deny", Action: []string{
					"ssm:AddTagsToResource", "ssm:DeleteParameter", "ssm:DeleteParameters", "ssm:LabelParameterVersion", "ssm:PutParameter", "ssm:RemoveTagsFromResource"},
					Resource: []string{fmt.Sprintf("arn:%s:ssm:*:*:parameter/%s/GenAIGateway/*", part, c.Org)}, Condition: deployer},
				iampolicy.Statement{Sid: "ProtectApplicationProfiles", Effect: "Deny", Action: []string{
					"bedrock:DeleteInferenceProfile", "bedrock:TagResource", "bedrock:UntagResource"},
					Resource: []string{fmt.Sprintf("arn:%s:bedrock:*:*:application-inference-profile/*", part)}, Condition: deployer},
			)},
	}
	if c.Logging != nil {
		// The audit trail: only the deployment roles and the toolkit's own
		// custom resource change or delete the logging configuration.
		protect := &out[len(out)-1].Document
		protect.Statement = append(protect.Statement, iampolicy.Statement{Sid: "ProtectInvocationLogging", Effect: "Deny", Action: estate.LoggingActions, Resource: []string{"*"},
			Condition: map[string]map[string][]string{"ArnNotLike": {"aws:PrincipalArn": {DeployRolePattern, fmt.Sprintf("arn:%s:iam::*:role/%s*", part, estate.LoggingConfiguratorPrefix(c))}}}},
			iampolicy.Statement{Sid: "ProtectInvocationLogGroup", Effect: "Deny", Action: []string{
				"logs:AssociateKmsKey", "logs:DeleteLogGroup", "logs:DeleteRetentionPolicy", "logs:DisassociateKmsKey", "logs:PutRetentionPolicy"},
				Resource: []string{fmt.Sprintf("arn:%s:logs:*:*:log-group:%s*", part, estate.InvocationLogGroup(c))}, Condition: deployer})
		out[len(out)-1].Description = "Only the CDK deployment roles change the generated roles, policies, profiles and parameters and the invocation log group; only they and the logging custom resource change the invocation logging configuration."
	}
	for _, p := range out {
		if n := p.Document.Size(); n > MaxSCPChars {
			// A NotResource Deny cannot be split: two would deny each other's models.
			return nil, fmt.Errorf("policy %s is %d characters, over the SCP limit of %d: grant fewer distinct models, or leave it out", p.Name, n, MaxSCPChars)
		}
	}
	return out, nil
}
