// Package stacks holds the toolkit's CloudFormation stacks.
package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/constructs/invokerole"
	"github.com/acme/genai-estate/internal/estate"
)

// ModelAccountStackProps configures one stack (shard) of a shared model account.
type ModelAccountStackProps struct {
	awscdk.StackProps
	Config  *config.Config
	Account *estate.Account
	Shard   int
}

// ModelAccountStack holds a shared model account's OIDC provider (in its
// first shard) and the invoke roles assigned to the shard.
type ModelAccountStack struct {
	awscdk.Stack
	// Roles is the shard's roles, policies and ARN outputs, and the OIDC
	// provider when this shard creates it.
	Roles *invokerole.InvokeRoles
}

// NewModelAccountStack creates the stack.
func NewModelAccountStack(scope constructs.Construct, id string, props *ModelAccountStackProps) *ModelAccountStack {
	a := props.Account
	sp := props.StackProps
	sp.Env = &awscdk.Environment{Account: jsii.String(a.Account), Region: jsii.String(a.Region())}
	if sp.Description == nil {
		sp.Description = jsii.String(a.StackDescription())
	}
	s := &ModelAccountStack{Stack: awscdk.NewStack(scope, jsii.String(id), &sp)}
	// One jsii call for the whole shard (see package invokerole). More
	// resources of a model account go in constructs of their own here.
	s.Roles = invokerole.NewInvokeRoles(s.Stack, "Roles", &invokerole.InvokeRolesProps{Config: props.Config, Account: a, Shard: props.Shard})
	return s
}
