// Package invokerole is the construct of one Bedrock invoke role and its
// managed policies, rendered from an estate.Role whose documents were built
// and size-checked in Go.
package invokerole

import (
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/acme/genai-estate/internal/estate"
	"github.com/acme/genai-estate/internal/naming"
)

// InvokeRoleProps configures an InvokeRole.
type InvokeRoleProps struct {
	Role *estate.Role
	// DependsOn, when set, is created first (the account's OIDC provider).
	DependsOn awscdk.CfnResource
}

// InvokeRole is a role with its provider-scoped managed policies.
type InvokeRole struct {
	constructs.Construct
	Role     awsiam.CfnRole
	Policies []awsiam.CfnManagedPolicy
}

// NewInvokeRole creates the role and its policies. Child ids come from the
// provider names, so logical ids do not depend on list positions.
func NewInvokeRole(scope constructs.Construct, id string, props *InvokeRoleProps) *InvokeRole {
	this := &InvokeRole{Construct: constructs.NewConstruct(scope, jsii.String(id))}
	r := props.Role
	tags := []*awscdk.CfnTag{
		{Key: jsii.String(naming.TagUseCase), Value: jsii.String(r.Name.Subject)},
		{Key: jsii.String(naming.TagRoleKind), Value: jsii.String(r.Kind)},
		{Key: jsii.String(naming.TagTrustPolicy), Value: jsii.String(r.TrustName.String())},
	}
	this.Role = awsiam.NewCfnRole(this.Construct, jsii.String("Role"), &awsiam.CfnRoleProps{
		RoleName:                 jsii.String(r.Name.String()),
		Description:              jsii.String(r.Description),
		AssumeRolePolicyDocument: r.Trust.Value(),
		MaxSessionDuration:       jsii.Number(3600),
		Tags:                     &tags,
	})
	if props.DependsOn != nil {
		this.Role.AddResourceDependency(props.DependsOn, jsii.String("the role trusts the account's OIDC provider"))
	}
	for _, p := range r.Policies {
		childID := p.Name.Provider
		if p.Name.Part > 1 {
			childID += strconv.Itoa(p.Name.Part)
		}
		this.Policies = append(this.Policies, awsiam.NewCfnManagedPolicy(this.Construct, jsii.String(childID+"Policy"), &awsiam.CfnManagedPolicyProps{
			ManagedPolicyName: jsii.String(p.Name.String()),
			Description:       jsii.String("Bedrock models of " + r.Name.Subject + " from " + p.Name.Provider),
			PolicyDocument:    p.Document.Value(),
			Roles:             &[]interface{}{this.Role.Ref()},
		}))
	}
	return this
}
