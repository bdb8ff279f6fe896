package stacks

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodepipeline"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/pipelines"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/config/field"
	"github.com/acme/genai-estate/internal/arn"
	"github.com/acme/genai-estate/internal/bootstrap"
	"github.com/acme/genai-estate/internal/deployplan"
	"github.com/acme/genai-estate/internal/estate"
)

// PipelineStackProps configures one pipeline stack.
type PipelineStackProps struct {
	awscdk.StackProps
	Estate *estate.Estate
	// Index and Count say which pipeline of how many this is: past
	// CodePipeline's quotas the waves continue in a next pipeline.
	Index, Count int
	// Waves are this pipeline's share of the layout.
	Waves []deployplan.PipelineWave
	// Stages hold the estate's stacks, by deployment group.
	Stages map[string]awscdk.Stage
}

// PipelineStack is a self-mutating CDK Pipelines CodePipeline (V2) in the
// tooling account that deploys its share of the estate's stages in waves.
// Deployments use each target account's CDK bootstrap roles, which trust the
// tooling account (BootstrapStack), with cross-account artifact keys.
type PipelineStack struct {
	awscdk.Stack
	Pipeline pipelines.CodePipeline
	// Source is the repository and branch the pipeline builds.
	Source pipelines.CodePipelineSource
}

// Names in the pipeline that its own steps refer to.
const (
	sourceAction      = "Source"
	reviewWave        = "Review"
	reviewStep        = "AccessPlan"
	approvalStep      = "ApproveBroadening"
	awaitPreviousStep = "AwaitPreviousPipeline"
	awaitPreviousWave = "AwaitPrevious"
)

// SynthCommands are the README's quick-start commands, run by the synth step.
var SynthCommands = []string{
	"npm ci --no-audit --no-fund --ignore-scripts",
	"go test ./...",
	"npx cdk synth --quiet",
}

