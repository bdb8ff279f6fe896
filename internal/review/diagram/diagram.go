// Package diagram draws an estate as a Mermaid flowchart that GitHub renders
// in a pull-request comment: the IdP, the central account with the
// gateway's task role, and each model account with its roles and policies
// and, from the estate's plan, each role's application inference profiles,
// the guardrail its calls must carry, and per region the account's
// invocation logging and enforced guardrail. Past a size where a full drawing
// stops being readable it summarises each account in one node.
package diagram

import (
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/acme/genai-estate/internal/arn"
	"github.com/acme/genai-estate/internal/estate"
	"github.com/acme/genai-estate/internal/naming"
	"github.com/acme/genai-estate/internal/review/access"
	"github.com/acme/genai-estate/internal/review/md"
)

// Detail levels.
const (
	Auto    = "auto"
	Full    = "full"
	Summary = "summary"
)

// FullLimit is the largest estate drawn in full by Auto: more roles than
// this, or more accounts than MaxFullAccounts, and accounts are summarised.
const (
	FullLimit       = 30
	MaxFullAccounts = 6
)

// Central is the gateway account, as the config names it.
type Central struct {
	Account  string
	TaskRole string
	IdP      string // the provider's name, e.g. ACME-IdP-Okta
	Issuer   string
}

// Props is what is drawn.
type Props struct {
	Matrix    *access.Matrix
	Inventory *access.Inventory
	Central   Central
	Detail    string
	// Estate is the plan the config makes, when there is one: it names the
	// roles' application inference profiles and guardrails, which the
	// templates hold only as generated ARNs.
	Estate *estate.Estate
}

type role struct {
	account, name string
	policies      []string
	useCases      []string // names (or subjects) of the token principals
	vendors       []string
	profiles      []profile
	guardrail     guardrail // zero when calls need none
	// profilePolicies grant invoke through the profiles; their names hold
	// a region where other policies hold a provider.
	profilePolicies []string
}

// regional is what an account keeps per region besides its roles, from the
// estate's plan: Bedrock holds both settings per account and region.
type regional struct {
	logging  string // its destinations, e.g. "CloudWatch Logs, S3"; "" when off
	enforced string // the enforced guardrail's id:version; "" when none
}

// settings reads each account's regional settings from the plan, by
// account id and region.
func settings(e *estate.Estate) map[string]map[string]regional {
	out := map[string]map[string]regional{}
	if e == nil {
		return out
	}
	for _, a := range e.Accounts {
		for _, set := range a.Profiles {
			var r regional
			if l := set.Logging; l != nil {
				var to []string
				if l.CloudWatch != nil {
					to = append(to, "CloudWatch Logs")
				}
				if l.S3 != nil {
					to = append(to, "S3")
				}
				r.logging = strings.Join(to, ", ")
			}
			if g := set.Enforced; g != nil {
				r.enforced = g.ID + ":" + g.Version
			}
			if r != (regional{}) {
				if out[a.Account] == nil {
					out[a.Account] = map[string]regional{}
				}
				out[a.Account][set.Region] = r
			}
		}
	}
	return out
}

// profile is one application inference profile of a role.
type profile struct{ region, name, model string }

// guardrail is the guardrail a role's invoke statements require, as the
// bedrock:GuardrailIdentifier value (ARN:version) they condition on.
type guardrail struct{ region, ident string }

// short is the guardrail's id:version, the ARN's resource without its type.
func (g guardrail) short() string {
	a, _ := arn.Parse(g.ident)
	_, after, _ := strings.Cut(a.Resource, "/")
	return after
}

// node is the guardrail's node id: one per account, region and version.
func (g guardrail) node(account string) string { return id("g", account, g.region, g.short()) }

// Mermaid's defaults, which GitHub keeps: past them a diagram does not render.
const (
	MaxEdges    = 500
	MaxTextSize = 50000
)

