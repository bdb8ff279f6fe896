// Package stacks holds the toolkit's CloudFormation stacks.
package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
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
	// Provider is nil when the provider is imported or lives in the first shard.
	Provider awsiam.CfnOIDCProvider
	Roles    map[string]*invokerole.InvokeRole // by use case or group name
}

// NewModelAccountStack creates the stack.
func NewModelAccountStack(scope constructs.Construct, id string, props *ModelAccountStackProps) *ModelAccountStack {
	a, c := props.Account, props.Config
	sp := props.StackProps
	sp.Env = &awscdk.Environment{Account: jsii.String(a.Account), Region: jsii.String(a.Region())}
	if sp.Description == nil {
		sp.Description = jsii.String("Bedrock invoke roles of shared model account " + a.Name + " (generated from the use-case/model matrix)")
	}
	s := &ModelAccountStack{Stack: awscdk.NewStack(scope, jsii.String(id), &sp), Roles: map[string]*invokerole.InvokeRole{}}

	var dep awscdk.CfnResource
	if a.CreateProvider && props.Shard == 0 {
		idp := c.IdentityProvider
		p := &awsiam.CfnOIDCProviderProps{
			Url:          jsii.String(idp.IssuerURL),
			ClientIdList: jsii.Strings(idp.Audiences...),
			Tags:         &[]*awscdk.CfnTag{{Key: jsii.String("Name"), Value: jsii.String(a.IdPName.String())}},
		}
		if len(idp.Thumbprints) > 0 {
			p.ThumbprintList = jsii.Strings(idp.Thumbprints...)
		}
		// The construct id is the IdP's convention name, so its logical id reads as one.
		s.Provider = awsiam.NewCfnOIDCProvider(s.Stack, jsii.String(a.IdPName.String()), p)
		dep = s.Provider
	}
	for _, r := range a.ShardRoles(props.Shard) {
		ir := invokerole.NewInvokeRole(s.Stack, r.Name.Subject, &invokerole.InvokeRoleProps{Role: r, DependsOn: dep})
		s.Roles[r.Name.Subject] = ir
		// Inside the role's construct, so no use case name can collide with it.
		awscdk.NewCfnOutput(ir.Construct, jsii.String("Arn"), &awscdk.CfnOutputProps{
			Value:       ir.Role.AttrArn(),
			Description: jsii.String("ARN of " + r.Name.String()),
		})
	}
	return s
}
