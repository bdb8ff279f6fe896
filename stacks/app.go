package stacks

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/checks"
	"github.com/acme/genai-estate/internal/deployplan"
	"github.com/acme/genai-estate/internal/estate"
)

// DefaultConfig is the config read when the `config` context key is unset.
const DefaultConfig = config.DefaultPath

// FromContext plans the estate named by the app's context, in pure Go:
// `config` (a path) and `accounts` (comma-separated model account names).
func FromContext(app awscdk.App) (*estate.Estate, *BuildProps, error) {
	path := contextString(app, "config", DefaultConfig)
	props := &BuildProps{}
	if s := contextString(app, "accounts", ""); s != "" {
		props.Accounts = strings.Split(s, ",")
	}
	c, err := config.Load(path)
	Trace("config")
	if err != nil {
		return nil, nil, err
	}
	var list config.ErrorList
	var names []string
	for _, a := range c.ModelAccounts {
		names = append(names, a.Name)
	}
	for _, name := range props.Accounts {
		if _, ok := c.Account(name); !ok {
			list = append(list, &config.Error{File: "cdk context", Path: "accounts", Problem: fmt.Sprintf("unknown model account %q in %s", name, path),
				Fix: config.DidYouMean(name, names, "use names from modelAccounts: "+strings.Join(names, ","))})
		}
	}
	if len(list) > 0 {
		return nil, nil, list
	}
	e, err := estate.Build(c)
	if err == nil && len(props.Accounts) == 0 {
		err = CheckPipeline(e)
	}
	Trace("plan")
	return e, props, err
}

// Synth writes the cloud assembly and runs the toolkit's own checks on it, in
// pure Go (internal/checks): security rules on every resource, template size,
// no empty stack, CDK's template-size warning. Findings come back as
// checks.Findings, each on its construct path; the app prints them and exits 1.
func Synth(app awscdk.Stage) (dir string, err error) {
	dir = *app.Synth(nil).Directory()
	Trace("synth")
	found, err := checks.Assembly(dir)
	Trace("checks")
	if err != nil {
		return dir, err
	}
	if len(found) > 0 {
		return dir, found
	}
	return dir, nil
}

// Trace marks the end of a phase of the app (config, plan, constructs,
// synth, checks); the app sets it to print timings for scripts/bench-synth.sh.
var Trace = func(phase string) {}

func contextString(app awscdk.App, key, def string) string {
	if v, ok := app.Node().TryGetContext(jsii.String(key)).(string); ok && v != "" {
		return v
	}
	return def
}

// Estate is every stack built for an estate.
type Estate struct {
	// Central is nil when -c accounts limits the build to model accounts.
	Central       *CentralStack
	ModelAccounts []*ModelAccountStack
	// Profiles are the model accounts' application inference profile stacks.
	Profiles []*ProfileStack
	// RAGBase and RAGLambda are nil when the config has no rag section.
	RAGBase   *RAGBaseStack
	RAGLambda *RAGLambdaStack
	// Pipelines and Bootstrap are built for a config with a pipeline section.
	Pipelines []*PipelineStack
	Bootstrap *BootstrapStack
}

// Stacks lists every stack built, in a stable order.
func (e *Estate) Stacks() []awscdk.Stack {
	var out []awscdk.Stack
	if e.Central != nil {
		out = append(out, e.Central.Stack)
	}
	for _, s := range e.ModelAccounts {
		out = append(out, s.Stack)
	}
	for _, s := range e.Profiles {
		out = append(out, s.Stack)
	}
	if e.RAGBase != nil {
		out = append(out, e.RAGBase.Stack, e.RAGLambda.Stack)
	}
	for _, p := range e.Pipelines {
		out = append(out, p.Stack)
	}
	if e.Bootstrap != nil {
		out = append(out, e.Bootstrap.Stack)
	}
	return out
}

// BuildProps says which parts of an estate to build.
type BuildProps struct {
	// Accounts limits the build to these model accounts; empty means all.
	Accounts []string
	// Scope, when set, gives the construct that holds the stacks of a
	// deployment group (deployplan.Stack.Group): a CDK Pipelines stage.
	Scope func(group string) constructs.Construct
}

