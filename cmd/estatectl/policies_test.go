package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPoliciesCmd(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "scp")
	var out, errs strings.Builder
	require.Equal(t, exitOK, run([]string{"policies", "-c", "../../config/usecases.yaml", "-o", dir}, &out, &errs), errs.String())
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	require.NoError(t, err)
	assert.Len(t, files, 5)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		var doc map[string]any
		require.NoError(t, json.Unmarshal(b, &doc), f)
		assert.Equal(t, "2012-10-17", doc["Version"])
	}
	// An invalid config writes nothing.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("org: ACME\n"), 0o644))
	empty := filepath.Join(t.TempDir(), "none")
	assert.Equal(t, exitInvalid, run([]string{"policies", "-c", bad, "-o", empty}, io.Discard, io.Discard))
	_, err = os.Stat(empty)
	assert.True(t, os.IsNotExist(err))
}
