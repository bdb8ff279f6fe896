package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestDeployPlan(t *testing.T) {
	const example = "../../config/usecases.yaml"
	data, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) string {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	y := string(data)
	// UseCaseE: a new use case in SharedModelsC.
	add := write("add.yaml", strings.Replace(y, "useCases:\n", "useCases:\n  - name: UseCaseE\n    subjects: [usecase-e]\n    access:\n      - {account: SharedModelsC, models: [amazon.titan-text-express-v1]}\n", 1))
	rename := write("rename.yaml", strings.ReplaceAll(y, "UseCaseB", "UseCaseBee"))
	tests := []struct {
		name string
		args []string
		code int
		rows []string // in this order
	}{
		{"add: the model account, then central", []string{"-base", example, "-head", add}, 0, []string{
			"| 1 | model accounts before central | `ACME-GenAI-SharedModelsC` | 444444444444 | us-west-2 | adds roles: +`ACME-GenAI-UseCaseE-BedrockInvokeRole` |",
			"| central | `ACME-GenAIGateway-Central` |"}},
		{"removal: central, then the model account", []string{"-base", add, "-head", example}, 0, []string{
			"| central | `ACME-GenAIGateway-Central` |",
			"| model accounts after central | `ACME-GenAI-SharedModelsC` | 444444444444 | us-west-2 | removes roles: −`ACME-GenAI-UseCaseE-BedrockInvokeRole` |"}},
		{"rename within a stack: before central, with the gap noted", []string{"-base", example, "-head", rename}, 0, []string{
			"> ACME-GenAI-SharedModelsA adds and removes roles in one deployment (wave 1)",
			"| 1 | model accounts before central | `ACME-GenAI-SharedModelsA` | 222222222222 | us-east-1 | adds and removes roles: +`ACME-GenAI-UseCaseBee-BedrockInvokeRole`; −`ACME-GenAI-UseCaseB-BedrockInvokeRole` |",
			"| central | `ACME-GenAIGateway-Central` |"}},
		{"no change", []string{"-base", example, "-head", example}, 0, []string{"**0 stacks to deploy in 0 waves of at most 50, ", " unchanged.**", "No stack to deploy."}},
		{"everything, in waves of 2", []string{"-head", example, "-wave", "2"}, 0, []string{
			"| 1 | model accounts before central | `ACME-GenAI-SharedModelsA` |",
			"| 1 | model accounts before central | `ACME-GenAI-SharedModelsB` |",
			"| 2 | model accounts before central | `ACME-GenAI-SharedModelsC` |",
			"| model accounts before central | `ACME-GenAI-SharedModelsA-Profiles-us-east-1` |",
			"| central | `ACME-GenAIGateway-Central` |",
			"| other stacks | `RagAgent-Base` |",
			"| other stacks | `RagAgent-Lambda` |"}},
		{"needs a head", []string{"-base", example}, 2, nil},
		{"wave of zero", []string{"-head", example, "-wave", "0"}, 2, nil},
		{"unreadable head", []string{"-head", "no-such-dir"}, 1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(append([]string{"deploy-plan"}, tt.args...), &out, &errb)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.code, errb.String())
			}
			rest := out.String()
			for _, r := range tt.rows {
				i := strings.Index(rest, r)
				if i < 0 {
					t.Fatalf("missing, or out of order: %q\nin:\n%s", r, out.String())
				}
				rest = rest[i+len(r):]
			}
		})
	}
	// The review plan names the same stacks in the same order.
	var review, rerr bytes.Buffer
	if code := run([]string{"plan", "-base", example, "-head", add}, &review, &rerr); code != 0 {
		t.Fatal(rerr.String())
	}
	if s := review.String(); !strings.Contains(s, "### Stacks to deploy, in order\n\n") ||
		!strings.Contains(s, "| 1 | model accounts before central | `ACME-GenAI-SharedModelsC`") || !strings.Contains(s, "| central | `ACME-GenAIGateway-Central`") {
		t.Errorf("plan lacks the deployment order:\n%s", s)
	}
	// The JSON is a GitHub Actions matrix per wave.
	var out, errb bytes.Buffer
	if code := run([]string{"deploy-plan", "-o", "json", "-base", example, "-head", add}, &out, &errb); code != 0 {
		t.Fatal(errb.String())
	}
	var plan struct {
		Waves []struct {
			Wave    int
			Stacks  string
			Include []map[string]any
		}
	}
	if err := json.Unmarshal(out.Bytes(), &plan); err != nil {
		t.Fatal(err)
	}
	if len(plan.Waves) < 2 || !slices.Contains(strings.Fields(plan.Waves[0].Stacks), "ACME-GenAI-SharedModelsC") || plan.Waves[len(plan.Waves)-1].Include[0]["stack"] != "ACME-GenAIGateway-Central" {
		t.Errorf("JSON plan: %s", out.String())
	}
}

// The example workflow uses the deploy plan's JSON as it is.
func TestGitHubActionsWorkflow(t *testing.T) {
	b, err := os.ReadFile("../../scripts/github-actions/deploy.yml")
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Permissions map[string]string
		Jobs        map[string]struct {
			Outputs  map[string]string
			Strategy struct {
				MaxParallel int  `yaml:"max-parallel"`
				FailFast    bool `yaml:"fail-fast"`
				Matrix      map[string]string
			}
			Steps []struct {
				Run string
			}
		}
	}
	if err := yaml.Unmarshal(b, &wf); err != nil {
		t.Fatal(err)
	}
	if wf.Permissions["id-token"] != "write" {
		t.Error("OIDC needs id-token: write")
	}
	deploy := wf.Jobs["deploy"]
	if deploy.Strategy.MaxParallel != 1 || !deploy.Strategy.FailFast || deploy.Strategy.Matrix["wave"] != "${{ fromJSON(needs.plan.outputs.waves) }}" {
		t.Errorf("deploy strategy: %+v", deploy.Strategy)
	}
	runs := func(job string) string {
		var all []string
		for _, s := range wf.Jobs[job].Steps {
			all = append(all, s.Run)
		}
		return strings.Join(all, "\n")
	}
	for _, want := range []string{"deploy-plan", "-o json", "jq -c .waves plan.json"} {
		if !strings.Contains(runs("plan"), want) {
			t.Errorf("plan job does not run %q", want)
		}
	}
	for _, want := range []string{"cdk deploy --app cdk.out --exclusively --require-approval never", `--concurrency "$CONCURRENCY"`, "${{ matrix.wave.stacks }}"} {
		if !strings.Contains(runs("deploy"), want) {
			t.Errorf("deploy job does not run %q", want)
		}
	}
	// The fields the workflow reads are the plan's.
	var out, errb bytes.Buffer
	if code := run([]string{"deploy-plan", "-o", "json", "-head", "../../config/usecases.yaml"}, &out, &errb); code != 0 {
		t.Fatal(errb.String())
	}
	var plan struct {
		Waves []map[string]any `json:"waves"`
	}
	if err := json.Unmarshal(out.Bytes(), &plan); err != nil || len(plan.Waves) == 0 {
		t.Fatalf("%v: %s", err, out.String())
	}
	waves := plan.Waves
	for _, k := range []string{"wave", "phase", "stacks", "include"} {
		if _, ok := waves[0][k]; !ok {
			t.Errorf("a wave has no %q, which the workflow reads", k)
		}
	}
}