// NewPipelineStack builds one pipeline.
func NewPipelineStack(scope constructs.Construct, id string, props *PipelineStackProps) *PipelineStack {
	c := props.Estate.Config
	p := c.Pipeline
	sp := props.StackProps
	sp.Env = &awscdk.Environment{Account: jsii.String(p.Account), Region: jsii.String(p.Region)}
	// A pipeline of ~490 stacks' actions is close to CloudFormation's 1 MB
	// template limit when indented.
	sp.SuppressTemplateIndentation = jsii.Bool(true)
	if sp.Description == nil {
		sp.Description = jsii.String(fmt.Sprintf("GenAI estate deployment pipeline %d of %d: waves %s", props.Index+1, props.Count, waveRange(props.Waves)))
	}
	s := &PipelineStack{Stack: awscdk.NewStack(scope, jsii.String(id), &sp)}
	// Only the first pipeline starts on a push; the others start on the same
	// push but wait for the previous pipeline to deploy that commit.
	s.Source = pipelines.CodePipelineSource_Connection(jsii.String(p.Repository), jsii.String(p.Branch), &pipelines.ConnectionSourceOptions{
		ConnectionArn: jsii.String(p.ConnectionArn),
		ActionName:    jsii.String(sourceAction),
		// The review step reads the previously deployed commit's config.
		CodeBuildCloneOutput: jsii.Bool(props.Index == 0),
	})
	synth := pipelines.NewShellStep(jsii.String("Synth"), &pipelines.ShellStepProps{
		Input:                  s.Source,
		Commands:               jsii.Strings(SynthCommands...),
		PrimaryOutputDirectory: jsii.String("cdk.out"),
	})
	s.Pipeline = pipelines.NewCodePipeline(s.Stack, jsii.String("Pipeline"), &pipelines.CodePipelineProps{
		PipelineName: jsii.String(id),
		PipelineType: awscodepipeline.PipelineType_V2,
		Synth:        synth,
		SelfMutation: jsii.Bool(true),
		// Self-mutation and asset publishing use the pinned CLI, not the latest.
		CliVersion:        jsii.String(bootstrap.CLIVersion),
		CrossAccountKeys:  jsii.Bool(true),
		EnableKeyRotation: jsii.Bool(true),
		// One role for the pipeline's own actions instead of one per action,
		// each trusting the account root.
		UsePipelineRoleForActions: jsii.Bool(true),
		// Go from go.mod (GOTOOLCHAIN=auto fetches it) and Node for the CDK CLI.
		CodeBuildDefaults: &pipelines.CodeBuildOptions{
			BuildEnvironment: &awscodebuild.BuildEnvironment{
				BuildImage:  awscodebuild.LinuxBuildImage_STANDARD_7_0(),
				ComputeType: awscodebuild.ComputeType_MEDIUM,
			},
			PartialBuildSpec: awscodebuild.BuildSpec_FromObject(&map[string]interface{}{
				"env":    map[string]interface{}{"variables": map[string]interface{}{"GOTOOLCHAIN": "auto", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}},
				"phases": map[string]interface{}{"install": map[string]interface{}{"runtime-versions": map[string]interface{}{"golang": "latest", "nodejs": "latest"}}},
			}),
		},
	})
	arn := func(name string) string {
		return arn.Regional(*s.Partition(), "codepipeline", p.Region, p.Account, name)
	}
	for i, w := range props.Waves {
		opts := &pipelines.WaveOptions{}
		if i == 0 && props.Index == 0 {
			s.Pipeline.AddWave(jsii.String(reviewWave), &pipelines.WaveOptions{Pre: reviewSteps(c, s, arn(id))})
		}
		if i == 0 && props.Index > 0 {
			// Its own stage: a full wave already holds a stage's 50 actions.
			prev := deployplan.PipelineStackName(c, props.Index-1)
			s.Pipeline.AddWave(jsii.String(awaitPreviousWave), &pipelines.WaveOptions{Pre: &[]pipelines.Step{awaitPrevious(s, prev, arn(prev))}})
		}
		var steps []pipelines.Step
		for _, st := range w.Stages {
			if _, staged := props.Stages[st.Name]; !staged {
				steps = append(steps, cdkDeploy(s, synth, st))
			}
		}
		if len(steps) > 0 {
			opts.Pre = &steps
		}
		wave := s.Pipeline.AddWave(jsii.String(w.Name), opts)
		for _, st := range w.Stages {
			if stage, staged := props.Stages[st.Name]; staged {
				wave.AddStage(stage, nil)
			}
		}
	}
	// Built now rather than at synth, so that the cross-region support
	// stacks it adds (an artifact bucket per deploy region) exist to be vetted.
	s.Pipeline.BuildPipeline()
	suppressPipelineFindings(s.Stack)
	for _, child := range *scope.Node().Children() {
		if *awscdk.Stack_IsStack(child) && strings.HasPrefix(*child.Node().Id(), "cross-region-stack-") {
			suppressPipelineFindings(child.(awscdk.Stack))
		}
	}
	return s
}

// suppressPipelineFindings records why cdk-nag's findings on CDK Pipelines'
// own resources are accepted: they are the construct library's grants on its
// own projects, buckets and keys, and none reaches Bedrock or a model account.
func suppressPipelineFindings(s awscdk.Stack) {
	cdknag.NagSuppressions_AddStackSuppressions(s, &[]*cdknag.NagPackSuppression{
		{Id: jsii.String("AwsSolutions-IAM5"), Reason: jsii.String("CDK Pipelines' generated grants: its CodeBuild projects' log and report groups, the artifact buckets' objects and keys, and sts:AssumeRole on the CDK bootstrap roles (tagged aws-cdk:bootstrap-role) of the target accounts.")},
		{Id: jsii.String("AwsSolutions-CB3"), Reason: jsii.String("The central and RAG stacks' deploy steps build their container image assets with Docker, which needs privileged mode.")},
		{Id: jsii.String("AwsSolutions-S1"), Reason: jsii.String("Pipeline artifact buckets hold build outputs only, encrypted with the pipeline's key; CloudTrail records their use.")},
	}, jsii.Bool(false))
}

func waveRange(ws []deployplan.PipelineWave) string {
	if len(ws) == 0 {
		return "none"
	}
	return ws[0].Name + "-" + ws[len(ws)-1].Name
}

