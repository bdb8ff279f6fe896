// Package diff is the semantic difference between two estates (a base branch
// and a pull request): who gains or loses which model where, and which roles
// and policies are added, removed, changed or replaced.
package diff

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/acme/genai-estate/internal/deployplan"
	"github.com/acme/genai-estate/internal/review/access"
)

// Side is one estate: its IAM and what the matrix makes of it.
type Side struct {
	Inventory *access.Inventory
	Matrix    *access.Matrix
	// Stacks, when known, give the plan its deployment order (stacks.go).
	Stacks []deployplan.Stack
}

// Change kinds. A replacement deletes a role or policy and creates another:
// sessions on the old role end and the gateway must switch its routing.
const (
	Added    = "added"
	Removed  = "removed"
	Modified = "modified"
	Replaced = "replaced"
)

// Change is what happens to one role or policy.
type Change struct {
	Kind     string `json:"kind"`
	Account  string `json:"account"`
	Resource string `json:"resource"` // role or policy
	Name     string `json:"name"`
	From     string `json:"from,omitempty"` // the old name of a replacement
	Note     string `json:"note,omitempty"`
}

// Plan is the difference from base to head.
type Plan struct {
	Base    string         `json:"base"`
	Head    string         `json:"head"`
	Gained  []access.Entry `json:"gained"`
	Lost    []access.Entry `json:"lost"`
	Changes []Change       `json:"changes"`
	// NewExcess are grants beyond the config that the head adds.
	NewExcess []access.Finding `json:"newExcess"`
	// Assumers are who can assume each added, modified or replaced role in
	// the head (by "account/role"), as a reviewer reads them.
	Assumers map[string][]string `json:"assumers"`
	// AccountNames are the config's names of account ids, where known.
	AccountNames map[string]string `json:"accountNames"`
	// Deploy is the stacks the change touches, in deployment order.
	Deploy *deployplan.Plan `json:"deploy,omitempty"`
}

// Broadening says whether anyone gains access, or the head grants more than its config.
func (p *Plan) Broadening() bool { return len(p.Gained)+len(p.NewExcess) > 0 }

// Replacements counts replaced roles and policies.
func (p *Plan) Replacements() int {
	n := 0
	for _, c := range p.Changes {
		if c.Kind == Replaced {
			n++
		}
	}
	return n
}

// access is a grant regardless of the role that carries it, so that renaming
// a role moves access without gaining or losing any.
func accessKey(e access.Entry) string {
	return strings.Join([]string{e.Principal.Key(), e.Account, e.Region, e.Model}, "|")
}

// Compare computes the plan.
func Compare(base, head Side) *Plan {
	p := &Plan{Base: base.Inventory.Source, Head: head.Inventory.Source, Gained: []access.Entry{}, Lost: []access.Entry{}, Changes: []Change{}, NewExcess: []access.Finding{}}
	p.Gained = minus(head.Matrix.Entries, base.Matrix.Entries)
	p.Lost = minus(base.Matrix.Entries, head.Matrix.Entries)
	had := map[string]bool{}
	for _, f := range base.Matrix.Excess {
		had[f.Account+f.Role+f.Problem] = true
	}
	for _, f := range head.Matrix.Excess {
		if !had[f.Account+f.Role+f.Problem] {
			p.NewExcess = append(p.NewExcess, f)
		}
	}
	p.Changes = changes(base, head)
	p.Assumers = map[string][]string{}
	for _, c := range p.Changes {
		if c.Resource == "role" && c.Kind != Removed {
			p.Assumers[c.Account+"/"+c.Name] = whoCanAssume(head.Matrix, c.Account, c.Name)
		}
	}
	p.Deploy = deployOrder(base, head)
	p.AccountNames = map[string]string{}
	for _, m := range []*access.Matrix{base.Matrix, head.Matrix} {
		for _, e := range m.Entries {
			if e.AccountName != "" {
				p.AccountNames[e.Account] = e.AccountName
			}
		}
	}
	return p
}

func minus(a, b []access.Entry) []access.Entry {
	in := map[string]bool{}
	for _, e := range b {
		in[accessKey(e)] = true
	}
	out := []access.Entry{}
	seen := map[string]bool{}
	for _, e := range a {
		if k := accessKey(e); e.Model != "" && !in[k] && !seen[k] {
			seen[k] = true
			out = append(out, e)
		}
	}
	return out
}

// IAM names are unique per account ignoring case.
func key(account, name string) string { return account + "/" + strings.ToLower(name) }

