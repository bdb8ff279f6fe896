package estate

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/arn"
	"github.com/acme/genai-estate/internal/iampolicy"
	"github.com/acme/genai-estate/internal/naming"
)

// unit is the smallest piece of a grant that cannot be split across policies:
// one foundation model in one region, or one inference profile with the
// foundation models it routes to.
type unit struct {
	id      string   // the granted model or profile id
	app     string   // application profile ARN (a placeholder) the grant goes through, if any
	model   string   // foundation-model ARN of a direct grant
	profile string   // inference profile id
	arns    []string // the profile's ARNs in the granted regions
	via     []string // foundation-model ARNs in every destination region
	global  string   // region-less foundation-model ARN of a global profile
}

// policies groups a role's grants by provider (or into one MultiModel
// policy), splitting a group into numbered parts when it outgrows IAM's
// managed-policy size.
func policies(c *config.Config, rep *config.Reporter, a *Account, r *Role, layout string) []*Policy {
	if c.Attribution() == config.CostProfiles {
		return nil // every grant goes through the role's application profiles
	}
	g := r.guard
	var out []*Policy
	part, provider := 0, ""
	for _, pp := range a.policyParts(c, r.Grants, layout, g) {
		if pp.failed != "" {
			rep.AddAt(r.Path.Child("access"), config.KindLimit, "grant this inference profile from fewer regions", "the grant of %s alone is over IAM's managed policy size of %d characters", pp.failed, MaxManagedPolicyChars)
			return out
		}
		if pp.provider != provider {
			part, provider = 0, pp.provider
		}
		part++
		name := naming.Policy{Org: c.Org, Layer: c.Layer, Subject: r.Name.Subject, Provider: provider, PermissionType: "Invoke"}
		if part > 1 {
			name.Part = part
		}
		var le *naming.LengthError
		if err := name.Validate(); errors.As(err, &le) {
			rep.AddAt(r.Path.Child("name"), config.KindLimit, fmt.Sprintf("shorten %q by at least %d characters", r.Name.Subject, le.Over()), "%s: %s", r.Name.Subject, err)
		} else if err != nil {
			rep.AddAt(r.Path.Child("access"), config.KindInvalid, "give the model's catalog entry a provider of letters and digits", "%s: %s", r.Name.Subject, err)
		}
		out = append(out, &Policy{Name: name, Document: pp.doc.Document, shape: pp.doc.shape})
	}
	return out
}

// policyPart is one managed policy's document, or (failed set) the profile
// whose grant alone is over the size limit, which ends the list.
type policyPart struct {
	provider string
	doc      sizedDoc
	failed   string
}

// policyParts are the documents for these grants in the account. Roles with
// the same grants and guard get the same documents, so they are built and
// measured once per account; the roles share them, read-only.
func (a *Account) policyParts(c *config.Config, grants map[string][]string, layout string, g *Guard) []policyPart {
	key := make([]byte, 0, 256)
	key = append(key, layout...)
	if g != nil {
		key = append(append(append(append(append(key, 0), g.GuardrailID...), 0), g.GuardrailArn...), 0)
		key = strconv.AppendBool(key, g.Perimeter != nil)
	}
	for _, region := range sortedKeys(grants) {
		key = append(append(key, 0), region...)
		for _, m := range grants[region] {
			key = append(append(key, 1), m...)
		}
	}
	if parts, ok := a.docs[string(key)]; ok { // looked up without allocating
		return parts
	}
	byProvider := map[string][]unit{}
	for region, models := range grants {
		for _, id := range models {
			m, _ := c.Catalog.Lookup(id)
			k := m.Provider
			if layout == config.MultiModel {
				k = "MultiModel"
			}
			byProvider[k] = append(byProvider[k], grantUnit(a, region, id, m.InferenceProfile != nil, c))
		}
	}
	var out []policyPart
	docOf := func(us []unit) iampolicy.Document { return document(us, g) }
providers:
	for _, provider := range slices.Sorted(maps.Keys(byProvider)) {
		units := mergeProfiles(byProvider[provider])
		for len(units) > 0 {
			n, doc := fit(units, docOf)
			if n == 0 {
				out = append(out, policyPart{provider: provider, failed: units[0].profile})
				break providers
			}
			out = append(out, policyPart{provider: provider, doc: doc})
			units = units[n:]
		}
	}
	if a.docs == nil {
		a.docs = map[string][]policyPart{}
	}
	a.docs[string(key)] = out
	return out
}

// Bedrock resource types in ARNs.
const (
	FoundationModel    = "foundation-model"
	InferenceProfile   = "inference-profile"
	ApplicationProfile = "application-inference-profile"
)

// ModelArn is the ARN of a Bedrock model resource. A foundation model has no
// account; a global profile's routed model has no region either.
func ModelArn(partition, region, account, kind, id string) string {
	if kind == FoundationModel {
		account = ""
	}
	return arn.Bedrock(partition, region, account, kind, id)
}

func grantUnit(a *Account, region, id string, isProfile bool, c *config.Config) unit {
	fm := func(region, model string) string { return ModelArn(a.Partition, region, "", FoundationModel, model) }
	if !isProfile {
		return unit{id: id, model: fm(region, id)}
	}
	m, _ := c.Catalog.Lookup(id)
	u := unit{id: id, profile: id, arns: []string{ModelArn(a.Partition, region, a.Account, InferenceProfile, id)}}
	for _, dest := range m.InferenceProfile.Regions {
		u.via = append(u.via, fm(dest, m.InferenceProfile.Model))
	}
	if m.InferenceProfile.Global {
		u.global = fm("", m.InferenceProfile.Model)
	}
	return u
}

