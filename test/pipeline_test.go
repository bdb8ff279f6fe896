package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/bootstrap"
	"github.com/acme/genai-estate/internal/deployplan"
	"github.com/acme/genai-estate/internal/estate"
	"github.com/acme/genai-estate/internal/fixture"
	"github.com/acme/genai-estate/stacks"
)

// pipelineSection turns any estate into a pipeline-deployed one.
const pipelineSection = `pipeline:
  account: "999999999999"
  region: us-east-1
  connectionArn: arn:aws:codeconnections:us-east-1:999999999999:connection/12345678-1234-1234-1234-123456789012
  repository: acme/genai-estate
  bootstrap:
    account: "888888888888"
    region: us-east-1
    organizationalUnitIds: [ou-ab12-models01, ou-ab12-models02]
`

// synthPipeline builds a config with the pipeline section, synthesizes it,
// and returns the plan, the estate and the cloud assembly directory.
func synthPipeline(t testing.TB, path string, data []byte) (*estate.Estate, *stacks.Estate, string) {
	t.Helper()
	c, err := config.Parse(path, append(data, []byte(pipelineSection)...))
	require.NoError(t, err)
	e, err := estate.Build(c)
	require.NoError(t, err)
	require.NoError(t, stacks.CheckPipeline(e))
	out := t.TempDir()
	app := awscdk.NewApp(&awscdk.AppProps{Context: withFlags(t, nil), Outdir: jsii.String(out)})
	built := stacks.Build(app, e, &stacks.BuildProps{})
	app.Synth(nil)
	return e, built, out
}

type pipelineTemplate struct {
	Resources map[string]struct {
		Type       string
		Properties json.RawMessage
	}
}

type cpStage struct {
	Name    string
	Actions []struct {
		Name          string
		RunOrder      int
		ActionTypeId  struct{ Category, Provider string }
		Configuration map[string]any
		RoleArn       any
	}
}

// pipelineStages reads a pipeline stack's CodePipeline stages from cdk.out.
func pipelineStages(t testing.TB, dir, stack string) (pipelineType string, stages []cpStage) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, stack+".template.json"))
	require.NoError(t, err)
	var tpl pipelineTemplate
	require.NoError(t, json.Unmarshal(b, &tpl))
	n := 0
	for _, r := range tpl.Resources {
		if r.Type != "AWS::CodePipeline::Pipeline" {
			continue
		}
		n++
		var p struct {
			PipelineType string
			Stages       []cpStage
		}
		require.NoError(t, json.Unmarshal(r.Properties, &p))
		pipelineType, stages = p.PipelineType, p.Stages
	}
	require.Equal(t, 1, n, "one CodePipeline in %s", stack)
	return pipelineType, stages
}

// deployed maps each stack a set of pipelines deploys to where: pipeline,
// stage index, and the number of change-set actions naming it.
type placement struct {
	pipeline, stage  int
	prepare, execute int
}

