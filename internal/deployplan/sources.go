package deployplan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/estate"
	"github.com/acme/genai-estate/internal/review/assembly"
)

// Stack names that only the app knows otherwise; the stacks package uses these.

// CentralGroup is the central stack's deployment group (its pipeline stage).
const CentralGroup = "Central"

// CentralStackName is the central gateway stack's name.
func CentralStackName(c *config.Config) string { return c.Org + "-GenAIGateway-Central" }

// RAGStackNames are the RAG base and Lambda stacks' names.
func RAGStackNames(c *config.Config) (base, lambda string) {
	return c.RAG.Name + "-Base", c.RAG.Name + "-Lambda"
}

// BootstrapStackName is the bootstrap StackSet stack's name.
func BootstrapStackName(c *config.Config) string { return c.Org + "-" + c.Layer + "-CDKBootstrap" }

// PipelineStackName is the name of the i-th (from 0) pipeline stack.
func PipelineStackName(c *config.Config, i int) string {
	name := c.Org + "-" + c.Layer + "-Pipeline"
	if i > 0 {
		name += fmt.Sprintf("-%d", i+1)
	}
	return name
}

// ModelAccountStacks are the stacks of the model accounts, in the app's
// order: each account's used shards, the first of which the others depend on.
func ModelAccountStacks(e *estate.Estate) []Stack {
	c := e.Config
	var out []Stack
	for _, a := range e.Accounts {
		// Shards without roles are no stacks; the others depend on the first.
		used := a.UsedShards()
		for _, shard := range used {
			s := Stack{Name: a.Stack(c.Org, c.Layer, shard), Account: a.Account, Region: a.Region(), Kind: ModelAccount, Group: a.Name}
			if shard != used[0] {
				s.DependsOn = []string{a.Stack(c.Org, c.Layer, used[0])}
			}
			// What the template holds: not the config paths or group members.
			type role struct {
				Name, Kind, Vendor, Description string
				Trust                           any
				Policies                        []*estate.Policy
			}
			var roles []role
			for _, r := range a.ShardRoles(shard) {
				s.Roles = append(s.Roles, r.Name.String())
				roles = append(roles, role{r.Name.String(), r.Kind, r.Vendor, r.Description, r.Trust, r.Policies})
			}
			s.Fingerprint = hash(struct {
				Provider bool
				Arn      string
				Roles    []role
				Tags     []estate.Tag
			}{a.CreateProvider && shard == 0, a.ProviderArn, roles, e.Tags})
			out = append(out, s)
		}
		// The account's application inference profiles, per region, need
		// its roles.
		var mains []string
		for _, shard := range used {
			mains = append(mains, a.Stack(c.Org, c.Layer, shard))
		}
		for _, set := range a.Profiles {
			type share struct {
				Role                      string
				Policies                  []*estate.Policy
				Parameter, ParameterValue string
				Advanced                  bool
			}
			var shares []share
			var served []string
			for _, r := range set.Roles {
				shares = append(shares, share{r.Role.Name.String(), r.Policies, r.Parameter, r.ParameterValue, r.Advanced})
				served = append(served, r.Role.Name.String())
			}
			// Roles are those it serves: a role's profiles go with the role,
			// before central when it is added, after when it is removed.
			fp := hash(struct {
				Profiles any
				Roles    []share
				Tags     []estate.Tag
			}{set.Profiles, shares, e.Tags})
			if set.Logging != nil || set.Enforced != nil {
				// Hashed only when set, so stacks without them keep their
				// fingerprint. The enforced guardrail's policy attaches to
				// every role granted in the region: it serves them too.
				var enforced []string
				for _, r := range set.EnforcedRoles {
					enforced = append(enforced, r.Name.String())
					if !slices.Contains(served, r.Name.String()) {
						served = append(served, r.Name.String())
					}
				}
				slices.Sort(served)
				fp = hash(struct {
					Profiles      string
					Logging       *config.Logging
					Enforced      *config.EnforcedGuardrail
					EnforcedRoles []string
				}{fp, set.Logging, set.Enforced, enforced})
			}
			out = append(out, Stack{Name: set.Stack, Account: a.Account, Region: set.Region, Kind: ModelAccount, Group: a.Name, DependsOn: mains, Roles: served, Fingerprint: fp})
		}
	}
	return out
}

