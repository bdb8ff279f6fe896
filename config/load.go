package config

import (
	"fmt"
	"os"
	"reflect"
	"sync"

	"github.com/acme/genai-estate/internal/arn"
	"github.com/acme/genai-estate/internal/catalog"
)

// Load reads and validates a config file. On any problem it returns an
// ErrorList holding every problem found, each located in the file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, ErrorList{{File: path, Problem: err.Error(), Fix: "pass an existing file with -c config=<path>"}}
	}
	return Parse(path, data)
}

// Parse validates config bytes; file names the source in messages. On
// success the config carries its warnings; on failure the ErrorList holds
// every error and warning found.
func Parse(file string, data []byte) (*Config, error) {
	root, lines, e := parseYAML(file, data)
	if e != nil {
		return nil, ErrorList{e}
	}
	r := &Reporter{File: file, once: true}
	cfg := &Config{File: file}
	d := newDecoder(r, root, lines)
	r.Pos = make(map[string]Pos, d.values)
	r.Pos[""] = Pos{Line: 1, Column: 1}
	d.run(root, reflect.ValueOf(cfg).Elem())
	cfg.Pos = r.Pos
	switch {
	case d.exhausted:
		// One error for an alias bomb, not one per value it expanded to.
		return nil, ErrorList{d.bomb}
	case r.Has(nil):
		return nil, r.List.Err() // not a mapping: nothing else can be checked
	}
	prepare(cfg, r) // numbers checked, then defaults filled: an explicit 0 is a value, not "unset"
	validate(cfg, r)
	checkDeclared(cfg, r)
	if err := r.List.Err(); err != nil {
		return nil, err
	}
	r.List.Sort()
	cfg.Warnings = r.List.Warnings()
	return cfg, nil
}

// DefaultPath is the example estate's config, read when no other is named.
const DefaultPath = "config/usecases.yaml"

// Report returns a Reporter that locates later (plan-time) errors in this config.
func (c *Config) Report() *Reporter { return &Reporter{File: c.File, Pos: c.Pos} }

// UseCase returns the use case of that name.
func (c *Config) UseCase(name string) (UseCase, bool) {
	if i, ok := c.names().find(name, len(c.UseCases), func(i int) string { return c.UseCases[i].Name }, &c.names().useCases); ok {
		return c.UseCases[i], true
	}
	return UseCase{}, false
}

// Account returns the model account of that name.
func (c *Config) Account(name string) (ModelAccount, bool) {
	if i, ok := c.names().find(name, len(c.ModelAccounts), func(i int) string { return c.ModelAccounts[i].Name }, &c.names().accounts); ok {
		return c.ModelAccounts[i], true
	}
	return ModelAccount{}, false
}

// nameIndex finds use cases and accounts by name in constant time: planning
// looks one up per role, and a scan made a large estate quadratic.
type nameIndex struct {
	mu                 sync.Mutex
	useCases, accounts map[string]int
}

func (c *Config) names() *nameIndex {
	if c.index == nil {
		c.index = &nameIndex{}
	}
	return c.index
}

// find looks name up in the index m of a list of n names; a miss scans the
// list and rebuilds the index, since a config built in Go may be edited.
func (x *nameIndex) find(name string, n int, nameAt func(int) string, m *map[string]int) (int, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if i, ok := (*m)[name]; ok && i < n && nameAt(i) == name {
		return i, true
	}
	// Not indexed (yet, or the list changed): scan, and index if found.
	for i := 0; i < n; i++ {
		if nameAt(i) == name {
			*m = make(map[string]int, n)
			for j := n - 1; j >= 0; j-- { // the first of duplicate names wins, as the scan
				(*m)[nameAt(j)] = j
			}
			return i, true
		}
	}
	return 0, false
}

// Partition is the ARN partition of a model account, from its regions
// (validation ensures they share one).
func (a ModelAccount) Partition() string {
	p, _ := catalog.Partition(a.Regions[0])
	return p
}

// Issuer is the issuer URL without its scheme: the prefix of the OIDC
// condition keys (<issuer>:aud, <issuer>:sub) and of the provider ARN.
func (c *Config) Issuer() string {
	return trimScheme(c.IdentityProvider.IssuerURL)
}

// OIDCProviderArn is the ARN the IdP has, or will have, in an account.
func (c *Config) OIDCProviderArn(a ModelAccount) string {
	return arn.OIDCProvider(a.Partition(), a.Account, c.Issuer())
}

// EffectiveLimits merges estate-wide and per-account quotas over AWS's
// defaults. A quota can only be raised, so each default is the minimum its
// field declares: the number is stated once, in the struct tag the schema
// and the loader read too.
func (c *Config) EffectiveLimits(a ModelAccount) Limits {
	l := defaultLimits()
	out := reflect.ValueOf(&l).Elem()
	for _, o := range []Limits{c.Limits, a.Limits} {
		set := reflect.ValueOf(o)
		for i := range set.NumField() {
			if n := set.Field(i).Int(); n > 0 {
				out.Field(i).SetInt(n)
			}
		}
	}
	return l
}

// defaultLimits are AWS's default quotas: each Limits field's minimum.
var defaultLimits = sync.OnceValue(func() Limits {
	var l Limits
	v := reflect.ValueOf(&l).Elem()
	for i := range v.NumField() {
		f := v.Type().Field(i)
		m := number(f, "minimum")
		if m == nil || f.Type.Kind() != reflect.Int {
			panic(fmt.Sprintf("config: Limits.%s must be an int with a minimum: AWS's default quota", f.Name))
		}
		v.Field(i).SetInt(int64(*m))
	}
	return l
})

// Region is where the account's stack is deployed (IAM itself is global).
func (a ModelAccount) Region() string {
	if a.DeployRegion != "" {
		return a.DeployRegion
	}
	return a.Regions[0]
}

// CapabilityName is the role capability, defaulted.
func (c *Config) CapabilityName() string {
	if c.Capability == "" {
		return "BedrockInvoke"
	}
	return c.Capability
}

// CredentialTTLSeconds is the TTL of the gateway's cached credentials, which
// the routing data carries: the gateway's setting, or its declared default.
func (c *Config) CredentialTTLSeconds() int {
	if g := c.Central.Gateway; g != nil && g.CredentialTTLSeconds > 0 {
		return g.CredentialTTLSeconds
	}
	return defaultValue(reflect.TypeFor[int](), declared(reflect.TypeFor[Gateway](), "credentialTtlSeconds").def).(int)
}
