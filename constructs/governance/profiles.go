// Package governance holds the constructs of the estate's governance: the
// application inference profiles that attribute every call's cost to a use
// case, with the policies that grant invoke through them; model invocation
// logging; and the account-level enforced guardrail.
package governance

import (
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsbedrock"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/acme/genai-estate/internal/estate"
	"github.com/acme/genai-estate/internal/naming"
)

// ProfilesProps configures Profiles.
type ProfilesProps struct {
	Account *estate.Account
	Set     *estate.ProfileSet
}

// Profiles is one account's application inference profiles in one region,
// each role's policies granting invoke through them, and the parameters
// that tell the gateway their ARNs.
type Profiles struct {
	constructs.Construct
	Profiles   map[string]awsbedrock.CfnApplicationInferenceProfile // by profile name
	Policies   []awsiam.CfnManagedPolicy
	Parameters []awsssm.CfnParameter
	Logging    *InvocationLogging                           // nil when logging is off
	Enforced   awsbedrock.CfnEnforcedGuardrailConfiguration // nil without an enforced guardrail
}

// NewProfiles creates them. The plan's documents name each profile by a
// placeholder ARN of the real length (so their sizes were checked exactly);
// here each placeholder becomes the profile's InferenceProfileArn attribute.
func NewProfiles(scope constructs.Construct, id string, props *ProfilesProps) *Profiles {
	this := &Profiles{Construct: constructs.NewConstruct(scope, jsii.String(id)), Profiles: map[string]awsbedrock.CfnApplicationInferenceProfile{}}
	arns := map[string]string{}
	for _, p := range props.Set.Profiles {
		name := p.Name.String()
		tags := []*awscdk.CfnTag{
			{Key: jsii.String(naming.TagUseCase), Value: jsii.String(p.Role.Name.Subject)},
			{Key: jsii.String(naming.TagRoleKind), Value: jsii.String(p.Role.Kind)},
			{Key: jsii.String(naming.TagModel), Value: jsii.String(p.Model)},
		}
		cp := awsbedrock.NewCfnApplicationInferenceProfile(this.Construct, jsii.String(name), &awsbedrock.CfnApplicationInferenceProfileProps{
			InferenceProfileName: jsii.String(name),
			Description:          jsii.String("Calls of " + p.Role.Name.Subject + " to " + p.Model + " for cost attribution"),
			ModelSource:          &awsbedrock.CfnApplicationInferenceProfile_InferenceProfileModelSourceProperty{CopyFrom: jsii.String(p.Source)},
			Tags:                 &tags,
		})
		this.Profiles[name] = cp
		arns[p.Placeholder] = *cp.AttrInferenceProfileArn()
	}
	for _, pr := range props.Set.Roles {
		role := constructs.NewConstruct(this.Construct, jsii.String(pr.Role.Name.Subject))
		for _, p := range pr.Policies {
			childID := "ProfileInvokePolicy"
			if p.Name.Part > 1 {
				childID += strconv.Itoa(p.Name.Part)
			}
			this.Policies = append(this.Policies, awsiam.NewCfnManagedPolicy(role, jsii.String(childID), &awsiam.CfnManagedPolicyProps{
				ManagedPolicyName: jsii.String(p.Name.String()),
				Description:       jsii.String("Bedrock models of " + pr.Role.Name.Subject + " through its application inference profiles in " + props.Set.Region),
				PolicyDocument:    replace(p.Document.Value(), arns),
				// By name: the role lives in the account's main stack, deployed first.
				Roles: &[]interface{}{pr.Role.Name.String()},
			}))
		}
		tier := "Standard"
		if pr.Advanced {
			tier = "Advanced"
		}
		value := pr.ParameterValue
		for ph, arn := range arns {
			value = strings.ReplaceAll(value, ph, arn)
		}
		this.Parameters = append(this.Parameters, awsssm.NewCfnParameter(role, jsii.String("ProfileArns"), &awsssm.CfnParameterProps{
			Name:        jsii.String(pr.Parameter),
			Type:        jsii.String("String"),
			Tier:        jsii.String(tier),
			Value:       jsii.String(value),
			Description: jsii.String("Application inference profile ARN of each model " + pr.Role.Name.Subject + " may call here, for the gateway"),
		}))
	}
	a, set := props.Account, props.Set
	if set.Logging != nil {
		this.Logging = NewInvocationLogging(this.Construct, "InvocationLogging", &InvocationLoggingProps{
			Logging: set.Logging, Partition: a.Partition, Account: a.Account, Region: set.Region, LogGroupName: set.LogGroup, RoleName: set.ConfiguratorRole,
		})
	}
	if g := set.Enforced; g != nil {
		this.Enforced = awsbedrock.NewCfnEnforcedGuardrailConfiguration(this.Construct, jsii.String("EnforcedGuardrail"), &awsbedrock.CfnEnforcedGuardrailConfigurationProps{
			GuardrailIdentifier: jsii.String(estate.GuardrailArn(a.Partition, set.Region, a.Account, g.ID)),
			GuardrailVersion:    jsii.String(g.Version),
		})
		if p := set.EnforcedPolicy; p != nil {
			var roles []interface{}
			for _, r := range set.EnforcedRoles {
				roles = append(roles, r.Name.String())
			}
			this.Policies = append(this.Policies, awsiam.NewCfnManagedPolicy(this.Construct, jsii.String("EnforcedGuardrailPolicy"), &awsiam.CfnManagedPolicyProps{
				ManagedPolicyName: jsii.String(p.Name.String()),
				Description:       jsii.String("Applying the guardrail Bedrock enforces on every call in " + set.Region),
				PolicyDocument:    p.Document.Value(),
				Roles:             &roles,
			}))
		}
	}
	return this
}

// replace swaps placeholder strings for tokens in a policy document.
func replace(v any, arns map[string]string) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = replace(x, arns)
		}
		return v
	case []any:
		for i, x := range v {
			v[i] = replace(x, arns)
		}
		return v
	case string:
		if arn, ok := arns[v]; ok {
			return arn
		}
	}
	return v
}