// reviewSteps are the access review: `estatectl plan -fail-on broadening`
// from the last deployed commit's config to this one, next to a manual
// approval that the review approves itself when nothing broadens. CodePipeline
// cannot add an approval at run time, so the approval is always there and is
// left pending, for a person, only when access broadens (or on the first
// deployment, when nothing is deployed to compare with).
func reviewSteps(c *config.Config, s *PipelineStack, pipelineArn string) *[]pipelines.Step {
	p := c.Pipeline
	pipeline := deployplan.PipelineStackName(c, 0)
	file := repoPath(c)
	plan := "go run ./cmd/estatectl plan -base /tmp/base.yaml -head " + file
	var commands []string
	commands = append(commands,
		"set -u",
		// The config as of the last successful deployment.
		fmt.Sprintf(`BASE=$(aws codepipeline list-pipeline-executions --pipeline-name %s --query "pipelineExecutionSummaries[?status=='Succeeded'] | [0].sourceRevisions[0].revisionId" --output text)`, pipeline),
	)
	if !*p.ManualApprovalOnBroadening {
		commands = append(commands,
			`if git show "$BASE:`+file+`" > /tmp/base.yaml 2>/dev/null; then `+plan+`; else echo "first deployment: nothing to compare with"; fi`,
		)
		return &[]pipelines.Step{pipelines.NewCodeBuildStep(jsii.String(reviewStep), &pipelines.CodeBuildStepProps{
			Input:                s.Source,
			Commands:             jsii.Strings(commands...),
			RolePolicyStatements: &[]awsiam.PolicyStatement{listExecutions(pipelineArn)},
		})}
	}
	token := fmt.Sprintf(`aws codepipeline get-pipeline-state --name %s --query "stageStates[?stageName=='%s'].actionStates[] | [?actionName=='%s'].latestExecution.token | [0]" --output text`, pipeline, reviewWave, approvalStep)
	commands = append(commands,
		`if git show "$BASE:`+file+`" > /tmp/base.yaml 2>/dev/null; then `+plan+` -fail-on broadening; rc=$?; else echo "first deployment: everything is new"; rc=3; fi`,
		`if [ "$rc" = 3 ]; then echo "access broadens: approve `+approvalStep+` after reading the plan above"; exit 0; fi`,
		`if [ "$rc" != 0 ]; then exit "$rc"; fi`,
		// The approval runs beside this step; wait for its token, then approve.
		`for i in $(seq 60); do TOKEN=$(`+token+`); [ -n "$TOKEN" ] && [ "$TOKEN" != None ] && break; sleep 5; done`,
		fmt.Sprintf(`aws codepipeline put-approval-result --pipeline-name %s --stage-name %s --action-name %s --token "$TOKEN" --result "summary=estatectl plan: no access broadens,status=Approved"`, pipeline, reviewWave, approvalStep),
	)
	review := pipelines.NewCodeBuildStep(jsii.String(reviewStep), &pipelines.CodeBuildStepProps{
		Input:    s.Source,
		Commands: jsii.Strings(commands...),
		RolePolicyStatements: &[]awsiam.PolicyStatement{
			listExecutions(pipelineArn),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions:   jsii.Strings("codepipeline:GetPipelineState"),
				Resources: jsii.Strings(pipelineArn),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions:   jsii.Strings("codepipeline:PutApprovalResult"),
				Resources: jsii.Strings(pipelineArn + "/" + reviewWave + "/" + approvalStep),
			}),
		},
	})
	approval := pipelines.NewManualApprovalStep(jsii.String(approvalStep), &pipelines.ManualApprovalStepProps{
		Comment: jsii.String("Access broadens (or this is the first deployment): read the " + reviewStep + " step's log, the output of `estatectl plan`, before approving."),
	})
	return &[]pipelines.Step{review, approval}
}

func listExecutions(pipelineArn string) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("codepipeline:ListPipelineExecutions"),
		Resources: jsii.Strings(pipelineArn),
	})
}

