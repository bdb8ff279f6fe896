package md

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// cells splits a table row as GitHub does: on pipes not escaped by a backslash.
func cells(row string) []string {
	row = strings.TrimSpace(row)
	row = strings.TrimPrefix(strings.TrimSuffix(row, "|"), "|")
	return regexp.MustCompile(`(?:^|[^\\])\|`).Split(row, -1)
}

func TestEscaping(t *testing.T) {
	tests := []struct{ in, text, code string }{
		{"auth0|abc", `auth0\|abc`, "`auth0\\|abc`"},
		{"plain-id:0", "plain-id:0", "`plain-id:0`"},
		{"a*b_c", `a\*b\_c`, "`a*b_c`"},
		{"<script>&", `\<script\>&amp;`, "`<script>&`"},
		{"[link](x)", `\[link\](x)`, "`[link](x)`"},
		{"two\nlines", "two lines", "`two lines`"},
		{"tick`s", "tick\\`s", "`` tick`s ``"},
		{`back\slash`, `back\\slash`, "`back\\slash`"},
		{"", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			assert.Equal(t, tc.text, Text(tc.in))
			assert.Equal(t, tc.code, Code(tc.in))
		})
	}
}

// A subject with a pipe stays one cell, in text and in code.
func TestPipeKeepsItsCell(t *testing.T) {
	row := Row(Code("auth0|abc"), Text("auth0|abc"), "x")
	assert.Len(t, cells(row), 3, row)
	assert.Len(t, cells(Head("a", "b", "c")[:strings.Index(Head("a", "b", "c"), "\n")]), 3)
}

func TestComment(t *testing.T) {
	table := Head("subject", "model")
	for i := 0; i < 5000; i++ {
		table += Row(Code("usecase-"+strings.Repeat("x", i%7)), Code("anthropic.claude-3-haiku-20240307-v1:0"))
	}
	big := "## Matrix\n\n" + table
	diagram := "## Diagram\n\n```mermaid\nflowchart LR\n" + strings.Repeat("  a --> b\n", 8000) + "```\n"
	tests := []struct {
		name     string
		sections []Section
		limit    int
		has      []string
		hasNot   []string
	}{
		{"everything fits", []Section{{Body: "## Plan\n\nsmall\n", File: "review/plan.md"}}, MaxComment, []string{"**summary**", "## Plan\n\nsmall"}, []string{"Truncated"}},
		{"a large matrix is cut between rows, with a pointer", []Section{{Body: "## Plan\n\nsmall\n", File: "review/plan.md"}, {Body: big, File: "review/matrix.md"}}, MaxComment,
			[]string{"## Plan\n\nsmall", "## Matrix", "Truncated to fit a comment: the full report (", "is `review/matrix.md`"}, nil},
		{"a diagram that does not fit whole is named, not cut", []Section{{Body: big, File: "review/matrix.md"}, {Body: diagram, File: "review/diagram.md", Whole: true}}, MaxComment,
			[]string{"Not shown here, as the comment would exceed GitHub's 65536 characters: `review/diagram.md`."}, []string{"flowchart"}},
		{"a tiny limit still holds", []Section{{Body: big, File: "review/matrix.md"}, {Body: diagram, File: "review/diagram.md", Whole: true}}, 1000,
			[]string{"**summary**"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Comment("**summary**", tc.sections, tc.limit)
			assert.LessOrEqual(t, len(c), tc.limit)
			assert.True(t, strings.HasPrefix(c, "**summary**\n\n"), "summary first")
			for _, h := range tc.has {
				assert.Contains(t, c, h)
			}
			for _, h := range tc.hasNot {
				assert.NotContains(t, c, h)
			}
			for _, line := range strings.Split(c, "\n") {
				if strings.HasPrefix(line, "| ") {
					assert.Len(t, cells(line), 2, "a cut table keeps whole rows: %q", line)
				}
			}
			assert.Equal(t, 0, strings.Count(c, "```")%2, "no code block left open")
		})
	}
}

func TestPlural(t *testing.T) {
	for _, tc := range []struct {
		n          int
		word, want string
	}{
		{1, "role", "role"}, {0, "role", "roles"}, {2, "role", "roles"},
		{1, "policy", "policy"}, {3, "policy", "policies"}, {2, "region", "regions"},
	} {
		assert.Equal(t, tc.want, Plural(tc.n, tc.word), "%d %s", tc.n, tc.word)
	}
}
