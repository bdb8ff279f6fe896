package stacks

import (
	"strings"

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
// policies granting invoke through them, attached to the roles by name;
// and the account's invocation logging and enforced guardrail there.
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
		sp.Description = jsii.String(description(a, props.Set))
	}
	s := &ProfileStack{Stack: awscdk.NewStack(scope, jsii.String(id), &sp)}
	s.Profiles = governance.NewProfiles(s.Stack, "Profiles", &governance.ProfilesProps{Account: a, Set: props.Set})
	return s
}

// description says what the stack holds; a stack with profiles only keeps
// the description it was first deployed with.
func description(a *estate.Account, set *estate.ProfileSet) string {
	var parts []string
	if len(set.Profiles) > 0 {
		parts = append(parts, "application inference profiles, one per role and granted model, tagged for cost attribution")
	}
	if set.Logging != nil {
		parts = append(parts, "model invocation logging")
	}
	if set.Enforced != nil {
		parts = append(parts, "the enforced guardrail")
	}
	if len(parts) == 1 && len(set.Profiles) > 0 {
		return "Application inference profiles of shared model account " + a.Name + " in " + set.Region + ", one per role and granted model, tagged for cost attribution"
	}
	return "Governance of shared model account " + a.Name + " in " + set.Region + ": " + strings.Join(parts, "; ")
}