// FromEstate lists the stacks a config deploys, fingerprinted by their plan:
// the model accounts' roles and policies, the central stack's routing data
// and settings, the RAG and pipeline settings.
func FromEstate(e *estate.Estate) []Stack {
	c := e.Config
	out := ModelAccountStacks(e)
	if c.Central.Gateway != nil {
		out = append(out, Stack{Name: CentralStackName(c), Account: c.Central.Account, Region: c.Central.Region, Kind: Central, Group: CentralGroup,
			Fingerprint: hash(struct {
				Central config.Central
				IdP     config.IdentityProvider
				Routing []estate.Parameter
				Tags    []estate.Tag
			}{c.Central, c.IdentityProvider, e.Routing, e.Tags})})
	}
	if c.RAG != nil {
		base, lambda := RAGStackNames(c)
		fp := hash(struct {
			RAG  *config.RAG
			Tags []estate.Tag
		}{c.RAG, e.Tags})
		out = append(out,
			Stack{Name: base, Account: c.RAG.Account, Region: c.RAG.Region, Kind: Other, Group: c.RAG.Name, Fingerprint: fp},
			Stack{Name: lambda, Account: c.RAG.Account, Region: c.RAG.Region, Kind: Other, Group: c.RAG.Name, DependsOn: []string{base}, Fingerprint: fp})
	}
	if c.Pipeline != nil {
		n := 1
		if l, err := Layout(out, c.Pipeline.WaveSize); err == nil {
			n = len(l)
		}
		out = append(ToolingStacks(c, n), out...)
	}
	return out
}

// ToolingStacks are the bootstrap StackSet stack (when configured) and n
// pipeline stacks.
func ToolingStacks(c *config.Config, n int) []Stack {
	p := c.Pipeline
	var out []Stack
	if b := p.Bootstrap; b != nil {
		out = append(out, Stack{Name: BootstrapStackName(c), Account: b.Account, Region: b.Region, Kind: Bootstrap, Fingerprint: hash(b)})
	}
	for i := range n {
		out = append(out, Stack{Name: PipelineStackName(c, i), Account: p.Account, Region: p.Region, Kind: Pipeline, Fingerprint: hash(p)})
	}
	return out
}

func hash(v any) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// FromAssembly lists the stacks of a cloud assembly (cdk.out), nested
// assemblies (CDK Pipelines stages) included, fingerprinted by their
// templates. A stack's kind is read from what it holds.
func FromAssembly(dir string) ([]Stack, error) {
	var out []Stack
	if err := readAssembly(dir, &out); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	// A stack that needs a model-account stack of its own account (an
	// account's inference profiles, say) deploys with that account.
	byName := map[string]*Stack{}
	for i := range out {
		byName[out[i].Name] = &out[i]
	}
	for i := range out {
		s := &out[i]
		for _, d := range s.DependsOn {
			if dep := byName[d]; s.Kind == Other && dep != nil && dep.Kind == ModelAccount && dep.Account == s.Account {
				s.Kind, s.Group = ModelAccount, dep.Group
			}
		}
	}
	return out, nil
}

func readAssembly(dir string, out *[]Stack) error {
	arts, err := assembly.Artifacts(dir)
	if err != nil {
		return err
	}
	for _, a := range arts {
		rest, _ := strings.CutPrefix(a.Environment, "aws://")
		account, region, _ := strings.Cut(rest, "/")
		t, err := os.ReadFile(a.Template)
		if err != nil {
			return err
		}
		s := Stack{Name: a.Name, Account: account, Region: region, DependsOn: a.DependsOn}
		sum := sha256.Sum256(t)
		s.Fingerprint = hex.EncodeToString(sum[:])
		if err := classify(&s, t); err != nil {
			return fmt.Errorf("%s: %w", a.Template, err)
		}
		*out = append(*out, s)
	}
	return nil
}

// modelAccountTypes are all that a model-account stack holds.
var modelAccountTypes = map[string]bool{"AWS::IAM::OIDCProvider": true, "AWS::IAM::Role": true, "AWS::IAM::ManagedPolicy": true, "AWS::CDK::Metadata": true}

// classify sets a stack's kind, group and roles from its template: the
// StackSet and the pipeline by their resource types, the central stack by
// its gateway service, a model-account stack by
// holding nothing but IAM roles, policies and the OIDC provider.
func classify(s *Stack, template []byte) error {
	var t struct {
		Resources map[string]struct {
			Type       string `json:"Type"`
			Properties struct {
				RoleName any `json:"RoleName"`
			} `json:"Properties"`
		} `json:"Resources"`
	}
	if err := json.Unmarshal(template, &t); err != nil {
		return err
	}
	types := map[string]bool{}
	onlyIAM := true
	for id, r := range t.Resources {
		types[r.Type] = true
		onlyIAM = onlyIAM && modelAccountTypes[r.Type]
		if r.Type == "AWS::IAM::Role" {
			name, ok := r.Properties.RoleName.(string)
			if !ok {
				name = s.Name + "-" + id
			}
			s.Roles = append(s.Roles, name)
		}
	}
	sort.Strings(s.Roles)
	switch {
	case types["AWS::CloudFormation::StackSet"]:
		s.Kind = Bootstrap
	case types["AWS::CodePipeline::Pipeline"]:
		s.Kind = Pipeline
	case types["AWS::ECS::Service"]:
		s.Kind = Central
	case onlyIAM:
		s.Kind, s.Group = ModelAccount, s.Account
	default:
		s.Kind = Other
	}
	return nil
}
