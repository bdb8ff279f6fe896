package stacks

import (
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/acme/genai-estate/estate"
)

// Estate is every stack built for an estate.
type Estate struct {
	ModelAccounts []*ModelAccountStack
}

// BuildProps says which parts of an estate to build.
type BuildProps struct {
	// Accounts limits the build to these model accounts; empty means all.
	Accounts []string
}

// Build adds the stacks of an estate to an app. Shard stacks depend on the
// first, which owns the account's OIDC provider.
func Build(app awscdk.App, e *estate.Estate, props *BuildProps) *Estate {
	out := &Estate{}
	c := e.Config
	for _, a := range e.Accounts {
		if props != nil && len(props.Accounts) > 0 && !slices.Contains(props.Accounts, a.Name) {
			continue
		}
		var first *ModelAccountStack
		for shard := range a.Shards {
			name := a.Stack(c.Org, c.Layer, shard)
			s := NewModelAccountStack(app, name, &ModelAccountStackProps{
				StackProps: awscdk.StackProps{StackName: jsii.String(name)},
				Config:     c, Account: a, Shard: shard,
			})
			if first == nil {
				first = s
			} else {
				s.AddDependency(first.Stack, jsii.String("the first stack owns the account's OIDC provider"))
			}
			out.ModelAccounts = append(out.ModelAccounts, s)
		}
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
