// Package invokerole is the construct of a model-account shard: its Bedrock
// invoke roles, their provider-scoped managed policies and ARN outputs, and
// (in the first shard) the account's OIDC provider.
//
// The resources are rendered in Go (estate.Account.ShardTemplate, from
// documents built and size-checked there) and handed to CDK in one jsii
// call (package include). CDK still creates a real L1 construct (CfnRole,
// CfnManagedPolicy, CfnOIDCProvider) for each resource, so tags, aspects
// and cdk-nag see them as before; Role, Policies and Provider look one up
// for code that extends it.
package invokerole

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/estate"
	"github.com/acme/genai-estate/internal/include"
)

// InvokeRolesProps configures InvokeRoles.
type InvokeRolesProps struct {
	Config  *config.Config
	Account *estate.Account
	Shard   int
}

// InvokeRoles is one shard's roles, policies, outputs and provider.
type InvokeRoles struct {
	constructs.Construct
	account *estate.Account
	shard   int
}

// NewInvokeRoles creates the shard's resources. Their logical ids are
// estate's (the ids of the per-role constructs this replaced).
func NewInvokeRoles(scope constructs.Construct, id string, props *InvokeRolesProps) *InvokeRoles {
	c := include.New(scope, id, props.Account.ShardTemplate(props.Config, props.Shard).JSON())
	return &InvokeRoles{Construct: c, account: props.Account, shard: props.Shard}
}

// Role returns the role of a use case, group or vendor, or nil when it is
// not in this shard.
func (i *InvokeRoles) Role(subject string) awsiam.CfnRole {
	for _, r := range i.account.ShardRoles(i.shard) {
		if r.Name.Subject == subject {
			return i.Node().FindChild(jsii.String(r.RoleID())).(awsiam.CfnRole)
		}
	}
	return nil
}

// Policies returns the managed policies of a role in this shard.
func (i *InvokeRoles) Policies(subject string) []awsiam.CfnManagedPolicy {
	var out []awsiam.CfnManagedPolicy
	for _, r := range i.account.ShardRoles(i.shard) {
		if r.Name.Subject == subject {
			for _, p := range r.Policies {
				out = append(out, i.Node().FindChild(jsii.String(r.PolicyID(p))).(awsiam.CfnManagedPolicy))
			}
		}
	}
	return out
}

// Provider returns the account's OIDC provider, or nil when this shard does
// not create it (another shard does, or the config imports it).
func (i *InvokeRoles) Provider() awsiam.CfnOIDCProvider {
	if !i.account.CreateProvider || i.shard != 0 {
		return nil
	}
	return i.Node().FindChild(jsii.String(i.account.ProviderID())).(awsiam.CfnOIDCProvider)
}