func checkPipelines(t *testing.T, dir string, pipelines []*stacks.PipelineStack) map[string]*placement {
	t.Helper()
	at := map[string]*placement{}
	for i, ps := range pipelines {
		fi, err := os.Stat(filepath.Join(dir, *ps.StackName()+".template.json"))
		require.NoError(t, err)
		assert.Less(t, fi.Size(), int64(1_000_000), "CloudFormation's template size limit")
		typ, stages := pipelineStages(t, dir, *ps.StackName())
		assert.Equal(t, "V2", typ)
		assert.LessOrEqual(t, len(stages), deployplan.MaxStagesPerPipeline)
		total := 0
		for si, st := range stages {
			assert.LessOrEqual(t, len(st.Actions), deployplan.MaxActionsPerStage, "stage %s", st.Name)
			assert.LessOrEqual(t, len(st.Actions), 100, "stage %s", st.Name)
			total += len(st.Actions)
			for _, a := range st.Actions {
				if a.ActionTypeId.Provider == "CodeBuild" && strings.HasPrefix(a.Name, "Deploy") {
					// A `cdk deploy` step: the central or RAG stacks.
					assert.NotContains(t, at, a.Name)
					at[a.Name] = &placement{pipeline: i, stage: si, prepare: 1, execute: 1}
					continue
				}
				if a.ActionTypeId.Provider != "CloudFormation" {
					continue
				}
				name, _ := a.Configuration["StackName"].(string)
				p := at[name]
				if p == nil {
					p = &placement{pipeline: i, stage: si}
					at[name] = p
				}
				assert.Equal(t, placement{pipeline: i, stage: si}, placement{pipeline: p.pipeline, stage: p.stage}, "%s deployed in two stages", name)
				switch a.Configuration["ActionMode"] {
				case "CHANGE_SET_REPLACE":
					p.prepare++
					// Cross-account: the action assumes the target account's bootstrap role.
					assert.Contains(t, fmt.Sprint(a.RoleArn), "cdk-hnb659fds-deploy-role-", name)
				case "CHANGE_SET_EXECUTE":
					p.execute++
				}
			}
		}
		assert.LessOrEqual(t, total, deployplan.MaxActionsPerPipeline, "pipeline %d", i)
		assert.LessOrEqual(t, total, 1000, "pipeline %d", i)
	}
	return at
}

func TestPipelineExample(t *testing.T) {
	data, err := os.ReadFile(example)
	require.NoError(t, err)
	_, built, dir := synthPipeline(t, example, data)
	require.Len(t, built.Pipelines, 1)
	at := checkPipelines(t, dir, built.Pipelines)
	// Every estate stack exactly once (a change set created and executed),
	// model accounts before central, central before the RAG stacks.
	var model []string
	for _, s := range built.ModelAccounts {
		model = append(model, *s.StackName())
	}
	// The central and RAG stacks go by `cdk deploy` steps, outside stages;
	// every other stack built (the model accounts' and any stack of theirs)
	// by its account's stage.
	deployed := []string{"DeployCentral", "DeployRagAgent"}
	skip := map[string]bool{*built.Central.StackName(): true, *built.RAGBase.StackName(): true, *built.RAGLambda.StackName(): true, *built.Bootstrap.StackName(): true}
	for _, p := range built.Pipelines {
		skip[*p.StackName()] = true
	}
	for _, s := range built.Stacks() {
		if !skip[*s.StackName()] {
			deployed = append(deployed, *s.StackName())
		}
	}
	for _, name := range deployed {
		if assert.Contains(t, at, name) {
			assert.Equal(t, 1, at[name].prepare, name)
			assert.Equal(t, 1, at[name].execute, name)
		}
	}
	assert.Len(t, at, len(deployed), "the pipeline deploys only the estate's stacks")
	central := at["DeployCentral"].stage
	for _, m := range model {
		assert.Less(t, at[m].stage, central, "%s before central", m)
	}
	assert.Less(t, central, at["DeployRagAgent"].stage)
	tplText := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name+".template.json"))
		require.NoError(t, err)
		return string(b)
	}
	assert.Contains(t, tplText(*built.Pipelines[0].StackName()), "deploy --app . --exclusively --require-approval never --concurrency 2 RagAgent-Base RagAgent-Lambda")

	// The review stage: the access plan beside its approval, before any deployment.
	_, stages := pipelineStages(t, dir, *built.Pipelines[0].StackName())
	var names []string
	for _, st := range stages {
		names = append(names, st.Name)
	}
	review := slices.Index(names, "Review")
	require.GreaterOrEqual(t, review, 0, "stages: %v", names)
	assert.Less(t, review, at[model[0]].stage)
	var reviewActions []string
	for _, a := range stages[review].Actions {
		reviewActions = append(reviewActions, a.ActionTypeId.Category+":"+a.Name)
		assert.Equal(t, 1, a.RunOrder, "the review and its approval run side by side")
	}
	assert.ElementsMatch(t, []string{"Build:AccessPlan", "Approval:ApproveBroadening"}, reviewActions)
	b, err := os.ReadFile(filepath.Join(dir, *built.Pipelines[0].StackName()+".template.json"))
	require.NoError(t, err)
	assert.Contains(t, string(b), "go run ./cmd/estatectl plan -base /tmp/base.yaml -head config/usecases.yaml -fail-on broadening")
	assert.Contains(t, string(b), "npm install -g aws-cdk@"+bootstrap.CLIVersion, "self-mutation uses the pinned CLI")
	for _, cmd := range stacks.SynthCommands {
		assert.Contains(t, string(b), cmd)
	}

	// Staged stacks keep their names, environments and templates: the same
	// as synthesized without a pipeline.
	plain := synth(t, example, nil, nil)
	for _, s := range append(built.Stacks()[:0:0], built.Stacks()...) {
		name := *s.StackName()
		want, ok := plain[name]
		if !ok {
			continue // the pipeline and bootstrap stacks
		}
		sameTemplate(t, name, want, template(s))
	}

	// The bootstrap StackSet.
	bs := built.Bootstrap
	require.NotNil(t, bs)
	tpl := template(bs.Stack)
	sets := byType(tpl, "AWS::CloudFormation::StackSet")
	require.Len(t, sets, 1)
	for _, set := range sets {
		p := set
		assert.Equal(t, "SERVICE_MANAGED", p["PermissionModel"])
		assert.Equal(t, map[string]any{"Enabled": true, "RetainStacksOnAccountRemoval": true}, p["AutoDeployment"])
		group := p["StackInstancesGroup"].([]any)[0].(map[string]any)
		assert.Equal(t, map[string]any{"OrganizationalUnitIds": []any{"ou-ab12-models01", "ou-ab12-models02"}}, group["DeploymentTargets"])
		assert.ElementsMatch(t, []any{"us-east-1", "us-west-2"}, group["Regions"])
		assert.Contains(t, p["Parameters"], map[string]any{"ParameterKey": "TrustedAccounts", "ParameterValue": "999999999999"})
		assert.Contains(t, p["TemplateBody"], "cdk-${Qualifier}-deploy-role-${AWS::AccountId}-${AWS::Region}")
	}
	assert.NotContains(t, tpl, "Rules", "deployed with the CLI's credentials: no bootstrap version check in the management account")
}

