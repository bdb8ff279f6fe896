package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// appBinary builds the CDK app once per test run.
func appBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "app")
	out, err := exec.Command("go", "build", "-o", bin, "..").CombinedOutput()
	require.NoError(t, err, string(out))
	return bin
}

// runApp runs the app as the CDK CLI does: cdk.json's context (the feature
// flags) with the test's on top, and the output directory, through the
// environment. validate=true leaves CDK's built-in validation on.
func runApp(t *testing.T, bin string, context map[string]string, validate bool) (outdir, stderr string, err error) {
	outdir = t.TempDir()
	all := map[string]any{}
	for k, v := range context {
		all[k] = v
	}
	ctx, _ := json.Marshal(*withFlags(t, all))
	cmd := exec.Command(bin)
	cmd.Dir = ".."
	env := []string{"CDK_OUTDIR=" + outdir, "CDK_CONTEXT_JSON=" + string(ctx), "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CDK_") {
			env = append(env, kv)
		}
	}
	if !validate {
		env = append(env, "CDK_VALIDATION=false")
	}
	cmd.Env = env
	var buf bytes.Buffer
	cmd.Stderr = &buf
	err = cmd.Run()
	return outdir, buf.String(), err
}

func templates(t *testing.T, dir string) []string {
	m, _ := filepath.Glob(filepath.Join(dir, "*.template.json"))
	for i := range m {
		m[i] = filepath.Base(m[i])
	}
	return m
}

func TestApp(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the app")
	}
	bin := appBinary(t)

	t.Run("example estate with CDK validation on", func(t *testing.T) {
		dir, stderr, err := runApp(t, bin, nil, true)
		require.NoError(t, err, stderr)
		assert.Equal(t, []string{"ACME-GenAI-SharedModelsA-Profiles-us-east-1.template.json", "ACME-GenAI-SharedModelsA-Profiles-us-west-2.template.json", "ACME-GenAI-SharedModelsA.template.json",
			"ACME-GenAI-SharedModelsB-Profiles-us-east-1.template.json", "ACME-GenAI-SharedModelsB.template.json", "ACME-GenAI-SharedModelsC-Profiles-us-west-2.template.json", "ACME-GenAI-SharedModelsC.template.json",
			"ACME-GenAIGateway-Central.template.json", "RagAgent-Base.template.json", "RagAgent-Lambda.template.json"}, templates(t, dir))
		var manifest struct {
			Artifacts map[string]struct {
				Environment string `json:"environment"`
			} `json:"artifacts"`
		}
		b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, &manifest))
		// Explicit account and region: deployable per account, synthesizable offline.
		assert.Equal(t, "aws://222222222222/us-east-1", manifest.Artifacts["ACME-GenAI-SharedModelsA"].Environment)
		assert.Equal(t, "aws://444444444444/us-west-2", manifest.Artifacts["ACME-GenAI-SharedModelsC"].Environment)
		// Application profiles are regional: one stack per account and region.
		assert.Equal(t, "aws://222222222222/us-west-2", manifest.Artifacts["ACME-GenAI-SharedModelsA-Profiles-us-west-2"].Environment)
		assert.Equal(t, "aws://666666666666/us-east-1", manifest.Artifacts["RagAgent-Base"].Environment)
		assert.Equal(t, "aws://111111111111/us-east-1", manifest.Artifacts["ACME-GenAIGateway-Central"].Environment)
	})

	t.Run("accounts context", func(t *testing.T) {
		dir, stderr, err := runApp(t, bin, map[string]string{"accounts": "SharedModelsC"}, false)
		require.NoError(t, err, stderr)
		assert.Equal(t, []string{"ACME-GenAI-SharedModelsC-Profiles-us-west-2.template.json", "ACME-GenAI-SharedModelsC.template.json"}, templates(t, dir))
	})

	t.Run("unknown account in context", func(t *testing.T) {
		dir, stderr, err := runApp(t, bin, map[string]string{"accounts": "SharedModelC"}, false)
		require.Error(t, err)
		assert.Contains(t, stderr, `did you mean "SharedModelsC"?`)
		assert.Empty(t, templates(t, dir))
	})

	t.Run("invalid config writes nothing", func(t *testing.T) {
		data, err := os.ReadFile(example)
		require.NoError(t, err)
		bad := strings.NewReplacer(`account: "333333333333"`, `account: 333333333333`, "meta.llama3-70b-instruct-v1:0", "meta.llama3-70b-instruct-v1").Replace(string(data))
		path := filepath.Join(t.TempDir(), "bad.yaml")
		require.NoError(t, os.WriteFile(path, []byte(bad), 0o644))
		dir, stderr, err := runApp(t, bin, map[string]string{"config": path}, false)
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit)
		assert.Equal(t, 1, exit.ExitCode())
		assert.Contains(t, stderr, "2 config errors, 1 warning:", "errors and the example vendor's account-root warning, counted")
		line := strings.Count(bad[:strings.Index(bad, "account: 333333333333")], "\n") + 1
		assert.Contains(t, stderr, fmt.Sprintf("%s:%d:14: modelAccounts[1].account: account id 333333333333 is not quoted", path, line))
		assert.Contains(t, stderr, `did you mean "meta.llama3-70b-instruct-v1:0"?`)
		assert.Empty(t, templates(t, dir), "no template may be written on error")
	})
}
