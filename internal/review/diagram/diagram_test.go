package diagram

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/estate"
	"github.com/acme/genai-estate/internal/fixture"
	"github.com/acme/genai-estate/internal/naming"
	"github.com/acme/genai-estate/internal/review/access"
)

func props(t *testing.T, data []byte) Props {
	t.Helper()
	c, err := config.Parse("estate.yaml", data)
	require.NoError(t, err)
	e, err := estate.Build(c)
	require.NoError(t, err)
	inv := access.FromEstate(e, c.File)
	return Props{Matrix: access.Review(inv, e), Inventory: inv,
		Central: Central{Account: c.Central.Account, TaskRole: naming.TaskRole{Org: c.Org}.String(), IdP: "ACME-IdP-Okta", Issuer: c.Issuer()}}
}

func draw(t *testing.T, data []byte, detail string) string {
	t.Helper()
	p := props(t, data)
	p.Detail = detail
	var b strings.Builder
	err := Write(&b, p)
	if detail != Full {
		require.NoError(t, err, "auto and summary always fit what GitHub renders")
	}
	return b.String()
}

var (
	node = regexp.MustCompile(`^\s+([A-Za-z0-9_]+)(\(\[|\[/|\[)"[^"]*"(\]\)|/\]|\])$`)
	edge = regexp.MustCompile(`^\s+([A-Za-z0-9_]+) (---|-->\|[^|]+\||-->|-\. [a-z ]+ \.->) ([A-Za-z0-9_]+)$`)
	sub  = regexp.MustCompile(`^\s+subgraph ([A-Za-z0-9_]+)\["[^"]*"\]$`)
)

// wellFormed checks what makes Mermaid refuse a flowchart: every line is a
// node, an edge, or a balanced subgraph; ids are declared once, before use.
func wellFormed(t *testing.T, s string) (nodes, edges int) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	require.Equal(t, "```mermaid", lines[0])
	require.Equal(t, "flowchart LR", lines[1])
	require.Equal(t, "```", lines[len(lines)-1])
	declared := map[string]bool{}
	depth := 0
	for _, l := range lines[2 : len(lines)-1] {
		switch {
		case sub.MatchString(l):
			id := sub.FindStringSubmatch(l)[1]
			assert.False(t, declared[id], "declared twice: %s", id)
			declared[id] = true
			depth++
		case strings.TrimSpace(l) == "end":
			depth--
			require.GreaterOrEqual(t, depth, 0, "end without subgraph")
		case node.MatchString(l):
			id := node.FindStringSubmatch(l)[1]
			assert.False(t, declared[id], "declared twice: %s", id)
			declared[id] = true
			nodes++
		case edge.MatchString(l):
			m := edge.FindStringSubmatch(l)
			assert.True(t, declared[m[1]], "undeclared: %s", m[1])
			assert.True(t, declared[m[3]], "undeclared: %s", m[3])
			edges++
		default:
			t.Errorf("not a node, edge or subgraph: %q", l)
		}
	}
	assert.Equal(t, 0, depth, "unbalanced subgraphs")
	return nodes, edges
}

func TestExampleInFull(t *testing.T) {
	data, err := os.ReadFile("../../../config/usecases.yaml")
	require.NoError(t, err)
	s := draw(t, data, Auto)
	nodes, edges := wellFormed(t, s)
	// IdP, task role, vendor, 3 providers, 8 roles, 9 policies (one per role
	// and region: the example grants through application profiles).
	assert.Equal(t, 2+1+3+8+9, nodes)
	for _, want := range []string{
		`"ECS task role<br/>ACME-GenAIGateway-TaskRole"`, `"IdP ACME-IdP-Okta<br/>acme.okta.com/oauth2/default"`,
		`subgraph a_222222222222["SharedModelsA · 222222222222"]`, `"OIDC provider ACME-IdP-Okta (imported)"`,
		`"ACME-GenAI-UseCaseA-UsWest2-ProfileInvokePolicy"`, `task -->|"UseCaseB, UseCaseC"| r_333333333333_ACME_GenAI_Marketing_BedrockInvokeRole`,
		`v_EvalPartner -->|ExternalId| r_333333333333_ACME_GenAI_EvalPartner_BedrockInvokeRole`,
	} {
		assert.Contains(t, s, want)
	}
	// 9 role-policy links, 3 provider links, 7 gateway edges, 1 vendor edge, 1 IdP-task edge.
	assert.Equal(t, 9+3+7+1+1, edges)
}