// sameTemplate reports the first section or resource where two templates differ.
func sameTemplate(t *testing.T, name string, want, got map[string]any) {
	t.Helper()
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if k == "Resources" {
			w, g := want[k].(map[string]any), got[k].(map[string]any)
			for _, id := range slices.Sorted(maps.Keys(w)) {
				if js(w[id]) != js(g[id]) {
					t.Errorf("%s: resource %s differs inside its stage:\n want %s\n  got %s", name, id, js(w[id]), js(g[id]))
					return
				}
			}
			if len(w) != len(g) {
				t.Errorf("%s: %d resources, want %d", name, len(g), len(w))
			}
		} else if js(want[k]) != js(got[k]) {
			t.Errorf("%s: %s differs inside its stage:\n want %s\n  got %s", name, k, js(want[k]), js(got[k]))
		}
	}
	if len(want) != len(got) {
		t.Errorf("%s: sections %v, want %v", name, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
}

func TestPipeline200Accounts(t *testing.T) {
	if testing.Short() {
		t.Skip("synthesizes 800 stacks")
	}
	// The fixture has no gateway, so no central stack: give it one, pinned,
	// so that the order of central against 800 model-account stacks is tested.
	data := bytes.Replace(fixture.Large(200, 400), []byte(`central: {account: "111111111111", region: us-east-1}`),
		[]byte(`central: {account: "111111111111", region: us-east-1, gateway: {image: "111111111111.dkr.ecr.us-east-1.amazonaws.com/genai-gateway@sha256:`+strings.Repeat("a", 64)+`", certificateArn: "arn:aws:acm:us-east-1:111111111111:certificate/0f3c4a2e-1b7d-4c55-9e2a-6d8f1a2b3c4d"}}`), 1)
	e, built, dir := synthPipeline(t, "large.yaml", data)
	require.NotNil(t, built.Central, "the fixture has a gateway")
	require.Greater(t, len(built.Pipelines), 1, "1,600 actions need more than one pipeline")
	at := checkPipelines(t, dir, built.Pipelines)
	for _, s := range built.ModelAccounts {
		name := *s.StackName()
		if assert.Contains(t, at, name) {
			assert.Equal(t, 1, at[name].prepare, name)
		}
	}
	central := at["DeployCentral"]
	require.NotNil(t, central)
	assert.Equal(t, len(built.Pipelines)-1, central.pipeline, "central in the last pipeline")
	for _, s := range built.ModelAccounts {
		p := at[*s.StackName()]
		assert.True(t, p.pipeline < central.pipeline || (p.pipeline == central.pipeline && p.stage < central.stage), "%s before central", *s.StackName())
	}
	// Later pipelines wait, in a stage of their own before any deployment,
	// for the previous one to deploy the same commit.
	for _, ps := range built.Pipelines[1:] {
		_, stages := pipelineStages(t, dir, *ps.StackName())
		i := slices.IndexFunc(stages, func(s cpStage) bool { return s.Name == "AwaitPrevious" })
		if assert.GreaterOrEqual(t, i, 0, *ps.StackName()) {
			assert.Len(t, stages[i].Actions, 1)
			assert.Equal(t, "AwaitPreviousPipeline", stages[i].Actions[0].Name)
			assert.True(t, strings.HasPrefix(stages[i+1].Name, "Wave"), "then the waves")
		}
	}
	_ = e
}

// BenchmarkPipelineSynth200 measures the README's figure, one synth of the
// 200-account fixture (800 model-account stacks) with and without the
// pipeline section:
//
//	go test ./test -run XXX -bench Synth200 -benchtime 1x
func BenchmarkPipelineSynth200(b *testing.B) {
	data := fixture.Large(200, 400)
	for b.Loop() {
		synthPipeline(b, "large.yaml", data)
	}
}

func BenchmarkPlainSynth200(b *testing.B) {
	data := fixture.Large(200, 400)
	for b.Loop() {
		c, err := config.Parse("large.yaml", data)
		require.NoError(b, err)
		e, err := estate.Build(c)
		require.NoError(b, err)
		app := awscdk.NewApp(&awscdk.AppProps{Context: withFlags(b, nil), Outdir: jsii.String(b.TempDir())})
		stacks.Build(app, e, &stacks.BuildProps{})
		app.Synth(nil)
	}
}

// An account with more shards than a wave holds is a located config error
// before any construct is built.
func TestPipelineWaveTooSmallForAnAccount(t *testing.T) {
	data, err := os.ReadFile(example)
	require.NoError(t, err)
	y := strings.Replace(string(data), "name: SharedModelsA\n", "name: SharedModelsA\n    stackShards: 5\n", 1)
	require.NotEqual(t, string(data), y)
	y += strings.Replace(pipelineSection, "  repository: acme/genai-estate\n", "  repository: acme/genai-estate\n  waveSize: 1\n", 1)
	c, err := config.Parse(example, []byte(y))
	require.NoError(t, err)
	e, err := estate.Build(c)
	require.NoError(t, err)
	used := len(e.Accounts[0].UsedShards())
	require.Greater(t, used, 1, "SharedModelsA's roles fill more than one of its 5 shards")
	err = stacks.CheckPipeline(e)
	require.Error(t, err)
	list, ok := err.(config.ErrorList)
	require.True(t, ok, "%T", err)
	require.Len(t, list, 1)
	assert.Equal(t, "pipeline.waveSize", list[0].Path)
	assert.Greater(t, list[0].Line, 0)
	// The account's stage holds its shards and its profile stacks.
	assert.Contains(t, list[0].Problem, fmt.Sprintf("stage SharedModelsA has %d stacks, more than a wave of 1 holds", used+len(e.Accounts[0].Profiles)))
	assert.NotEmpty(t, list[0].Fix)
}
