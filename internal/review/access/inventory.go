// Package access answers the reviewer's question "who can call which model
// where": it collects an estate's roles with their trust and permission
// documents (from a cdk.out or from a config's plan), evaluates them with
// IAM's rules, and compares what they grant with what the config asks for.
package access

import (
	"slices"
	"sort"
	"strings"

	"github.com/acme/genai-estate/internal/arn"
	"github.com/acme/genai-estate/internal/estate"
	"github.com/acme/genai-estate/internal/iampolicy"
	"github.com/acme/genai-estate/internal/review/assembly"
)

// Inventory is the IAM of an estate: its roles and OIDC providers.
type Inventory struct {
	Roles     []*Role     // sorted by account, then name
	Providers []*Provider // sorted by account, then issuer
	// Source says where it was read from, for reports.
	Source string
	// ModelAccountsOnly is set for a config's plan, which holds no central or RAG stacks.
	ModelAccountsOnly bool
	// Accounts that have a stack here, sorted: a cdk.out synthesized with
	// -c accounts=… holds only some.
	Accounts []string
}

// Role is one IAM role with every policy that applies to it.
type Role struct {
	Account   string `json:"account"`
	Region    string `json:"-"` // the stack's region
	Stack     string `json:"stack"`
	LogicalID string `json:"logicalId,omitempty"` // empty when planned from a config
	Name      string `json:"name"`
	Arn       string `json:"arn"`
	Trust     any    `json:"trust"`
	Policies  []*Policy
	// AppProfiles maps the account's application inference profile ARNs to
	// what each copies.
	AppProfiles map[string]string `json:"-"`
	// Boundary is the role's permissions boundary, if any. Its Document is
	// nil when the templates do not hold it (an AWS managed policy, an
	// import): then what the role allows is indeterminate.
	Boundary *Policy `json:"boundary,omitempty"`

	cached    *roleDocs
	cachedFor int
}

// Policy is a managed or inline policy of a role.
type Policy struct {
	Name      string `json:"name"`
	LogicalID string `json:"logicalId,omitempty"`
	Inline    bool   `json:"inline,omitempty"`
	// AWSManaged policies are attached by ARN; their contents are not known here.
	AWSManaged bool `json:"awsManaged,omitempty"`
	Document   any  `json:"document"`
}

// Provider is an IAM OIDC provider, created or imported.
type Provider struct {
	Account  string
	Stack    string
	Issuer   string // host/path, the prefix of its condition keys
	Name     string
	Imported bool
}