// Write draws the estate, fenced as a ```mermaid block. It returns an error,
// after writing, when the drawing is past what GitHub renders (only possible
// with Detail Full; Auto summarises instead).
func Write(w io.Writer, p Props) error {
	roles, accounts, names := collect(p)
	detail := p.Detail
	if detail == "" {
		detail = Auto
	}
	var s string
	var edges int
	if detail != Summary {
		s, edges = render(p, roles, accounts, names, Full)
	}
	if detail == Summary || detail == Auto && (len(roles) > FullLimit || len(accounts) > MaxFullAccounts || edges > MaxEdges || len(s) > MaxTextSize) {
		s, edges = render(p, roles, accounts, names, Summary)
	}
	io.WriteString(w, s)
	if edges > MaxEdges || len(s) > MaxTextSize {
		return fmt.Errorf("the diagram has %d edges and %d characters, past Mermaid's %d and %d: GitHub will not render it; use -detail summary", edges, len(s), MaxEdges, MaxTextSize)
	}
	return nil
}

func render(p Props, roles []*role, accounts []string, names map[string]string, detail string) (string, int) {
	var b strings.Builder
	edges := 0
	edge := func(format string, args ...any) {
		fmt.Fprintf(&b, format, args...)
		edges++
	}
	b.WriteString("```mermaid\nflowchart LR\n")
	perRegion := settings(p.Estate)
	c := p.Central
	// The IdP stands outside every account: the central account registers no
	// provider (STS checks tokens against the one in the role's account), and
	// the gateway only passes on its callers' tokens.
	fmt.Fprintf(&b, "  idp([%s])\n", label("IdP "+c.IdP+"<br/>"+c.Issuer))
	fmt.Fprintf(&b, "  subgraph central[%s]\n", label("Central gateway account · "+c.Account))
	fmt.Fprintf(&b, "    task[%s]\n", label("ECS task role<br/>"+c.TaskRole))
	b.WriteString("  end\n")
	edge("  idp -. caller tokens .-> task\n")
	created := map[string]bool{}
	for _, pr := range p.Inventory.Providers {
		created[pr.Account] = !pr.Imported
	}
	vendors := map[string]bool{}
	for _, r := range roles {
		for _, v := range r.vendors {
			vendors[v] = true
		}
	}
	for _, v := range slices.Sorted(maps.Keys(vendors)) {
		fmt.Fprintf(&b, "  %s[/%s/]\n", id("v", v), label("Vendor "+v))
	}
	for _, a := range accounts {
		title := a
		if names[a] != "" {
			title = names[a] + " · " + a
		}
		fmt.Fprintf(&b, "  subgraph %s[%s]\n", id("a", a), label(title))
		provider := "OIDC provider " + c.IdP
		if !created[a] {
			provider += " (imported)"
		}
		if detail == Summary {
			summarise(&b, a, roles, provider, perRegion[a])
		} else {
			fmt.Fprintf(&b, "    %s([%s])\n", id("o", a), label(provider))
			for _, r := range roles {
				if r.account != a {
					continue
				}
				fmt.Fprintf(&b, "    %s[%s]\n", id("r", a, r.name), label(r.name))
				for _, pol := range r.policies {
					fmt.Fprintf(&b, "    %s[/%s/]\n", id("p", a, pol), label(pol))
					edge("    %s --- %s\n", id("r", a, r.name), id("p", a, pol))
				}
			}
			regions(&b, a, roles, perRegion[a])
		}
		b.WriteString("  end\n")
		if detail != Summary {
			edge("  idp -. same issuer .-> %s\n", id("o", a))
		}
	}
	// Edges: the gateway assumes roles with the use cases' tokens; vendors with their external ids.
	for _, a := range accounts {
		if detail == Summary {
			var ucs, vs []string
			for _, r := range roles {
				if r.account == a {
					ucs = append(ucs, r.useCases...)
					vs = append(vs, r.vendors...)
				}
			}
			if n := len(uniq(ucs)); n > 0 {
				edge("  task -->|%s| %s\n", label(fmt.Sprintf("%d use cases", n)), id("a", a))
			}
			for _, v := range uniq(vs) {
				edge("  %s -->|ExternalId| %s\n", id("v", v), id("a", a))
			}
			continue
		}
		for _, r := range roles {
			if r.account != a {
				continue
			}
			if len(r.useCases) > 0 {
				edge("  task -->|%s| %s\n", label(strings.Join(r.useCases, ", ")), id("r", a, r.name))
			}
			for _, v := range r.vendors {
				edge("  %s -->|ExternalId| %s\n", id("v", v), id("r", a, r.name))
			}
			for _, pf := range r.profiles {
				edge("  %s --> %s\n", id("r", a, r.name), id("f", a, pf.region, pf.name))
			}
			if r.guardrail.ident != "" {
				edge("  %s -->|%s| %s\n", id("r", a, r.name), label("must carry"), r.guardrail.node(a))
			}
		}
	}
	b.WriteString("```\n")
	return b.String(), edges
}