// mergeProfiles joins the per-region units of one profile and sorts units so
// that the same grants always render the same policies.
func mergeProfiles(us []unit) []unit {
	var out []unit
	idx := map[string]int{}
	for _, u := range us {
		if u.profile == "" {
			out = append(out, u)
			continue
		}
		if i, ok := idx[u.profile]; ok {
			out[i].arns = append(out[i].arns, u.arns...)
			continue
		}
		idx[u.profile] = len(out)
		out = append(out, u)
	}
	for i := range out {
		slices.Sort(out[i].arns)
	}
	slices.SortFunc(out, func(a, b unit) int {
		return strings.Compare(a.app+a.model+a.profile, b.app+b.model+b.profile)
	})
	return out
}

// fit is how many leading units fit in one managed policy, and the policy
// of those. A document only grows with more units, so the longest prefix
// that fits is found by bisection, usually at the first try (all of them).
func fit(us []unit, docOf func([]unit) iampolicy.Document) (int, sizedDoc) {
	try := func(n int) (sizedDoc, bool) {
		d := size(docOf(us[:n]))
		return d, d.chars <= MaxManagedPolicyChars
	}
	if d, ok := try(len(us)); ok {
		return len(us), d
	}
	lo, hi := 0, len(us) // us[:lo] fits (or lo is 0), us[:hi] does not
	var best sizedDoc
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if d, ok := try(mid); ok {
			lo, best = mid, d
		} else {
			hi = mid
		}
	}
	return lo, best
}

// document grants the units; g, when set, adds the guardrail and perimeter.
func document(us []unit, g *Guard) iampolicy.Document {
	var direct, profiles, apps []string
	var via []iampolicy.Statement
	for _, u := range us {
		if u.app != "" {
			// Through an application profile: the routed resources only
			// with bedrock:InferenceProfileArn naming it.
			apps = append(apps, u.app)
			cond := map[string]map[string][]string{"StringEquals": {"bedrock:InferenceProfileArn": {u.app}}}
			res := []string{u.model}
			if u.profile != "" {
				res = append(slices.Clone(u.arns), u.via...)
			}
			via = append(via, iampolicy.Statement{Sid: "Via" + sid(u.id), Effect: "Allow", Action: InvokeActions, Resource: res, Condition: cond})
			if u.global != "" {
				via = append(via, iampolicy.Statement{Sid: "GlobalVia" + sid(u.id), Effect: "Allow", Action: InvokeActions, Resource: []string{u.global},
					Condition: map[string]map[string][]string{"StringEquals": {"bedrock:InferenceProfileArn": {u.app}, "aws:RequestedRegion": {"unspecified"}}}})
			}
			continue
		}
		if u.profile == "" {
			direct = append(direct, u.model)
			continue
		}
		profiles = append(profiles, u.arns...)
		cond := map[string]map[string][]string{"StringEquals": {"bedrock:InferenceProfileArn": u.arns}}
		via = append(via, iampolicy.Statement{Sid: "Via" + sid(u.profile), Effect: "Allow", Action: InvokeActions, Resource: u.via, Condition: cond})
		if u.global != "" {
			via = append(via, iampolicy.Statement{Sid: "GlobalVia" + sid(u.profile), Effect: "Allow", Action: InvokeActions, Resource: []string{u.global},
				Condition: map[string]map[string][]string{"StringEquals": {"bedrock:InferenceProfileArn": u.arns, "aws:RequestedRegion": {"unspecified"}}}})
		}
	}
	var cond map[string]map[string][]string
	if g != nil && g.GuardrailID != "" {
		cond = map[string]map[string][]string{"StringEquals": {"bedrock:GuardrailIdentifier": {g.GuardrailID}}}
	}
	var st []iampolicy.Statement
	if len(direct) > 0 {
		st = append(st, iampolicy.Statement{Sid: "InvokeFoundationModels", Effect: "Allow", Action: InvokeActions, Resource: direct, Condition: cond})
	}
	if len(profiles) > 0 {
		st = append(st, iampolicy.Statement{Sid: "InvokeInferenceProfiles", Effect: "Allow", Action: InvokeActions, Resource: profiles, Condition: cond})
	}
	if len(apps) > 0 {
		st = append(st, iampolicy.Statement{Sid: "InvokeApplicationProfiles", Effect: "Allow", Action: InvokeActions, Resource: apps, Condition: cond})
	}
	st = append(st, via...)
	return iampolicy.New(append(st, guardStatements(g, append(append(slices.Clone(direct), profiles...), apps...))...)...)
}

// sid makes an alphanumeric statement id from a model id.
func sid(id string) string {
	var b strings.Builder
	up := true
	for _, r := range id {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if up {
				r = unicode.ToUpper(r)
			}
			b.WriteRune(r)
			up = false
		} else {
			up = true
		}
	}
	return b.String()
}

// InvokeStatements returns the statements that grant exactly these models in
// one region, built by the same code as the invoke roles' policies.
func InvokeStatements(c *config.Config, partition, account, region string, models []string) []iampolicy.Statement {
	a := &Account{ModelAccount: config.ModelAccount{Account: account}, Partition: partition}
	var us []unit
	for _, id := range slices.Compact(slices.Sorted(slices.Values(models))) {
		m, _ := c.Catalog.Lookup(id)
		us = append(us, grantUnit(a, region, id, m.InferenceProfile != nil, c))
	}
	return document(mergeProfiles(us), nil).Statement
}
