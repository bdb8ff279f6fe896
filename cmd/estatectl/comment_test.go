package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/genai-estate/internal/fixture"
	"github.com/acme/genai-estate/internal/review/md"
)

func runOK(t *testing.T, args ...string) string {
	t.Helper()
	var out, errs strings.Builder
	require.Equal(t, exitOK, run(args, &out, &errs), errs.String())
	return out.String()
}

// The matrix of 20 accounts and 100 use cases is hundreds of KB; the
// comment of it and its plan still fits GitHub's limit, summary first, and
// points to the full files.
func TestCommentOfALargeEstateFits(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "large.yaml")
	require.NoError(t, os.WriteFile(cfg, fixture.Large(20, 100), 0o644))
	matrix := filepath.Join(dir, "matrix.md")
	plan := filepath.Join(dir, "plan.md")
	require.NoError(t, os.WriteFile(matrix, []byte(runOK(t, "matrix", "-label", "HEAD @ abc1234", cfg)), 0o644))
	require.NoError(t, os.WriteFile(plan, []byte(runOK(t, "plan", "-base", cfg, "-head", cfg, "-base-label", "origin/main @ def5678", "-head-label", "HEAD @ abc1234")), 0o644))
	fi, err := os.Stat(matrix)
	require.NoError(t, err)
	require.Greater(t, fi.Size(), int64(md.MaxComment), "the fixture must be larger than a comment")

	out := filepath.Join(dir, "comment.md")
	runOK(t, "comment", "-o", out, "-title", "Review of HEAD @ abc1234 against origin/main @ def5678", plan, matrix)
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	c := string(data)
	assert.LessOrEqual(t, len([]rune(c)), md.MaxComment)
	assert.True(t, strings.HasPrefix(c, "## Review of HEAD @ abc1234 against origin/main @ def5678\n\n- From `origin/main @ def5678` to `HEAD @ abc1234`: **0 grants gained, 0 lost; no role or policy changes**.\n- Read from `HEAD @ abc1234`, compared with "), c[:300])
	assert.Contains(t, c, "is `"+filepath.ToSlash(matrix)+"`.")
	assert.NotContains(t, c, os.TempDir()+"/estatectl", "no temporary build paths")
}

func TestSummaryLine(t *testing.T) {
	assert.Equal(t, "From `a` to `b`: **x**.", summaryLine("## Access plan\n\nFrom `a` to `b`: **x**.\n\n### More\n"))
	assert.Equal(t, "", summaryLine("```mermaid\nflowchart LR\n  a --> b\n```\n"), "a diagram has no summary line")
}

// A subject with a pipe keeps its table cell in the matrix.
func TestMatrixEscapesPipes(t *testing.T) {
	data, err := os.ReadFile("../../config/usecases.yaml")
	require.NoError(t, err)
	s := strings.Replace(string(data), "subjects: [usecase-b]", `subjects: ["auth0|abc"]`, 1)
	require.NotEqual(t, string(data), s)
	cfg := filepath.Join(t.TempDir(), "usecases.yaml")
	require.NoError(t, os.WriteFile(cfg, []byte(s), 0o644))
	m := runOK(t, "matrix", cfg)
	unescaped := regexp.MustCompile(`(?:^|[^\\])\|`)
	found := false
	for _, line := range strings.Split(m, "\n") {
		if strings.HasPrefix(line, "| `auth0\\|abc` |") {
			found = true
			assert.Len(t, unescaped.FindAllString(line, -1), 9, "eight cells: %s", line)
		}
	}
	assert.True(t, found, m)
}
