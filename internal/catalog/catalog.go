// Package catalog holds the embedded model catalog and the list of AWS
// regions. It is pure data and lookups, so the config checks run without CDK.
package catalog

import (
	_ "embed"
	"fmt"
	"sort"

	"gopkg.in/yaml.v3"
)

//go:embed catalog.yaml
var raw []byte

// Model is one catalog entry: a foundation model, or a system-defined
// inference profile when InferenceProfile is set.
type Model struct {
	ID                  string `yaml:"id" json:"id" doc:"Bedrock model id or inference profile id."`
	Provider            string `yaml:"provider,omitempty" json:"provider,omitempty" doc:"Provider name used in policy names, e.g. Anthropic. Profiles inherit it from their model."`
	EmbeddingDimensions []int  `yaml:"embeddingDimensions,omitempty" json:"embeddingDimensions,omitempty" doc:"Output dimensions an embedding model supports."`

	InferenceProfile *Profile `yaml:"inferenceProfile,omitempty" json:"inferenceProfile,omitempty" doc:"Set for a system-defined cross-region inference profile."`
}

// Profile describes a system-defined cross-region inference profile.
type Profile struct {
	Model   string   `yaml:"model" json:"model" doc:"The foundation model the profile routes to."`
	Regions []string `yaml:"regions" json:"regions" doc:"Destination regions; the profile may be invoked from any of them."`
	Global  bool     `yaml:"global,omitempty" json:"global,omitempty" doc:"A global profile, which may route to any commercial region."`
}

type file struct {
	Models             []Model                        `yaml:"models"`
	SourceDestinations map[string]map[string][]string `yaml:"sourceDestinations"`
	Regions            map[string][]string            `yaml:"regions"`
}

var (
	defaults  []Model
	sources   map[string]map[string][]string // profile -> source region -> destinations
	partition = map[string]string{}
)

func init() {
	var f file
	if err := yaml.Unmarshal(raw, &f); err != nil {
		panic(fmt.Sprintf("catalog.yaml: %v", err))
	}
	defaults = f.Models
	sources = f.SourceDestinations
	for p, rs := range f.Regions {
		for _, r := range rs {
			partition[r] = p
		}
	}
}

// Catalog is a set of models by id.
type Catalog struct {
	models  map[string]Model
	sources map[string]map[string][]string
}

// Default returns the embedded catalog.
func Default() *Catalog { return New(nil) }

// New returns the embedded catalog with extra entries added, replacing
// embedded entries of the same id. A profile without a provider takes its
// model's provider.
func New(extra []Model) *Catalog {
	c := &Catalog{models: map[string]Model{}, sources: map[string]map[string][]string{}}
	for _, m := range append(append([]Model{}, defaults...), extra...) {
		c.models[m.ID] = m
	}
	for id, s := range sources {
		c.sources[id] = s
	}
	for _, m := range extra {
		delete(c.sources, m.ID) // an entry the config redefines keeps only its own regions
	}
	// Providers come from foundation models only, so map order cannot matter.
	for id, m := range c.models {
		if m.Provider == "" && m.InferenceProfile != nil {
			if base := c.models[m.InferenceProfile.Model]; base.InferenceProfile == nil {
				m.Provider = base.Provider
				c.models[id] = m
			}
		}
	}
	return c
}

// Lookup finds a model or profile by id.
func (c *Catalog) Lookup(id string) (Model, bool) {
	m, ok := c.models[id]
	return m, ok
}

// Destinations are the regions a system-defined profile may route a call
// from source to: the catalog's per-source list where Bedrock documents one,
// else the profile's regions. Nil for a foundation model.
func (c *Catalog) Destinations(id, source string) []string {
	m, ok := c.models[id]
	if !ok || m.InferenceProfile == nil {
		return nil
	}
	if d, ok := c.sources[id][source]; ok {
		return d
	}
	return m.InferenceProfile.Regions
}

// IDs lists every id, sorted.
func (c *Catalog) IDs() []string {
	ids := make([]string, 0, len(c.models))
	for id := range c.models {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Partition returns the ARN partition of a region, and whether the region exists.
func Partition(region string) (string, bool) {
	p, ok := partition[region]
	return p, ok
}

// Regions lists every known region, sorted.
func Regions() []string {
	rs := make([]string, 0, len(partition))
	for r := range partition {
		rs = append(rs, r)
	}
	sort.Strings(rs)
	return rs
}