// regions draws, in one subgraph per region of the account, its roles'
// application inference profiles, one node per guardrail version they must
// carry (roles sharing a guardrail share its node), and the account's
// invocation logging and enforced guardrail there.
func regions(b *strings.Builder, a string, roles []*role, settings map[string]regional) {
	profiles := map[string][]profile{}
	guards := map[string][]guardrail{}
	for _, r := range roles {
		if r.account != a {
			continue
		}
		for _, pf := range r.profiles {
			profiles[pf.region] = append(profiles[pf.region], pf)
		}
		if r.guardrail.ident != "" {
			guards[r.guardrail.region] = append(guards[r.guardrail.region], r.guardrail)
		}
	}
	all := append(slices.Collect(maps.Keys(profiles)), slices.Collect(maps.Keys(guards))...)
	for _, region := range uniq(append(all, slices.Collect(maps.Keys(settings))...)) {
		fmt.Fprintf(b, "    subgraph %s[%s]\n", id("rg", a, region), label(region))
		for _, pf := range profiles[region] {
			fmt.Fprintf(b, "      %s([%s])\n", id("f", a, pf.region, pf.name), label(pf.name+"<br/>"+pf.model))
		}
		gs := guards[region]
		slices.SortFunc(gs, func(x, y guardrail) int { return strings.Compare(x.ident, y.ident) })
		for _, g := range slices.Compact(gs) {
			fmt.Fprintf(b, "      %s{{%s}}\n", g.node(a), label("Guardrail "+g.short()))
		}
		if set := settings[region]; set.enforced != "" {
			fmt.Fprintf(b, "      %s{{%s}}\n", id("eg", a, region), label("Enforced guardrail "+set.enforced+"<br/>on every call in the region"))
		}
		if set := settings[region]; set.logging != "" {
			fmt.Fprintf(b, "      %s[(%s)]\n", id("l", a, region), label("Invocation logging<br/>"+set.logging))
		}
		b.WriteString("    end\n")
	}
}

func summarise(b *strings.Builder, a string, roles []*role, provider string, settings map[string]regional) {
	n, pols, profiles := 0, 0, 0
	providers, guards := map[string]bool{}, map[string]bool{}
	for _, r := range roles {
		if r.account != a {
			continue
		}
		n++
		pols += len(r.policies)
		profiles += len(r.profiles)
		if r.guardrail.ident != "" {
			guards[r.guardrail.ident] = true
		}
		for _, pol := range r.policies {
			// A profile policy's provider field is its region; its
			// profiles name the providers.
			if pn, err := naming.ParsePolicy(pol); err == nil && !slices.Contains(r.profilePolicies, pol) {
				providers[pn.Provider] = true
			}
		}
		for _, pf := range r.profiles {
			if pn, err := naming.ParseAppProfile(pf.name); err == nil {
				providers[pn.Provider] = true
			}
		}
	}
	text := fmt.Sprintf("%s<br/>%d roles · %d policies", provider, n, pols)
	if profiles > 0 {
		text += fmt.Sprintf(" · %d profiles", profiles)
	}
	if g := len(guards); g > 0 {
		text += fmt.Sprintf(" · %d %s", g, md.Plural(g, "guardrail"))
	}
	logged, enforced := 0, 0
	for _, set := range settings {
		if set.logging != "" {
			logged++
		}
		if set.enforced != "" {
			enforced++
		}
	}
	if logged > 0 {
		text += fmt.Sprintf(" · logging in %d %s", logged, md.Plural(logged, "region"))
	}
	if enforced > 0 {
		text += fmt.Sprintf(" · enforced guardrail in %d %s", enforced, md.Plural(enforced, "region"))
	}
	if len(providers) > 0 {
		text += "<br/>" + strings.Join(slices.Sorted(maps.Keys(providers)), ", ")
	}
	fmt.Fprintf(b, "    %s[%s]\n", id("s", a), label(text))
}