// At 20 accounts and 200 use cases a full drawing has hundreds of nodes;
// Auto summarises each account in one node.
func TestTwentyAccountsAreSummarised(t *testing.T) {
	s := draw(t, fixture.Large(20, 200), Auto)
	nodes, edges := wellFormed(t, s)
	assert.Equal(t, 2+20, nodes, "IdP, task role and one node per account")
	assert.Equal(t, 1+20, edges)
	assert.NotContains(t, s, "BedrockInvokeRole")
	// 50 use-case roles with an Anthropic and a Meta policy, and one domain role with a Titan policy.
	assert.Contains(t, s, `s_200000000000["OIDC provider ACME-IdP-Okta<br/>51 roles · 101 policies<br/>AmazonTitan, Anthropic, Meta"]`)
	assert.Regexp(t, `task -->\|"5\d use cases"\| a_200000000000\n`, s, "50 own roles and 10 domain members, some of them both")

	var full strings.Builder
	p := props(t, fixture.Large(20, 200))
	p.Detail = Full
	assert.ErrorContains(t, Write(&full, p), "GitHub will not render it", "in full it is past Mermaid's limits")
	fullNodes, _ := wellFormed(t, full.String())
	assert.Greater(t, fullNodes, 10*nodes, "the summary is what keeps it readable")
}

func TestLabelsCannotBreakOut(t *testing.T) {
	assert.Equal(t, `"a #quot;b#quot; c"`, label(`a "b" c`))
	assert.Equal(t, "r_1_ACME_GenAI_X", id("r", "1", "ACME-GenAI-X"))
}

// Mermaid's own parser (installed by npm ci) accepts what is drawn; a broken
// diagram proves the check can fail.
func TestMermaidParses(t *testing.T) {
	if _, err := os.Stat("../../../node_modules/mermaid"); err != nil {
		t.Skip("run npm ci to install Mermaid's parser")
	}
	data, err := os.ReadFile("../../../config/usecases.yaml")
	require.NoError(t, err)
	dir := t.TempDir()
	files := map[string]string{
		"example.md":       draw(t, data, Auto),
		"large-summary.md": draw(t, fixture.Large(20, 60), Summary),
		"large-auto.md":    draw(t, fixture.Large(20, 60), Auto),
	}
	var paths []string
	for name, body := range files {
		paths = append(paths, filepath.Join(dir, name))
		require.NoError(t, os.WriteFile(paths[len(paths)-1], []byte(body), 0o644))
	}
	out, err := exec.Command("node", append([]string{"../../../scripts/check-mermaid.mjs"}, paths...)...).CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Equal(t, 3, strings.Count(string(out), ": ok (flowchart-v2)"), string(out))

	// What Write refuses, Mermaid refuses: a broken diagram, and one past its edge limit.
	broken := filepath.Join(dir, "broken.md")
	require.NoError(t, os.WriteFile(broken, []byte("```mermaid\nflowchart LR\n  a[\"x\" --> b\n```\n"), 0o644))
	out, err = exec.Command("node", "../../../scripts/check-mermaid.mjs", broken).CombinedOutput()
	assert.Error(t, err, string(out))
	huge := filepath.Join(dir, "huge.md")
	require.NoError(t, os.WriteFile(huge, []byte(draw(t, fixture.Large(20, 60), Full)), 0o644))
	out, err = exec.Command("node", "../../../scripts/check-mermaid.mjs", huge).CombinedOutput()
	assert.Error(t, err, string(out))
	assert.Contains(t, string(out), "Edge limit exceeded")
}
