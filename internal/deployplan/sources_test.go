package deployplan

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/estate"
	"github.com/acme/genai-estate/internal/fixture"
)

// writeAssembly writes a cloud assembly: stacks by artifact id with their
// resource types, and a nested stage.
func writeAssembly(t *testing.T, dir string, stacks map[string][]string, deps map[string][]string, nested string) {
	t.Helper()
	arts := map[string]any{}
	for id, types := range stacks {
		res := map[string]any{}
		for i, typ := range types {
			props := map[string]any{}
			if typ == "AWS::IAM::Role" {
				props["RoleName"] = id + "-Role"
			}
			res[typ[5:8]+string(rune('A'+i))] = map[string]any{"Type": typ, "Properties": props}
		}
		b, _ := json.Marshal(map[string]any{"Resources": res})
		if err := os.WriteFile(filepath.Join(dir, id+".template.json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
		arts[id] = map[string]any{"type": "aws:cloudformation:stack", "environment": "aws://123456789012/us-east-1",
			"dependencies": append([]string{id + ".assets"}, deps[id]...), "properties": map[string]any{"templateFile": id + ".template.json", "stackName": id}}
	}
	if nested != "" {
		arts["assembly-"+nested] = map[string]any{"type": "cdk:cloud-assembly", "properties": map[string]any{"directoryName": "assembly-" + nested}}
	}
	b, _ := json.Marshal(map[string]any{"artifacts": arts})
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFromAssembly(t *testing.T) {
	dir := t.TempDir()
	iam := []string{"AWS::IAM::OIDCProvider", "AWS::IAM::Role", "AWS::IAM::ManagedPolicy", "AWS::CDK::Metadata"}
	writeAssembly(t, dir, map[string][]string{
		"Bootstrap":  {"AWS::CloudFormation::StackSet"},
		"Pipeline":   {"AWS::CodePipeline::Pipeline", "AWS::IAM::Role"},
		"Central":    {"AWS::IAM::Role", "AWS::ECS::Service", "AWS::SSM::Parameter"},
		"Rag-Base":   {"AWS::S3::Bucket", "AWS::IAM::Role"},
		"Rag-Lambda": {"AWS::Lambda::Function"},
	}, map[string][]string{"Rag-Lambda": {"Rag-Base"}}, "Acct")
	sub := filepath.Join(dir, "assembly-Acct")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	writeAssembly(t, sub, map[string][]string{"Models": iam, "Models-2": iam[1:]}, map[string][]string{"Models-2": {"Models"}}, "")
	stacks, err := FromAssembly(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Stack{}
	for _, s := range stacks {
		got[s.Name] = s
	}
	for name, kind := range map[string]string{"Bootstrap": Bootstrap, "Pipeline": Pipeline, "Central": Central, "Rag-Base": Other, "Rag-Lambda": Other, "Models": ModelAccount, "Models-2": ModelAccount} {
		if got[name].Kind != kind {
			t.Errorf("%s: kind %q, want %q", name, got[name].Kind, kind)
		}
	}
	if !slices.Equal(got["Rag-Lambda"].DependsOn, []string{"Rag-Base"}) || !slices.Equal(got["Models-2"].DependsOn, []string{"Models"}) {
		t.Errorf("dependencies: %v %v", got["Rag-Lambda"].DependsOn, got["Models-2"].DependsOn)
	}
	if !slices.Equal(got["Models"].Roles, []string{"Models-Role"}) || got["Models"].Account != "123456789012" || got["Models"].Fingerprint == "" {
		t.Errorf("model stack: %+v", got["Models"])
	}
	// A template edit changes the fingerprint, so the stack is deployed.
	before := stacks
	if err := os.WriteFile(filepath.Join(dir, "Rag-Base.template.json"), []byte(`{"Resources":{"B":{"Type":"AWS::S3::Bucket"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	after, err := FromAssembly(dir)
	if err != nil {
		t.Fatal(err)
	}
	p := Order(before, after, 0)
	if rows := rows(p); !slices.Equal(rows, []string{"1 other stacks: Rag-Base(removes roles)"}) {
		t.Errorf("after a template edit: %q", rows)
	}
	if _, err := FromAssembly(t.TempDir()); err == nil {
		t.Error("an empty directory read as an assembly")
	}
}

func TestFromAssemblyJoinsAccountStacks(t *testing.T) {
	dir := t.TempDir()
	writeAssembly(t, dir, map[string][]string{
		"Models":   {"AWS::IAM::Role", "AWS::CDK::Metadata"},
		"Profiles": {"AWS::Bedrock::ApplicationInferenceProfile"},
	}, map[string][]string{"Profiles": {"Models"}}, "")
	stacks, err := FromAssembly(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stacks {
		if s.Kind != ModelAccount || s.Group != "123456789012" {
			t.Errorf("%s: %s in group %q, want the account's model-account group", s.Name, s.Kind, s.Group)
		}
	}
	p := Order(nil, stacks, 0)
	if got := rows(p); !slices.Equal(got, []string{"1 model accounts before central: Models(deploy)", "2 model accounts before central: Profiles(deploy)"}) {
		t.Errorf("order: %q", got)
	}
}

func TestFromEstateNamesEveryPipeline(t *testing.T) {
	y := string(fixture.Large(200, 400)) + `pipeline:
  account: "999999999999"
  region: us-east-1
  connectionArn: arn:aws:codeconnections:us-east-1:999999999999:connection/12345678-1234-1234-1234-123456789012
  repository: acme/genai-estate
  bootstrap: {account: "888888888888", region: us-east-1, organizationalUnitIds: [ou-ab12-models01]}
`
	c, err := config.Parse("large.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	e, err := estate.Build(c)
	if err != nil {
		t.Fatal(err)
	}
	var tooling []string
	for _, s := range FromEstate(e) {
		if s.Kind == Pipeline || s.Kind == Bootstrap {
			tooling = append(tooling, s.Name)
		}
	}
	if want := []string{"ACME-GenAI-CDKBootstrap", "ACME-GenAI-Pipeline", "ACME-GenAI-Pipeline-2"}; !slices.Equal(tooling, want) {
		t.Errorf("tooling stacks %q, want %q", tooling, want)
	}
}
