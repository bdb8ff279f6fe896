package bootstrap

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestTemplateIsThePinnedCLIs(t *testing.T) {
	b, err := os.ReadFile("../../package.json")
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct {
		DevDependencies map[string]string `json:"devDependencies"`
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		t.Fatal(err)
	}
	if v := pkg.DevDependencies["aws-cdk"]; v != CLIVersion {
		t.Fatalf("package.json pins aws-cdk %s, the embedded bootstrap template is from %s: refresh it (see the package comment) and CLIVersion", v, CLIVersion)
	}
	cli, _ := filepath.Abs("../../node_modules/.bin/cdk")
	if _, err := os.Stat(cli); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node_modules/.bin/cdk is missing: CI runs npm ci before the tests")
		}
		t.Skip("run npm ci to compare with the pinned CLI")
	}
	cmd := exec.Command(cli, "bootstrap", "--show-template")
	cmd.Dir = t.TempDir() // no cdk.json: the CLI needs no app to print it
	cmd.Env = append(os.Environ(), "CDK_DISABLE_VERSION_CHECK=1", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("cdk bootstrap --show-template: %v", err)
	}
	if string(out) != Template {
		t.Error("the embedded template differs from the pinned CLI's: refresh it (see the package comment)")
	}
}

func TestTemplate(t *testing.T) {
	if v := Version(); v == "" {
		t.Error("no BootstrapVersion output")
	}
	for _, want := range []string{"TrustedAccounts:", "CloudFormationExecutionPolicies:", "cdk-${Qualifier}-deploy-role-${AWS::AccountId}-${AWS::Region}"} {
		if !strings.Contains(Template, want) {
			t.Errorf("template lacks %q", want)
		}
	}
	// A StackSet's TemplateBody holds at most 51,200 bytes.
	if len(Template) > 51200 {
		t.Errorf("template is %d bytes, over a StackSet TemplateBody's 51,200", len(Template))
	}
	if !strings.Contains(Template, "Default: "+Qualifier) {
		t.Errorf("default qualifier is not %s", Qualifier)
	}
}