// cdkDeploy deploys a group of stacks that stay outside any CDK stage (the
// central and RAG stacks: some of their logical ids are hashed from
// construct paths, which a stage would change, so CloudFormation would
// replace those resources) with the pinned CDK CLI, from the synthesized
// assembly, through the target account's bootstrap roles.
func cdkDeploy(s *PipelineStack, synth pipelines.IFileSetProducer, st deployplan.Stage) pipelines.Step {
	var names, accounts []string
	for _, x := range st.Stacks {
		names = append(names, x.Stack)
		accounts = append(accounts, x.Account)
	}
	slices.Sort(accounts)
	var roles []string
	for _, a := range slices.Compact(accounts) {
		roles = append(roles, arn.Role(*s.Partition(), a, "/", "cdk-"+bootstrap.Qualifier+"-*"))
	}
	return pipelines.NewCodeBuildStep(jsii.String("Deploy"+st.Name), &pipelines.CodeBuildStepProps{
		Input: synth,
		Commands: jsii.Strings(fmt.Sprintf("npx --yes aws-cdk@%s deploy --app . --exclusively --require-approval never --concurrency %d %s",
			bootstrap.CLIVersion, len(names), strings.Join(names, " "))),
		// Container image assets are built and pushed by the CLI.
		BuildEnvironment: &awscodebuild.BuildEnvironment{Privileged: jsii.Bool(true)},
		RolePolicyStatements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:   jsii.Strings("sts:AssumeRole"),
			Resources: jsii.Strings(roles...),
		})},
	})
}

// awaitPrevious holds a later pipeline until the previous one has deployed
// the same commit, so the deploy plan's order holds across pipelines.
func awaitPrevious(s *PipelineStack, prev, prevArn string) pipelines.Step {
	status := fmt.Sprintf(`aws codepipeline list-pipeline-executions --pipeline-name %s --query "pipelineExecutionSummaries[?sourceRevisions[0].revisionId=='$COMMIT_ID'].status | [0]" --output text`, prev)
	return pipelines.NewCodeBuildStep(jsii.String(awaitPreviousStep), &pipelines.CodeBuildStepProps{
		Env: &map[string]*string{"COMMIT_ID": s.Source.SourceAttribute(jsii.String("CommitId"))},
		Commands: jsii.Strings(
			`while true; do STATUS=$(` + status + `); echo "` + prev + ` at $COMMIT_ID: $STATUS"; case "$STATUS" in Succeeded) exit 0;; Failed|Stopped|Superseded|Cancelled) exit 1;; esac; sleep 60; done`,
		),
		Timeout:              awscdk.Duration_Hours(jsii.Number(8)),
		RolePolicyStatements: &[]awsiam.PolicyStatement{listExecutions(prevArn)},
	})
}

// buildWithPipelines builds each model account's stacks inside a CDK stage
// (its shards, deployed together), the central and RAG stacks as usual (a
// `cdk deploy` step deploys them), then the pipelines that deploy these in
// the deploy plan's waves, and the bootstrap StackSet stack. Stacks keep
// their names, explicit environments and templates.
func buildWithPipelines(app awscdk.App, e *estate.Estate, props *BuildProps) *Estate {
	c := e.Config
	stages := map[string]awscdk.Stage{}
	inner := BuildProps{}
	if props != nil {
		inner = *props
	}
	accounts := map[string]bool{}
	for _, a := range e.Accounts {
		accounts[a.Name] = true
	}
	inner.Scope = func(group string) constructs.Construct {
		if !accounts[group] {
			return app // deployed by a `cdk deploy` step (cdkDeploy)
		}
		if st, ok := stages[group]; ok {
			return st
		}
		st := awscdk.NewStage(app, jsii.String(group), nil)
		// Aspects (tags, cdk-nag) stop at a stage boundary: add them to each stage.
		awscdk.Aspects_Of(st).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
		tags := awscdk.Tags_Of(st)
		for _, t := range e.Tags {
			tags.Add(jsii.String(t.Key), jsii.String(t.Value), nil)
		}
		stages[group] = st
		return st
	}
	out := Build(app, e, &inner)
	layout, err := deployplan.Layout(deployable(e, out), c.Pipeline.WaveSize)
	if err != nil {
		// FromContext checks the layout first (CheckPipeline).
		panic(err)
	}
	// Every stack built is deployed exactly once.
	placed := map[string]int{}
	for _, waves := range layout {
		for _, w := range waves {
			for _, name := range w.StackNames() {
				placed[name]++
			}
		}
	}
	for _, st := range out.Stacks() {
		if n := placed[*st.StackName()]; n != 1 {
			panic(fmt.Sprintf("stack %s is in %d pipeline waves: the deploy plan and the app disagree", *st.StackName(), n))
		}
	}
	for i, waves := range layout {
		name := deployplan.PipelineStackName(c, i)
		out.Pipelines = append(out.Pipelines, NewPipelineStack(app, name, &PipelineStackProps{
			StackProps: awscdk.StackProps{StackName: jsii.String(name)},
			Estate:     e, Index: i, Count: len(layout), Waves: waves, Stages: stages,
		}))
	}
	if c.Pipeline.Bootstrap != nil {
		name := deployplan.BootstrapStackName(c)
		out.Bootstrap = NewBootstrapStack(app, name, &BootstrapStackProps{StackProps: awscdk.StackProps{StackName: jsii.String(name)}, Estate: e})
	}
	return out
}