// FromAssembly collects the IAM of every stack in a cloud assembly.
func FromAssembly(stacks []*assembly.Stack, source string) *Inventory {
	inv := &Inventory{Source: source}
	byName := map[string]*Role{}      // account/role name
	policyArn := map[string]*Policy{} // managed policy ARN
	type attachment struct {
		role *Role
		arns []string
	}
	var attached []attachment // a role's ManagedPolicyArns, resolved once every policy is known
	var bound []attachment    // a role's PermissionsBoundary, likewise
	for _, s := range stacks {
		inv.Accounts = append(inv.Accounts, s.Account)
		for _, id := range s.ResourceIDs("AWS::IAM::Role") {
			p := s.Resources[id].Properties
			name, _ := p["RoleName"].(string)
			if name == "" {
				name = s.Name + "-" + id
			}
			path, _ := p["Path"].(string)
			if path == "" {
				path = "/"
			}
			r := &Role{Account: s.Account, Region: s.Region, Stack: s.Name, LogicalID: id, Name: name,
				Arn: arn.Role(s.Partition, s.Account, path, name), Trust: p["AssumeRolePolicyDocument"]}
			inline, _ := p["Policies"].([]any)
			for _, x := range inline {
				m, _ := x.(map[string]any)
				n, _ := m["PolicyName"].(string)
				r.Policies = append(r.Policies, &Policy{Name: n + " (inline)", LogicalID: id, Inline: true, Document: m["PolicyDocument"]})
			}
			byName[s.Account+"/"+name] = r
			inv.Roles = append(inv.Roles, r)
			attached = append(attached, attachment{r, iampolicy.Strings(p["ManagedPolicyArns"])})
			if b, ok := p["PermissionsBoundary"]; ok {
				bound = append(bound, attachment{r, iampolicy.Strings(b)})
			}
		}
		for _, id := range s.ResourceIDs("AWS::IAM::OIDCProvider") {
			p := s.Resources[id].Properties
			url, _ := p["Url"].(string)
			pr := &Provider{Account: s.Account, Stack: s.Name, Issuer: strings.TrimPrefix(url, "https://"), Name: id}
			tags, _ := p["Tags"].([]any)
			for _, t := range tags {
				if m, _ := t.(map[string]any); m["Key"] == "Name" {
					pr.Name, _ = m["Value"].(string)
				}
			}
			inv.Providers = append(inv.Providers, pr)
		}
	}
	// Policies second: they name their roles, which may sit in any stack of the account.
	for _, s := range stacks {
		for _, typ := range []string{"AWS::IAM::ManagedPolicy", "AWS::IAM::Policy", "AWS::IAM::RolePolicy"} {
			for _, id := range s.ResourceIDs(typ) {
				p := s.Resources[id].Properties
				pol := &Policy{LogicalID: id, Document: p["PolicyDocument"], Inline: typ != "AWS::IAM::ManagedPolicy"}
				if n, _ := p["PolicyName"].(string); n != "" {
					pol.Name = n + " (inline)"
				}
				roles := iampolicy.Strings(p["Roles"])
				if typ == "AWS::IAM::RolePolicy" {
					roles = iampolicy.Strings(p["RoleName"])
				}
				if !pol.Inline {
					pol.Name, _ = p["ManagedPolicyName"].(string)
					if pol.Name == "" {
						pol.Name = s.Name + "-" + id
					}
					path, _ := p["Path"].(string)
					if path == "" {
						path = "/"
					}
					policyArn[arn.ManagedPolicy(s.Partition, s.Account, path, pol.Name)] = pol
				}
				for _, rn := range roles {
					if r := byName[s.Account+"/"+rn]; r != nil {
						r.Policies = append(r.Policies, pol)
					}
				}
			}
		}
	}
	for _, a := range attached {
		r := a.role
		for _, arn := range a.arns {
			if pol := policyArn[arn]; pol != nil {
				if !slices.Contains(r.Policies, pol) {
					r.Policies = append(r.Policies, pol)
				}
				continue
			}
			r.Policies = append(r.Policies, &Policy{Name: arn[strings.LastIndex(arn, "/")+1:], AWSManaged: strings.Contains(arn, ":iam::aws:policy/")})
		}
	}
	for _, b := range bound {
		arn := ""
		if len(b.arns) == 1 {
			arn = b.arns[0]
		}
		if pol := policyArn[arn]; pol != nil {
			b.role.Boundary = pol
			continue
		}
		// Not in these templates: its contents are unknown, and so is what
		// the role may do.
		b.role.Boundary = &Policy{Name: arn[strings.LastIndex(arn, "/")+1:], AWSManaged: strings.Contains(arn, ":iam::aws:policy/")}
	}
	linkAppProfiles(inv, stacks)
	inv.sort()
	return inv
}

// FromEstate collects the IAM a config's plan would deploy to the model
// accounts, without synthesizing: the same documents the templates carry.
func FromEstate(e *estate.Estate, source string) *Inventory {
	inv := &Inventory{Source: source, ModelAccountsOnly: true}
	c := e.Config
	for _, a := range e.Accounts {
		inv.Accounts = append(inv.Accounts, a.Account)
		inv.Providers = append(inv.Providers, &Provider{Account: a.Account, Stack: a.Stack(c.Org, c.Layer, 0), Issuer: c.Issuer(), Name: a.IdPName.String(), Imported: !a.CreateProvider})
		for _, r := range a.Roles {
			name := r.Name.String()
			role := &Role{Account: a.Account, Region: a.Region(), Stack: a.Stack(c.Org, c.Layer, r.Shard), Name: name,
				Arn: arn.Role(a.Partition, a.Account, "/", name), Trust: r.Trust.Value()}
			for _, p := range r.Policies {
				role.Policies = append(role.Policies, &Policy{Name: p.Name.String(), Document: p.Document.Value()})
			}
			inv.Roles = append(inv.Roles, role)
		}
	}
	estateProfiles(inv, e)
	inv.sort()
	return inv
}

func (inv *Inventory) sort() {
	inv.Accounts = uniq(inv.Accounts)
	sort.Slice(inv.Roles, func(i, j int) bool {
		a, b := inv.Roles[i], inv.Roles[j]
		return a.Account+"/"+a.Name < b.Account+"/"+b.Name
	})
	for _, r := range inv.Roles {
		sort.SliceStable(r.Policies, func(i, j int) bool { return r.Policies[i].Name < r.Policies[j].Name })
	}
	sort.Slice(inv.Providers, func(i, j int) bool {
		a, b := inv.Providers[i], inv.Providers[j]
		return a.Account+a.Issuer+a.Stack < b.Account+b.Issuer+b.Stack
	})
}
