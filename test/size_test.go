package test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/estate"
	"github.com/acme/genai-estate/internal/fixture"
	"github.com/acme/genai-estate/stacks"
)

// synthDir builds a config as the CLI runs the app (path metadata on, which
// the size estimate counts) and returns the checked assembly's directory.
func synthDir(t *testing.T, data []byte) (*estate.Estate, *stacks.Estate, string) {
	t.Helper()
	c, err := config.Parse("estate.yaml", data)
	require.NoError(t, err)
	e, err := estate.Build(c)
	require.NoError(t, err)
	app := awscdk.NewApp(&awscdk.AppProps{Context: withFlags(t, map[string]any{"aws:cdk:enable-path-metadata": true}), Outdir: jsii.String(t.TempDir())})
	built := stacks.Build(app, e, nil)
	dir, err := stacks.Synth(app)
	require.NoError(t, err, "no security or limit finding")
	return e, built, dir
}

// 60 use cases x 26 models x 7 regions: one stack would be about 1.3 MB,
// over CloudFormation's 1,000,000 bytes. It is split, every template is
// under the budget, and the Go estimate is never below the written size.
func TestOversizeEstateIsSplit(t *testing.T) {
	e, built, dir := synthDir(t, fixture.Wide(60, 26, 7, ""))
	a := e.Accounts[0]
	require.Greater(t, len(a.UsedShards()), 1)
	require.Len(t, built.ModelAccounts, len(a.UsedShards()))
	for i, s := range a.UsedShards() {
		name := a.Stack("ACME", "GenAI", s)
		require.Equal(t, name, *built.ModelAccounts[i].StackName())
		info, err := os.Stat(filepath.Join(dir, name+".template.json"))
		require.NoError(t, err)
		assert.LessOrEqual(t, info.Size(), int64(estate.TemplateBytesBudget), name)
		assert.LessOrEqual(t, info.Size(), int64(a.ShardBytes[s]), "%s: the estimate is safe", name)
		assert.Greater(t, info.Size(), int64(a.ShardBytes[s])*3/4, "%s: and close", name)
	}
}

// A pinned stackShards above what the roles need: the empty shards are not
// stacks (CloudFormation rejects a template without resources), the others
// keep their names, and every written stack has resources.
func TestEmptyShardsAreNotStacks(t *testing.T) {
	e, built, _ := synthDir(t, fixture.Wide(3, 1, 1, ", stackShards: 8"))
	a := e.Accounts[0]
	var names []string
	for _, s := range built.ModelAccounts {
		names = append(names, *s.StackName())
	}
	var want []string
	for _, s := range a.UsedShards() {
		want = append(want, a.Stack("ACME", "GenAI", s))
	}
	assert.Equal(t, want, names)
	assert.Less(t, len(names), 8)
}
