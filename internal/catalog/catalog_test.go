package catalog

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The embedded data must be internally consistent: every profile points at a
// known model, every provider is set, every region is real.
func TestEmbeddedCatalogConsistent(t *testing.T) {
	c := Default()
	require.NotEmpty(t, c.IDs())
	for _, id := range c.IDs() {
		m, _ := c.Lookup(id)
		assert.NotEmpty(t, m.Provider, id)
		if p := m.InferenceProfile; p != nil {
			base, ok := c.Lookup(p.Model)
			if assert.True(t, ok, "%s routes to unknown model %s", id, p.Model) {
				assert.Nil(t, base.InferenceProfile, "%s routes to another profile", id)
			}
			assert.NotEmpty(t, p.Regions, id)
			for _, r := range p.Regions {
				_, ok := Partition(r)
				assert.True(t, ok, "%s: unknown region %s", id, r)
			}
		}
	}
}

func TestLookupAndOverride(t *testing.T) {
	tests := []struct {
		name     string
		extra    []Model
		id       string
		provider string
		found    bool
	}{
		{"embedded model", nil, "anthropic.claude-3-sonnet-20240229-v1:0", "Anthropic", true},
		{"profile inherits provider", nil, "us.meta.llama3-2-11b-instruct-v1:0", "Meta", true},
		{"unknown", nil, "anthropic.claude-9", "", false},
		{"added by config", []Model{{ID: "acme.custom-v1", Provider: "Acme"}}, "acme.custom-v1", "Acme", true},
		{"overridden by config", []Model{{ID: "amazon.nova-pro-v1:0", Provider: "Nova"}}, "amazon.nova-pro-v1:0", "Nova", true},
		{"added profile inherits", []Model{{ID: "eu.amazon.nova-pro-v1:0", InferenceProfile: &Profile{Model: "amazon.nova-pro-v1:0", Regions: []string{"eu-west-1"}}}}, "eu.amazon.nova-pro-v1:0", "AmazonNova", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, ok := New(tc.extra).Lookup(tc.id)
			assert.Equal(t, tc.found, ok)
			assert.Equal(t, tc.provider, m.Provider)
		})
	}
}

func TestPartition(t *testing.T) {
	tests := []struct{ region, partition string }{
		{"us-east-1", "aws"}, {"eu-west-3", "aws"}, {"us-gov-west-1", "aws-us-gov"}, {"cn-north-1", "aws-cn"}, {"us-east-7", ""},
	}
	for _, tc := range tests {
		p, ok := Partition(tc.region)
		assert.Equal(t, tc.partition, p, tc.region)
		assert.Equal(t, tc.partition != "", ok, tc.region)
	}
}

// Some profiles route to other regions depending on where they are called from.
func TestDestinationsBySource(t *testing.T) {
	c := Default()
	haiku := "us.anthropic.claude-3-haiku-20240307-v1:0"
	assert.Equal(t, []string{"us-east-1", "us-east-2", "us-west-2"}, c.Destinations(haiku, "us-east-2"))
	assert.Equal(t, []string{"us-east-1", "us-west-2"}, c.Destinations(haiku, "us-west-2"))
	assert.Nil(t, c.Destinations("anthropic.claude-3-haiku-20240307-v1:0", "us-east-1"), "a foundation model has none")
	redefined := New([]Model{{ID: haiku, InferenceProfile: &Profile{Model: "anthropic.claude-3-haiku-20240307-v1:0", Regions: []string{"us-east-1"}}}})
	assert.Equal(t, []string{"us-east-1"}, redefined.Destinations(haiku, "us-east-2"), "a config's own entry keeps its own regions")
	for id, bySource := range sources {
		m, ok := c.Lookup(id)
		require.True(t, ok, id)
		require.NotNil(t, m.InferenceProfile, id)
		for src, ds := range bySource {
			_, known := Partition(src)
			assert.True(t, known, src)
			for _, d := range ds {
				_, known := Partition(d)
				assert.True(t, known, d)
			}
		}
	}
}
