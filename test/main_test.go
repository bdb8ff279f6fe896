// Package test holds the end-to-end synth tests and the golden templates of
// the example estate. Refresh the goldens with: go test ./test -update
package test

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/require"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/cdktest"
	"github.com/acme/genai-estate/internal/estate"
	"github.com/acme/genai-estate/stacks"
)

var update = flag.Bool("update", false, "rewrite the golden templates")

const example = "../config/usecases.yaml"

func TestMain(m *testing.M) { cdktest.Main(m) }

// build plans a config (read from path when data is nil) and adds its stacks
// to a fresh app, as app.go does.
func build(t *testing.T, path string, data []byte, context map[string]any) *stacks.Estate {
	t.Helper()
	if data == nil {
		var err error
		data, err = os.ReadFile(path)
		require.NoError(t, err)
	}
	c, err := config.Parse(path, data)
	require.NoError(t, err)
	e, err := estate.Build(c)
	require.NoError(t, err)
	app := awscdk.NewApp(&awscdk.AppProps{Context: withFlags(t, context), Outdir: jsii.String(t.TempDir())})
	props := &stacks.BuildProps{}
	if a, ok := context["accounts"].(string); ok {
		props.Accounts = []string{a}
	}
	return stacks.Build(app, e, props)
}

// withFlags adds cdk.json's context (the feature flags) under the test's own
// keys, so the tests synthesize what `cdk synth` writes.
func withFlags(t testing.TB, context map[string]any) *map[string]any {
	t.Helper()
	b, err := os.ReadFile("../cdk.json")
	require.NoError(t, err)
	var file struct {
		Context map[string]any `json:"context"`
	}
	require.NoError(t, json.Unmarshal(b, &file))
	for k, v := range context {
		file.Context[k] = v
	}
	return &file.Context
}

// inspectErrors keeps error annotations readable by assertions: with the flag
// on (as in cdk.json), the first one fails the synth, which is what the app wants.
var inspectErrors = map[string]any{"@aws-cdk/core:annotationsInValidationReport": false}

// synth builds every stack of a config and returns each template by stack
// name. The example estate as it is on disk is synthesized once per test
// binary (it is asked for two dozen times); each caller gets its own copy.
func synth(t *testing.T, path string, data []byte, context map[string]any) map[string]map[string]any {
	t.Helper()
	if path != example || data != nil || context != nil {
		return synthFresh(t, path, data, context)
	}
	exampleOnce.Do(func() {
		exampleJSON, exampleErr = json.Marshal(synthFresh(t, path, nil, nil))
	})
	require.NoError(t, exampleErr)
	var out map[string]map[string]any
	require.NoError(t, json.Unmarshal(exampleJSON, &out))
	return out
}

var (
	exampleOnce sync.Once
	exampleJSON []byte
	exampleErr  error
)

// synthFresh synthesizes a new app every time: for tests that compare two
// synths of the same config.
func synthFresh(t *testing.T, path string, data []byte, context map[string]any) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for _, s := range build(t, path, data, context).Stacks() {
		out[*s.StackName()] = template(s)
	}
	return out
}

func template(s awscdk.Stack) map[string]any {
	return *assertions.Template_FromStack(s, &assertions.TemplateParsingOptions{SkipCyclicalDependenciesCheck: jsii.Bool(true)}).ToJSON()
}

// assetHash is the content hash of a Docker image asset (the gateway built
// from this repository): it moves with every change to the gateway's
// sources, which the golden files would otherwise have to follow. The asset
// itself is checked by TestCentralImageAsset.
var assetHash = regexp.MustCompile(`(container-assets-[0-9]{12}-[a-z0-9-]+:)[0-9a-f]{64}`)

func TestGoldenTemplates(t *testing.T) {
	got := synth(t, example, nil, nil)
	// Central, three model accounts, their four application-profile stacks, two RAG stacks.
	require.Len(t, got, 10)
	for name, tpl := range got {
		t.Run(name, func(t *testing.T) {
			b, err := json.MarshalIndent(tpl, "", "  ")
			require.NoError(t, err)
			b = append(assetHash.ReplaceAll(b, []byte("${1}<asset-hash>")), '\n')
			path := filepath.Join("testdata", "golden", name+".template.json")
			if *update {
				require.NoError(t, os.WriteFile(path, b, 0o644))
				return
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test ./test -update to create it")
			require.Equal(t, string(want), string(b), "template changed; review it, then go test ./test -update")
		})
	}
}

// go test ./test -run XXX -bench Synth : one full synth of the example estate
// (plan plus every jsii round trip), validation off.
func BenchmarkSynthExample(b *testing.B) {
	data, err := os.ReadFile(example)
	require.NoError(b, err)
	for b.Loop() {
		c, err := config.Parse(example, data)
		require.NoError(b, err)
		e, err := estate.Build(c)
		require.NoError(b, err)
		app := awscdk.NewApp(&awscdk.AppProps{Context: withFlags(b, nil)})
		stacks.Build(app, e, nil)
		app.Synth(nil)
	}
}
