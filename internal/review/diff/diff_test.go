package diff

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/estate"
	"github.com/acme/genai-estate/internal/fixture"
	"github.com/acme/genai-estate/internal/review/access"
)

// side plans the example config with replacements applied (each must apply).
func side(t *testing.T, pairs ...string) Side {
	t.Helper()
	data, err := fixture.Example(pairs...)
	require.NoError(t, err)
	c, err := config.Parse("usecases.yaml", data)
	require.NoError(t, err)
	e, err := estate.Build(c)
	require.NoError(t, err)
	inv := access.FromEstate(e, "usecases.yaml")
	return Side{Inventory: inv, Matrix: access.Review(inv, e)}
}

func summary(p *Plan) []string {
	var out []string
	for _, e := range p.Gained {
		out = append(out, "gained "+e.Principal.Subject+e.Principal.ExternalID+" "+e.Model+" "+e.Region)
	}
	for _, e := range p.Lost {
		out = append(out, "lost "+e.Principal.Subject+e.Principal.ExternalID+" "+e.Model+" "+e.Region)
	}
	for _, c := range p.Changes {
		out = append(out, strings.Join(strings.Fields(c.Kind+" "+c.Resource+" "+c.From+" "+c.Name), " "))
	}
	return out
}

func TestCompare(t *testing.T) {
	tests := []struct {
		name         string
		edit         []string
		want         []string
		broadening   bool
		replacements int
	}{
		{"no change", nil, nil, false, 0},
		{"one use case gains a model", []string{"models: [meta.llama3-70b-instruct-v1:0]", "models: [meta.llama3-70b-instruct-v1:0, meta.llama3-8b-instruct-v1:0]"},
			[]string{"gained usecase-b meta.llama3-8b-instruct-v1:0 us-east-1", "modified policy ACME-GenAI-UseCaseB-UsEast1-ProfileInvokePolicy"}, true, 0},
		{"a renamed use case replaces its role and policies, and no access changes", []string{"- name: UseCaseC\n", "- name: CampaignCopy\n", "members: [UseCaseB, UseCaseC]", "members: [UseCaseB, CampaignCopy]"},
			[]string{
				"replaced role ACME-GenAI-UseCaseC-BedrockInvokeRole ACME-GenAI-CampaignCopy-BedrockInvokeRole",
				// The example grants through application profiles: one policy per role and region.
				"replaced policy ACME-GenAI-UseCaseC-UsEast1-ProfileInvokePolicy ACME-GenAI-CampaignCopy-UsEast1-ProfileInvokePolicy",
			}, false, 2},
		{"a use case's own access removed loses its role", []string{"    access:\n      - account: SharedModelsA\n        regions: [us-east-1]\n        models: [meta.llama3-70b-instruct-v1:0]\n", "    access: []\n"},
			[]string{"lost usecase-b meta.llama3-70b-instruct-v1:0 us-east-1", "removed role ACME-GenAI-UseCaseB-BedrockInvokeRole", "removed policy ACME-GenAI-UseCaseB-UsEast1-ProfileInvokePolicy"}, false, 0},
		{"a rotated external id", []string{"externalId: acme-evalpartner-7f3c2a91", "externalId: acme-evalpartner-0b1d2e3f"},
			[]string{"lost acme-evalpartner-7f3c2a91 anthropic.claude-3-haiku-20240307-v1:0 us-east-1", "gained acme-evalpartner-0b1d2e3f anthropic.claude-3-haiku-20240307-v1:0 us-east-1", "modified role ACME-GenAI-EvalPartner-BedrockInvokeRole"}, true, 0},
		{"a new subject changes a trust", []string{"subjects: [usecase-b]", "subjects: [usecase-b, usecase-b2]"},
			[]string{
				"gained usecase-b2 meta.llama3-70b-instruct-v1:0 us-east-1",
				"gained usecase-b2 amazon.titan-text-express-v1 us-east-1", "gained usecase-b2 anthropic.claude-3-haiku-20240307-v1:0 us-east-1", "gained usecase-b2 meta.llama3-8b-instruct-v1:0 us-east-1",
				"modified role ACME-GenAI-UseCaseB-BedrockInvokeRole", "modified role ACME-GenAI-Marketing-BedrockInvokeRole",
			}, true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := Compare(side(t), side(t, tc.edit...))
			assert.ElementsMatch(t, tc.want, summary(p))
			assert.Equal(t, tc.broadening, p.Broadening())
			assert.Equal(t, tc.replacements, p.Replacements())
		})
	}
}

// A role that keeps its name but changes logical id or stack is replaced by
// CloudFormation, which fails on the fixed name: the plan must say so.
func TestLogicalIDMoveIsAReplacement(t *testing.T) {
	base, head := side(t), side(t)
	for i, s := range []Side{base, head} {
		for _, r := range s.Inventory.Roles {
			r.LogicalID = r.Name
			if i == 1 && r.Name == "ACME-GenAI-UseCaseA-BedrockInvokeRole" && r.Account == "222222222222" {
				r.Stack += "-2"
			}
		}
	}
	p := Compare(base, head)
	require.Len(t, p.Changes, 1)
	assert.Equal(t, Replaced, p.Changes[0].Kind)
	assert.Contains(t, p.Changes[0].Note, "fixed role name makes that fail")
	assert.Empty(t, p.Gained)
}

func TestMarkdown(t *testing.T) {
	p := Compare(side(t), side(t, "- name: UseCaseC\n", "- name: CampaignCopy\n", "members: [UseCaseB, UseCaseC]", "members: [UseCaseB, CampaignCopy]"))
	var b strings.Builder
	p.Markdown(&b)
	md := b.String()
	assert.Contains(t, md, "**0 grants gained, 0 lost; 1 replaced role, 1 replaced policy**")
	assert.Contains(t, md, "> [!WARNING]\n> 2 replacements")
	assert.Contains(t, md, "| **replaced** ⚠️ | SharedModelsB (333333333333) | role | `ACME-GenAI-UseCaseC-BedrockInvokeRole` → `ACME-GenAI-CampaignCopy-BedrockInvokeRole` | renamed UseCaseC to CampaignCopy")
}

func TestDiffering(t *testing.T) {
	for _, tc := range [][4]string{
		{"ACME-GenAI-UseCaseB-BedrockInvokeRole", "ACME-GenAI-UseCaseX-BedrockInvokeRole", "UseCaseB", "UseCaseX"},
		{"ACME-GenAI-A-BedrockInvokeRole", "ACME-GenAI-Abc-BedrockInvokeRole", "A", "Abc"},
		{"ACME-GenAI-Foo-BedrockInvokeRole", "ACME-GenAI-Foo-BedrockInvokeRole", "", ""},
	} {
		from, to := differing(tc[0], tc[1])
		assert.Equal(t, [2]string{tc[2], tc[3]}, [2]string{from, to}, tc[0]+" vs "+tc[1])
	}
}