// deployable describes the stacks Build built for the deploy plan: the model
// accounts' as the plan knows them, the others by what they are.
func deployable(e *estate.Estate, out *Estate) []deployplan.Stack {
	known := map[string]deployplan.Stack{}
	for _, s := range deployplan.ModelAccountStacks(e) {
		known[s.Name] = s
	}
	var list []deployplan.Stack
	env := func(s awscdk.Stack) (string, string) { return *s.Account(), *s.Region() }
	for _, s := range out.ModelAccounts {
		list = append(list, known[*s.StackName()])
	}
	if out.Central != nil {
		a, r := env(out.Central.Stack)
		list = append(list, deployplan.Stack{Name: *out.Central.StackName(), Account: a, Region: r, Kind: deployplan.Central, Group: deployplan.CentralGroup})
	}
	if out.RAGBase != nil {
		a, r := env(out.RAGBase.Stack)
		g := e.Config.RAG.Name
		base := *out.RAGBase.StackName()
		list = append(list,
			deployplan.Stack{Name: base, Account: a, Region: r, Kind: deployplan.Other, Group: g},
			deployplan.Stack{Name: *out.RAGLambda.StackName(), Account: a, Region: r, Kind: deployplan.Other, Group: g, DependsOn: []string{base}})
	}
	// Any other stack: part of its model account when built in the account's
	// stage, otherwise deployed on its own after the rest.
	listed := map[string]bool{}
	for _, s := range list {
		listed[s.Name] = true
	}
	for _, st := range out.Stacks() {
		name := *st.StackName()
		if listed[name] {
			continue
		}
		a, r := env(st)
		s := deployplan.Stack{Name: name, Account: a, Region: r, Kind: deployplan.Other, Group: name}
		if parent := st.Node().Scope(); parent != nil && parent.Node().Scope() != nil && *awscdk.Stage_IsStage(parent) {
			s.Kind, s.Group = deployplan.ModelAccount, *parent.Node().Id()
		}
		for _, d := range *st.Dependencies() {
			s.DependsOn = append(s.DependsOn, *d.StackName())
		}
		list = append(list, s)
	}
	return list
}

// CheckPipeline reports, located at pipeline.waveSize, an estate whose
// stages do not fit the pipeline's waves.
func CheckPipeline(e *estate.Estate) error {
	c := e.Config
	if c.Pipeline == nil {
		return nil
	}
	if _, err := deployplan.Layout(deployplan.FromEstate(e), c.Pipeline.WaveSize); err != nil {
		p := field.NewPath("pipeline", "waveSize")
		if _, set := c.Pos[p.String()]; !set {
			p = p.Parent() // a default waveSize: the pipeline is what to change
		}
		rep := c.Report()
		rep.AddAt(p, config.KindLimit, fmt.Sprintf("raise waveSize (at most %d), or pin fewer stackShards on the account", config.MaxPipelineWaveSize), "%s", err)
		return rep.List.Err()
	}
	return nil
}

// repoPath is the config's path in the repository, as the pipeline's steps
// see it: the app reads the default path unless told otherwise.
func repoPath(c *config.Config) string {
	if c.File == "" || filepath.IsAbs(c.File) || strings.HasPrefix(c.File, "..") {
		return config.DefaultPath
	}
	return filepath.ToSlash(c.File)
}