func changes(base, head Side) []Change {
	var out []Change
	bRoles, hRoles := roles(base.Inventory), roles(head.Inventory)
	var removed, added []*access.Role
	for k, b := range bRoles {
		h, ok := hRoles[k]
		if !ok {
			removed = append(removed, b)
			continue
		}
		if b.LogicalID != "" && h.LogicalID != "" && (b.LogicalID != h.LogicalID || b.Stack != h.Stack) {
			out = append(out, Change{Replaced, h.Account, "role", h.Name, b.Name,
				fmt.Sprintf("moves from %s/%s to %s/%s: CloudFormation creates the new resource before deleting the old, and the fixed role name makes that fail", b.Stack, b.LogicalID, h.Stack, h.LogicalID)})
		} else if !same(b.Trust, h.Trust) {
			out = append(out, Change{Modified, h.Account, "role", h.Name, "", "trust policy changed"})
		}
		out = append(out, policyChanges(b, h, "", "")...)
	}
	for k, h := range hRoles {
		if _, ok := bRoles[k]; !ok {
			added = append(added, h)
		}
	}
	sortRoles(removed)
	sortRoles(added)
	// A removed and an added role in one account that the same principals
	// assume is a rename: the old role is deleted and the new one created.
	for _, b := range removed {
		i := slices.IndexFunc(added, func(h *access.Role) bool {
			return h.Account == b.Account && samePrincipals(base.Matrix, head.Matrix, b, h)
		})
		if i < 0 {
			out = append(out, Change{Removed, b.Account, "role", b.Name, "", ""})
			for _, pol := range b.Policies {
				out = append(out, Change{Removed, b.Account, "policy", pol.Name, "", "with its role"})
			}
			continue
		}
		h := added[i]
		added = slices.Delete(added, i, i+1)
		from, to := differing(b.Name, h.Name)
		out = append(out, Change{Replaced, h.Account, "role", h.Name, b.Name,
			fmt.Sprintf("renamed %s to %s: the role is deleted and created anew; sessions on the old role end and the gateway must route to the new ARN", from, to)})
		out = append(out, policyChanges(b, h, from, to)...)
	}
	for _, h := range added {
		out = append(out, Change{Added, h.Account, "role", h.Name, "", ""})
		for _, pol := range h.Policies {
			out = append(out, Change{Added, h.Account, "policy", pol.Name, "", "with its role"})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		// Per account, roles before policies.
		return a.Account+"/"+strings.Replace(a.Resource, "role", "1", 1)+a.Name < b.Account+"/"+strings.Replace(b.Resource, "role", "1", 1)+b.Name
	})
	return out
}

// policyChanges compares two roles' policies; from and to rename the role's
// part of their names when the role itself was renamed.
func policyChanges(b, h *access.Role, from, to string) []Change {
	var out []Change
	hp := map[string]*access.Policy{}
	for _, pol := range h.Policies {
		hp[strings.ToLower(pol.Name)] = pol
	}
	for _, old := range b.Policies {
		name := old.Name
		if from != "" {
			name = strings.Replace(name, "-"+from+"-", "-"+to+"-", 1)
		}
		pol, ok := hp[strings.ToLower(name)]
		switch {
		case !ok:
			out = append(out, Change{Removed, h.Account, "policy", old.Name, "", ""})
			continue
		case from != "":
			out = append(out, Change{Replaced, h.Account, "policy", pol.Name, old.Name, "with its role"})
		case old.LogicalID != "" && pol.LogicalID != "" && old.LogicalID != pol.LogicalID:
			out = append(out, Change{Replaced, h.Account, "policy", pol.Name, old.Name, "logical id " + old.LogicalID + " → " + pol.LogicalID + ": the fixed name makes the replacement fail"})
		case !same(old.Document, pol.Document):
			out = append(out, Change{Modified, h.Account, "policy", pol.Name, "", "permissions changed"})
		}
		delete(hp, strings.ToLower(name))
	}
	for _, n := range slices.Sorted(maps.Keys(hp)) {
		out = append(out, Change{Added, h.Account, "policy", hp[n].Name, "", ""})
	}
	return out
}

func roles(inv *access.Inventory) map[string]*access.Role {
	out := map[string]*access.Role{}
	for _, r := range inv.Roles {
		out[key(r.Account, r.Name)] = r
	}
	return out
}

func sortRoles(rs []*access.Role) {
	sort.Slice(rs, func(i, j int) bool { return key(rs[i].Account, rs[i].Name) < key(rs[j].Account, rs[j].Name) })
}

// samePrincipals says whether the same (non-empty) set of principals may
// assume role b in the base and role h in the head.
func samePrincipals(bm, hm *access.Matrix, b, h *access.Role) bool {
	pb, ph := principals(bm, b), principals(hm, h)
	return len(pb) > 0 && slices.Equal(pb, ph)
}

func principals(m *access.Matrix, r *access.Role) []string {
	var out []string
	for _, e := range m.Entries {
		if e.Account == r.Account && e.Role == r.Name {
			out = append(out, e.Principal.Key())
		}
	}
	return slices.Compact(slices.Sorted(slices.Values(out)))
}

// whoCanAssume lists the principals the matrix finds can assume a role,
// with the names the config gives them.
func whoCanAssume(m *access.Matrix, account, role string) []string {
	var out []string
	for _, e := range m.Entries {
		if e.Account == account && strings.EqualFold(e.Role, role) {
			s := e.Principal.String()
			if e.Principal.Name != "" {
				s += " — " + e.Principal.Name
			}
			if e.Indeterminate {
				s += " (indeterminate)"
			}
			out = append(out, s)
		}
	}
	return slices.Compact(slices.Sorted(slices.Values(out)))
}

// differing is the part of two names that differs, between their common prefix and suffix.
func differing(a, b string) (string, string) {
	if a == b {
		return "", ""
	}
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	j := 0
	for j < len(a)-i && j < len(b)-i && a[len(a)-1-j] == b[len(b)-1-j] {
		j++
	}
	// Widen to whole dash-separated fields.
	for i > 0 && a[i-1] != '-' {
		i--
	}
	for j > 0 && a[len(a)-j] != '-' {
		j--
	}
	return a[i : len(a)-j], b[i : len(b)-j]
}

func same(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
