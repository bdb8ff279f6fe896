package test

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/estate"
	"github.com/acme/genai-estate/internal/fixture"
	"github.com/acme/genai-estate/internal/review/access"
	"github.com/acme/genai-estate/internal/review/assembly"
	"github.com/acme/genai-estate/internal/review/diff"
	"github.com/acme/genai-estate/stacks"
)

// synthAssembly synthesizes a config into a cloud assembly, as `cdk synth`
// does, and returns the directory with the config's plan.
func synthAssembly(t *testing.T, data []byte) (string, *estate.Estate) {
	t.Helper()
	c, err := config.Parse(example, data)
	require.NoError(t, err)
	e, err := estate.Build(c)
	require.NoError(t, err)
	dir := t.TempDir()
	app := awscdk.NewApp(&awscdk.AppProps{Context: withFlags(t, nil), Outdir: jsii.String(dir)})
	stacks.Build(app, e, nil)
	app.Synth(nil)
	return dir, e
}

// review reads a synthesized assembly back and evaluates it against its config.
func review(t *testing.T, dir string, e *estate.Estate) (*access.Inventory, *access.Matrix) {
	t.Helper()
	st, err := assembly.Read(dir)
	require.NoError(t, err)
	inv := access.FromAssembly(st, dir)
	return inv, access.Review(inv, e)
}

func readExample(t *testing.T) []byte {
	data, err := os.ReadFile(example)
	require.NoError(t, err)
	return data
}

// expectedRows reads the hand-written table of testdata/example-matrix.md.
func expectedRows(t *testing.T) []string {
	f, err := os.Open("testdata/example-matrix.md")
	require.NoError(t, err)
	defer f.Close()
	var rows []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cells := strings.Split(strings.Trim(sc.Text(), "| "), " | ")
		if len(cells) == 5 && cells[0] != "principal" && !strings.HasPrefix(cells[0], "---") {
			rows = append(rows, strings.Join(cells, " | "))
		}
	}
	return rows
}

func row(e access.Entry) string {
	p := e.Principal
	who := map[string]string{access.Token: "sub " + p.Subject, access.Vendor: "vendor " + p.AWS + " " + p.ExternalID, access.Service: "service " + p.Service}[p.Kind]
	role := e.Role
	if p.Kind == access.Service {
		role = "*"
	}
	return strings.Join([]string{who, e.Account, role, e.Region, e.Model}, " | ")
}

func TestExampleMatrix(t *testing.T) {
	dir, e := synthAssembly(t, readExample(t))
	_, m := review(t, dir, e)
	var got []string
	for _, x := range m.Entries {
		got = append(got, row(x))
	}
	assert.ElementsMatch(t, expectedRows(t), got)
	assert.Empty(t, m.Excess, "the example grants nothing beyond its config")
	assert.Empty(t, m.Missing)

	// The plan in pure Go sees the same model-account grants as the templates.
	planned := access.Review(access.FromEstate(e, example), e)
	var fromPlan, fromTemplates []string
	for _, x := range planned.Entries {
		fromPlan = append(fromPlan, row(x))
	}
	for _, x := range m.Entries {
		if x.Principal.Kind != access.Service {
			fromTemplates = append(fromTemplates, row(x))
		}
	}
	assert.Equal(t, fromTemplates, fromPlan)
	assert.Empty(t, planned.Excess)
	assert.Empty(t, planned.Missing)
}

// edit applies replacements to the example config, each of which must apply.
func edit(t *testing.T, data []byte, pairs ...string) []byte {
	t.Helper()
	out, err := fixture.Edit(data, pairs...)
	require.NoError(t, err)
	return out
}

// What the plan fixtures change in the example.
var (
	gainModel = []string{"models: [meta.llama3-70b-instruct-v1:0]", "models: [meta.llama3-70b-instruct-v1:0, meta.llama3-8b-instruct-v1:0]"}
	renameC   = []string{"- name: UseCaseC\n", "- name: CampaignCopy\n", "members: [UseCaseB, UseCaseC]", "members: [UseCaseB, CampaignCopy]"}
)

func TestPlanOfSynthesizedEstates(t *testing.T) {
	base := readExample(t)
	baseDir, baseE := synthAssembly(t, base)
	baseInv, baseM := review(t, baseDir, baseE)
	headDir, headE := synthAssembly(t, edit(t, base, append(gainModel, renameC...)...))
	headInv, headM := review(t, headDir, headE)

	p := diff.Compare(diff.Side{Inventory: baseInv, Matrix: baseM}, diff.Side{Inventory: headInv, Matrix: headM})

	require.Len(t, p.Gained, 1, "only UseCaseB's new model is gained; the rename moves access without gaining any")
	assert.Equal(t, "usecase-b", p.Gained[0].Principal.Subject)
	assert.Equal(t, "meta.llama3-8b-instruct-v1:0", p.Gained[0].Model)
	assert.Empty(t, p.Lost)
	assert.True(t, p.Broadening())
	var changes []string
	for _, c := range p.Changes {
		changes = append(changes, c.Kind+" "+c.Resource+" "+c.From+" -> "+c.Name)
	}
	assert.Equal(t, []string{
		// The example grants through application profiles: one policy per role and region.
		"modified policy  -> ACME-GenAI-UseCaseB-UsEast1-ProfileInvokePolicy",
		"replaced role ACME-GenAI-UseCaseC-BedrockInvokeRole -> ACME-GenAI-CampaignCopy-BedrockInvokeRole",
		"replaced policy ACME-GenAI-UseCaseC-UsEast1-ProfileInvokePolicy -> ACME-GenAI-CampaignCopy-UsEast1-ProfileInvokePolicy",
	}, changes)
	assert.Empty(t, p.NewExcess)
}