// Build adds the stacks of an estate to an app, with cdk-nag's AwsSolutions
// pack on all of them (Synth adds the toolkit's own checks). Shard stacks
// depend on the first, which owns the account's OIDC provider.
func Build(app awscdk.App, e *estate.Estate, props *BuildProps) *Estate {
	out := &Estate{}
	c := e.Config
	if c.Pipeline != nil && (props == nil || (props.Scope == nil && len(props.Accounts) == 0)) {
		return buildWithPipelines(app, e, props)
	}
	scope := func(group string) constructs.Construct {
		if props == nil || props.Scope == nil {
			return app
		}
		return props.Scope(group)
	}
	// Strong references (exports) protect the base stack's resources while
	// the Lambda stack uses them; set explicitly rather than by default.
	const strength = "@aws-cdk/core:defaultCrossStackReferences"
	if app.Node().TryGetContext(jsii.String(strength)) == nil {
		app.Node().SetContext(jsii.String(strength), "strong")
	}
	// CDK records where each construct was created, from node's stack: for
	// a Go app that is only the jsii kernel's frames ("no user code"), and
	// capturing it was ~15% of node's time in the model-account includes at
	// 50 x 400; only the assembly's *.metadata.json changes. Off unless
	// set in context; CDK_DEBUG (cdk --debug) still records it.
	const traces = "aws:cdk:disable-creation-stack-traces"
	if app.Node().TryGetContext(jsii.String(traces)) == nil {
		app.Node().SetContext(jsii.String(traces), true)
	}
	// cdk-nag's AwsSolutions pack runs in node as an aspect; the toolkit's
	// own checks run in Go on the written assembly (Synth), not as callbacks.
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	// Tagged once, at the app: every taggable resource of every stack gets them.
	tags := awscdk.Tags_Of(app)
	for _, t := range e.Tags {
		tags.Add(jsii.String(t.Key), jsii.String(t.Value), nil)
	}
	for _, a := range e.Accounts {
		if props != nil && len(props.Accounts) > 0 && !slices.Contains(props.Accounts, a.Name) {
			continue
		}
		var first *ModelAccountStack
		n := len(out.ModelAccounts)
		// A shard the hash left without roles would be a stack without
		// resources, which CloudFormation rejects: it is skipped.
		for _, shard := range a.UsedShards() {
			name := a.Stack(c.Org, c.Layer, shard)
			s := NewModelAccountStack(scope(a.Name), name, &ModelAccountStackProps{
				StackProps: awscdk.StackProps{StackName: jsii.String(name)},
				Config:     c, Account: a, Shard: shard,
			})
			if first == nil {
				first = s
			} else {
				s.AddStackDependency(first.Stack, jsii.String("the first stack owns the account's OIDC provider"))
			}
			out.ModelAccounts = append(out.ModelAccounts, s)
		}
		for _, set := range a.Profiles {
			ps := NewProfileStack(scope(a.Name), set.Stack, &ProfileStackProps{StackProps: awscdk.StackProps{StackName: jsii.String(set.Stack)}, Config: c, Account: a, Set: set})
			for _, main := range out.ModelAccounts[n:] {
				ps.AddStackDependency(main.Stack, jsii.String("the policies attach to the account's roles by name"))
			}
			out.Profiles = append(out.Profiles, ps)
		}
	}
	// Without a gateway the central stack would hold no resource, which
	// CloudFormation rejects: no stack then.
	if c.Central.Gateway != nil && (props == nil || len(props.Accounts) == 0) {
		name := CentralStackName(c)
		out.Central = NewCentralStack(scope(deployplan.CentralGroup), name, &CentralStackProps{StackProps: awscdk.StackProps{StackName: jsii.String(name)}, Estate: e})
	}
	if c.RAG != nil && (props == nil || len(props.Accounts) == 0) {
		base, lambda := deployplan.RAGStackNames(c)
		out.RAGBase = NewRAGBaseStack(scope(c.RAG.Name), base, &RAGBaseStackProps{StackProps: awscdk.StackProps{StackName: jsii.String(base)}, Config: c})
		out.RAGLambda = NewRAGLambdaStack(scope(c.RAG.Name), lambda, &RAGLambdaStackProps{StackProps: awscdk.StackProps{StackName: jsii.String(lambda)}, Config: c, Base: out.RAGBase})
	}
	return out
}
