package access

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/estate"
	"github.com/acme/genai-estate/internal/fixture"
	"github.com/acme/genai-estate/internal/iampolicy"
)

// governed plans the example (which grants through application profiles,
// with a guardrail on UseCaseB) with replacements applied.
func governed(t *testing.T, pairs ...string) (*Inventory, *estate.Estate) {
	t.Helper()
	data, err := fixture.Example(pairs...)
	require.NoError(t, err)
	c, err := config.Parse("usecases.yaml", data)
	require.NoError(t, err)
	e, err := estate.Build(c)
	require.NoError(t, err)
	return FromEstate(e, c.File), e
}

func TestGovernedExample(t *testing.T) {
	for _, tc := range []struct {
		name  string
		pairs []string
	}{
		{"profiles and a guardrail", nil},
		{"with a network perimeter", []string{"costAttribution: profiles\n", "costAttribution: profiles\nperimeter: {sourceVpcEndpoints: [vpce-0a1b2c3d4e5f67890], sourceIps: [203.0.113.0/28]}\n"}},
		{"both direct and through profiles", []string{"costAttribution: profiles\n", "costAttribution: both\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv, e := governed(t, tc.pairs...)
			m := Review(inv, e)
			assert.Empty(t, m.Excess)
			assert.Empty(t, m.Missing)
			through := 0
			for _, x := range m.Entries {
				if x.Kind == ApplicationProfile {
					through++
				}
				assert.NotContains(t, x.Model, "application-inference-profile", "a call through a profile is listed as its model")
			}
			// 25 token and vendor grants of the model accounts, each through its profile.
			assert.Equal(t, 25, through)
		})
	}
}

// Breaking the route from an application profile to its model is a missing
// grant, not a silent one.
func TestBrokenApplicationProfile(t *testing.T) {
	inv, e := governed(t)
	r := role(t, inv, "222222222222", "ACME-GenAI-UseCaseB-BedrockInvokeRole")
	for _, p := range r.Policies {
		var kept []any
		for _, st := range iampolicy.Statements(p.Document) {
			if !strings.HasPrefix(st["Sid"].(string), "Via") {
				kept = append(kept, map[string]any(st))
			}
		}
		p.Document = map[string]any{"Version": "2012-10-17", "Statement": kept}
	}
	m := Review(inv, e)
	require.NotEmpty(t, m.Missing)
	assert.Contains(t, m.Missing[0].Problem, "calls through it fail")
}
