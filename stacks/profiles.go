package stacks

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/constructs/governance"
	"github.com/acme/genai-estate/internal/estate"
)

// ProfileStackProps configures the stack of one model account's application
// inference profiles in one region.
type ProfileStackProps struct {
	awscdk.StackProps
	Config  *config.Config
	Account *estate.Account
	Set     *estate.ProfileSet
}

// ProfileStack holds a model account's application inference profiles in
// one region (a stack creates resources in its own region only) and the
// policies granting invoke through them, attached to the roles by name.
type ProfileStack struct {
	awscdk.Stack
	Profiles *governance.Profiles
}

// NewProfileStack creates the stack.
func NewProfileStack(scope constructs.Construct, id string, props *ProfileStackProps) *ProfileStack {
	a := props.Account
	sp := props.StackProps
	sp.Env = &awscdk.Environment{Account: jsii.String(a.Account), Region: jsii.String(props.Set.Region)}
	if sp.Description == nil {
		sp.Description = jsii.String("Application inference profiles of shared model account " + a.Name + " in " + props.Set.Region + ", one per role and granted model, tagged for cost attribution")
	}
	s := &ProfileStack{Stack: awscdk.NewStack(scope, jsii.String(id), &sp)}
	s.Profiles = governance.NewProfiles(s.Stack, "Profiles", &governance.ProfilesProps{Set: props.Set})
	return s
}
