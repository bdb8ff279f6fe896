package diagram

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/catalog"
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
	return Props{Matrix: access.Review(inv, e), Inventory: inv, Estate: e,
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
	node = regexp.MustCompile(`^\s+([A-Za-z0-9_]+)(\(\[|\[/|\[\(|\[|\{\{)"[^"]*"(\]\)|/\]|\)\]|\]|\}\})$`)
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

func example(t *testing.T, attribution string) []byte {
	t.Helper()
	data, err := os.ReadFile("../../../config/usecases.yaml")
	require.NoError(t, err)
	require.Contains(t, string(data), "\ncostAttribution: profiles\n")
	return []byte(strings.Replace(string(data), "\ncostAttribution: profiles\n", "\ncostAttribution: "+attribution+"\n", 1))
}

const (
	guardrailNode = `g_222222222222_us_east_1_gr7k2m9x4p1q_3{{"Guardrail gr7k2m9x4p1q:3"}}`
	guardrailEdge = `r_222222222222_ACME_GenAI_UseCaseB_BedrockInvokeRole -->|"must carry"| g_222222222222_us_east_1_gr7k2m9x4p1q_3`
	loggingNode   = `l_222222222222_us_west_2[("Invocation logging<br/>CloudWatch Logs, S3")]`
)

// An account's enforced guardrail is drawn in its region, full and summarised.
func TestEnforcedGuardrail(t *testing.T) {
	data := strings.Replace(string(example(t, "profiles")), `    regions: [us-east-1, us-west-2]
`, `    regions: [us-east-1, us-west-2]
    enforcedGuardrails: [{region: us-west-2, id: ent0guard1, version: "4"}]
`, 1)
	full := draw(t, []byte(data), Full)
	wellFormed(t, full)
	assert.Contains(t, full, `    subgraph rg_222222222222_us_west_2["us-west-2"]`)
	assert.Contains(t, full, `eg_222222222222_us_west_2{{"Enforced guardrail ent0guard1:4<br/>on every call in the region"}}`)
	assert.Equal(t, 1, strings.Count(full, "Enforced guardrail"), "one account, one region")
	summary := draw(t, []byte(data), Summary)
	assert.Contains(t, summary, "logging in 2 regions · enforced guardrail in 1 region<br/>")
}

// The example drawn with each cost attribution: through application
// profiles (as it is configured) every role links its profiles; with
// direct grants there are none, and the guardrail stays.
func TestExample(t *testing.T) {
	full := []string{
		`"ECS task role<br/>ACME-GenAIGateway-TaskRole"`, `"IdP ACME-IdP-Okta<br/>acme.okta.com/oauth2/default"`,
		`subgraph a_222222222222["SharedModelsA · 222222222222"]`, `"OIDC provider ACME-IdP-Okta (imported)"`,
		`task -->|"UseCaseB, UseCaseC"| r_333333333333_ACME_GenAI_Marketing_BedrockInvokeRole`,
		`v_EvalPartner -->|ExternalId| r_333333333333_ACME_GenAI_EvalPartner_BedrockInvokeRole`,
	}
	for _, tc := range []struct {
		name, attribution, detail string
		nodes, edges              int
		want, not                 []string
	}{
		{
			name: "profiles", attribution: "profiles", detail: Auto,
			// IdP, task role, vendor, 3 providers, 8 roles, 9 policies (one per
			// role and region), 17 profiles (one per role, model and region),
			// 1 guardrail (UseCaseB's, in us-east-1), invocation logging in
			// each of the 4 account regions granted.
			nodes: 2 + 1 + 3 + 8 + 9 + 17 + 1 + 4,
			// 9 role-policy links, 3 provider links, 7 gateway edges, 1 vendor
			// edge, 1 IdP-task edge, 17 role-profile edges, 1 must-carry edge.
			edges: 9 + 3 + 7 + 1 + 1 + 17 + 1,
			want: append(slices.Clone(full),
				`"ACME-GenAI-UseCaseA-UsWest2-ProfileInvokePolicy"`,
				`subgraph rg_222222222222_us_west_2["us-west-2"]`,
				`f_444444444444_us_west_2_ACME_GenAI_UseCaseD_Meta_07a8d83a(["ACME-GenAI-UseCaseD-Meta_07a8d83a<br/>us.meta.llama3-2-11b-instruct-v1:0"])`,
				`r_444444444444_ACME_GenAI_UseCaseD_BedrockInvokeRole --> f_444444444444_us_west_2_ACME_GenAI_UseCaseD_Meta_07a8d83a`,
				guardrailNode, guardrailEdge, loggingNode),
		},
		{
			name: "direct", attribution: "direct", detail: Full,
			// One policy per role and provider (Marketing's three providers
			// share one MultiModel policy): 10 policies, no profiles; the
			// guardrail is drawn from the direct policies' condition; logging
			// is the same.
			nodes: 2 + 1 + 3 + 8 + 10 + 1 + 4,
			edges: 10 + 3 + 7 + 1 + 1 + 1,
			want:  append(slices.Clone(full), `"ACME-GenAI-Marketing-MultiModel-InvokePolicy"`, guardrailNode, guardrailEdge, loggingNode),
			not:   []string{"ProfileInvokePolicy", " f_", "<br/>anthropic."},
		},
		{
			name: "profiles summarised", attribution: "profiles", detail: Summary,
			nodes: 2 + 1 + 3, edges: 1 + 3 + 1,
			want: []string{
				`"ECS task role<br/>ACME-GenAIGateway-TaskRole"`,
				`s_222222222222["OIDC provider ACME-IdP-Okta<br/>2 roles · 3 policies · 7 profiles · 1 guardrail · logging in 2 regions<br/>AmazonTitan, Anthropic, Meta"]`,
				`s_444444444444["OIDC provider ACME-IdP-Okta (imported)<br/>2 roles · 2 policies · 3 profiles · logging in 1 region<br/>Anthropic, Meta"]`,
			},
			not: []string{"must carry", "Guardrail gr7k2m9x4p1q", "BedrockInvokeRole"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := draw(t, example(t, tc.attribution), tc.detail)
			nodes, edges := wellFormed(t, s)
			assert.Equal(t, tc.nodes, nodes)
			assert.Equal(t, tc.edges, edges)
			for _, want := range tc.want {
				assert.Contains(t, s, want)
			}
			for _, not := range tc.not {
				assert.NotContains(t, s, not)
			}
		})
	}
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

// Profiles count towards Mermaid's limits: 20 roles in one account is
// under FullLimit, but 14 models in two regions each make 560 profiles, past
// the edge limit, so Auto summarises and the summary counts them.
func TestProfilesPastTheEdgeLimitAreSummarised(t *testing.T) {
	var models []string
	for _, id := range catalog.Default().IDs() {
		if m, _ := catalog.Default().Lookup(id); m.InferenceProfile == nil && len(models) < 14 {
			models = append(models, id)
		}
	}
	require.Len(t, models, 14)
	var y strings.Builder
	y.WriteString("org: ACME\nlayer: GenAI\ncostAttribution: profiles\nidentityProvider: {name: Okta, issuerUrl: \"https://acme.okta.com/oauth2/default\", audiences: [genai-gateway]}\ncentral: {account: \"111111111111\", region: us-east-1}\nmodelAccounts:\n  - {name: Acct, account: \"200000000000\", regions: [us-east-1, us-west-2]}\nuseCases:\n")
	for u := range 20 {
		fmt.Fprintf(&y, "  - {name: UseCase%02d, subjects: [uc-%02d], access: [{account: Acct, models: [%s]}]}\n", u, u, strings.Join(models, ", "))
	}
	p := props(t, []byte(y.String()))
	p.Detail = Full
	var full strings.Builder
	assert.ErrorContains(t, Write(&full, p), "GitHub will not render it")
	_, fullEdges := wellFormed(t, full.String())
	assert.Equal(t, 1+1+20*(1+4+28), fullEdges, "IdP-task, IdP-provider, and per role a gateway edge, 4 policy links and 28 profile links")
	assert.Contains(t, full.String(), "r_200000000000_ACME_GenAI_UseCase00_BedrockInvokeRole --- p_200000000000_ACME_GenAI_UseCase00_UsWest2_ProfileInvokePolicy_2")

	s := draw(t, []byte(y.String()), Auto)
	nodes, edges := wellFormed(t, s)
	assert.Equal(t, 2+1, nodes)
	assert.Equal(t, 1+1, edges)
	assert.Contains(t, s, "<br/>20 roles · 80 policies · 560 profiles<br/>")
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
	dir := t.TempDir()
	files := map[string]string{
		"example.md":        draw(t, example(t, "profiles"), Auto),
		"example-direct.md": draw(t, example(t, "direct"), Full),
		"large-summary.md":  draw(t, fixture.Large(20, 60), Summary),
		"large-auto.md":     draw(t, fixture.Large(20, 60), Auto),
	}
	var paths []string
	for name, body := range files {
		paths = append(paths, filepath.Join(dir, name))
		require.NoError(t, os.WriteFile(paths[len(paths)-1], []byte(body), 0o644))
	}
	out, err := exec.Command("node", append([]string{"../../../scripts/check-mermaid.mjs"}, paths...)...).CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Equal(t, 4, strings.Count(string(out), ": ok (flowchart-v2)"), string(out))

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