// collect gathers the roles that a token or a vendor can assume, by account.
func collect(p Props) ([]*role, []string, map[string]string) {
	byKey := map[string]*role{}
	names := map[string]string{}
	for _, e := range p.Matrix.Entries {
		if e.Principal.Kind == access.Service {
			continue
		}
		if e.AccountName != "" {
			names[e.Account] = e.AccountName
		}
		k := e.Account + "/" + e.Role
		r := byKey[k]
		if r == nil {
			r = &role{account: e.Account, name: e.Role}
			byKey[k] = r
		}
		who := e.Principal.Name
		switch e.Principal.Kind {
		case access.Token:
			if who == "" {
				who = e.Principal.Subject
			}
			r.useCases = uniq(append(r.useCases, who))
		case access.Vendor:
			if who == "" {
				who = e.Principal.AWS
			}
			r.vendors = uniq(append(r.vendors, who))
		}
	}
	for _, ir := range p.Inventory.Roles {
		if r := byKey[ir.Account+"/"+ir.Name]; r != nil {
			for _, pol := range ir.Policies {
				r.policies = append(r.policies, pol.Name)
			}
		}
	}
	if p.Estate != nil {
		governance(p.Estate, byKey)
	}
	var roles []*role
	var accounts []string
	for _, k := range slices.Sorted(maps.Keys(byKey)) {
		roles = append(roles, byKey[k])
		accounts = append(accounts, byKey[k].account)
	}
	return roles, uniq(accounts), names
}

func uniq(s []string) []string { return slices.Compact(slices.Sorted(slices.Values(s))) }

var unsafe = regexp.MustCompile(`[^A-Za-z0-9]+`)

// id is a Mermaid node id made of the parts.
func id(parts ...string) string {
	return unsafe.ReplaceAllString(strings.Join(parts, "_"), "_")
}

// label quotes text for Mermaid; a double quote would end the label.
func label(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, "#quot;") + `"`
}

// governance adds the plan's application inference profiles and guardrails
// to the roles drawn. The guardrail is read from the roles' policies, the
// bedrock:GuardrailIdentifier their invoke statements require, so the
// drawing shows what IAM enforces.
func governance(e *estate.Estate, byKey map[string]*role) {
	for _, a := range e.Accounts {
		docs := map[*estate.Role][]*estate.Policy{}
		for _, set := range a.Profiles {
			for _, pr := range set.Roles {
				docs[pr.Role] = append(docs[pr.Role], pr.Policies...)
				if r := byKey[a.Account+"/"+pr.Role.Name.String()]; r != nil {
					for _, pol := range pr.Policies {
						r.profilePolicies = append(r.profilePolicies, pol.Name.String())
					}
					for _, pf := range pr.Profiles {
						r.profiles = append(r.profiles, profile{region: set.Region, name: pf.Name.String(), model: pf.Model})
					}
				}
			}
		}
		for _, er := range a.Roles {
			r := byKey[a.Account+"/"+er.Name.String()]
			if r == nil {
				continue
			}
			for _, pol := range append(slices.Clone(er.Policies), docs[er]...) {
				for _, st := range pol.Document.Statement {
					for _, ident := range st.Condition["StringEquals"]["bedrock:GuardrailIdentifier"] {
						if st.Effect == "Allow" {
							g, _ := arn.Parse(ident)
							r.guardrail = guardrail{region: g.Region, ident: ident}
						}
					}
				}
			}
		}
	}
}
