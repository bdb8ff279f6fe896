package access

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/acme/genai-estate/internal/arn"
	"github.com/acme/genai-estate/internal/catalog"
	"github.com/acme/genai-estate/internal/estate"
	"github.com/acme/genai-estate/internal/iampolicy"
	"github.com/acme/genai-estate/internal/review/iameval"
)

var bedrockArn = regexp.MustCompile(`^arn:([^:]+):bedrock:([^:]*):([^:]*):(foundation-model|inference-profile|application-inference-profile)/(.+)$`)

// Made-up models and actions: a role that allows them grants more than it lists.
const probeModel = "probe.unlisted-model-v1:0"

var probeActions = []string{"bedrock:CreateModelCustomizationJob", "bedrock:DeleteGuardrail", "bedrock:PutModelInvocationLoggingConfiguration", "iam:PassRole", "sts:AssumeRole"}

// roleGrants finds every model the role's policies allow, trying each model a
// policy names in each region seen, and reports made-up models or actions
// that get through. A wildcard, a NotResource or `*` on an invoke action is
// enumerated against every catalog model in every region of the partition,
// and the concrete models it reaches are listed.
func roleGrants(r *Role, opts Options) ([]grant, *roleFindings) {
	m := &roleFindings{}
	part := arn.PartitionOfARN(r.Arn)
	regions := map[string]bool{r.Region: true}
	for _, x := range opts.Regions[r.Account] {
		regions[x] = true
	}
	fms, profiles, apps := map[string]bool{}, map[string]bool{}, map[string]bool{}
	var wild []string // "policy P allows R" for each wildcard that may reach models
	for _, p := range r.Policies {
		if p.AWSManaged {
			m.Excess = append(m.Excess, Finding{r.Account, r.Name, fmt.Sprintf("AWS managed policy %s is attached; its grants are not evaluated here", p.Name)})
			continue
		}
		for _, st := range iampolicy.Statements(p.Document) {
			if st["Effect"] != "Allow" {
				continue
			}
			if nr, ok := st["NotResource"]; ok && invokes(st) {
				wild = append(wild, fmt.Sprintf("policy %s allows every resource but %s", p.Name, strings.Join(iampolicy.Strings(nr), ", ")))
			}
			for _, res := range iampolicy.Strings(st["Resource"]) {
				g := bedrockArn.FindStringSubmatch(res)
				if strings.ContainsAny(res, "*?") {
					if (g != nil || mayBeModel(res, part)) && invokes(st) {
						wild = append(wild, fmt.Sprintf("policy %s allows %s", p.Name, res))
					}
					continue
				}
				if strings.Contains(res, "{{") && invokes(st) {
					wild = append(wild, fmt.Sprintf("policy %s allows %s, known only at deployment", p.Name, res))
					continue
				}
				if g == nil {
					continue
				}
				if g[2] != "" {
					regions[g[2]] = true
				}
				switch g[4] {
				case estate.FoundationModel:
					fms[g[5]] = true
				case estate.InferenceProfile:
					profiles[g[5]] = true
				default:
					apps[g[5]] = true
				}
			}
		}
	}
	delete(regions, "")
	if len(wild) > 0 {
		reached := enumerate(r, opts, part)
		var list []string
		all := len(partitionRegions(part))
		for _, id := range slices.Sorted(maps.Keys(reached)) {
			rs := reached[id]
			where := strings.Join(rs, ", ")
			if len(rs) == all {
				where = "every region"
			}
			list = append(list, fmt.Sprintf("%s (%s)", id, where))
			// What it reaches in the regions under review becomes entries, so
			// a configured model granted through a wildcard is not missing.
			for _, region := range rs {
				if regions[region] {
					if mod, _ := opts.Catalog.Lookup(id); mod.InferenceProfile != nil {
						profiles[id] = true
					} else {
						fms[id] = true
					}
				}
			}
		}
		reach := "no catalog model"
		if len(list) > 0 {
			reach = fmt.Sprintf("%d catalog models: %s", len(list), strings.Join(list, "; "))
		}
		for _, w := range uniq(wild) {
			m.Excess = append(m.Excess, Finding{r.Account, r.Name, fmt.Sprintf("%s: a wildcard reaches models the config does not list; the role reaches %s", w, reach)})
		}
	}
	var out []grant
	granted := []string{"*"} // resources that non-invoke actions are tried on
	for _, region := range slices.Sorted(maps.Keys(regions)) {
		ctx := map[string][]string{"aws:RequestedRegion": {region}}
		for _, id := range slices.Sorted(maps.Keys(fms)) {
			arn := estate.ModelArn(part, region, "", estate.FoundationModel, id)
			if g, ok := invoke(r, arn, ctx); ok {
				granted = append(granted, arn)
				g.region, g.model, g.kind = region, id, FoundationModel
				out = append(out, g)
			}
		}
		for _, id := range slices.Sorted(maps.Keys(profiles)) {
			if g, ok := profileGrant(r, opts, m, region, id); ok {
				out = append(out, g)
			}
		}
		for _, id := range slices.Sorted(maps.Keys(apps)) {
			arn := estate.ModelArn(part, region, r.Account, estate.ApplicationProfile, id)
			if g, ok := invoke(r, arn, ctx); ok {
				g.region, g.model, g.kind = region, id, ApplicationProfile
				if g, ok = appProfileGrant(r, opts, m, arn, g); ok {
					out = append(out, g)
				}
			}
		}
		for _, arn := range []string{
			estate.ModelArn(part, region, "", estate.FoundationModel, probeModel),
			estate.ModelArn(part, region, r.Account, estate.InferenceProfile, "us."+probeModel),
			estate.ModelArn(part, region, r.Account, estate.ApplicationProfile, "probe"),
		} {
			if _, ok := invoke(r, arn, ctx); ok {
				m.Excess = append(m.Excess, Finding{r.Account, r.Name, fmt.Sprintf("allows invoking %s, a model no policy names: a wildcard grant", arn)})
			}
		}
	}
	for _, action := range probeActions {
		for _, res := range granted {
			if d, pols := allowed(r, iameval.Request{Action: action, Resource: res}); d == iameval.Allow || d == iameval.Indeterminate {
				m.Excess = append(m.Excess, Finding{r.Account, r.Name, fmt.Sprintf("allows %s on %s (policy %s): beyond invoking models%s", action, res, strings.Join(pols, ", "), note(d))})
				break
			}
		}
	}
	return out, m
}

// note marks a finding that rests on an indeterminate evaluation.
func note(d iameval.Decision) string {
	if d == iameval.Indeterminate {
		return " (indeterminate: part of the policy cannot be evaluated here, so it may)"
	}
	return ""
}

// invokes says whether a statement's actions include invoking a model.
func invokes(st map[string]any) bool {
	for _, a := range estate.InvokeActions {
		if acts, ok := st["Action"]; ok && slices.ContainsFunc(iampolicy.Strings(acts), func(p string) bool { return iameval.Match(strings.ToLower(p), strings.ToLower(a)) }) {
			return true
		}
		if acts, ok := st["NotAction"]; ok && !slices.ContainsFunc(iampolicy.Strings(acts), func(p string) bool { return iameval.Match(strings.ToLower(p), strings.ToLower(a)) }) {
			return true
		}
	}
	return false
}

// mayBeModel says whether a wildcard resource that is not shaped like a
// Bedrock model ARN (`*`, `arn:aws:bedrock:*`) still matches one.
func mayBeModel(res, part string) bool {
	for _, arn := range []string{
		estate.ModelArn(part, "us-east-1", "", estate.FoundationModel, probeModel),
		estate.ModelArn(part, "us-east-1", "000000000000", estate.InferenceProfile, "us."+probeModel),
	} {
		if iameval.Match(res, arn) {
			return true
		}
	}
	return false
}

// partitionRegions lists the catalog's regions of a partition.
func partitionRegions(part string) []string {
	var out []string
	for _, r := range catalog.Regions() {
		if p, _ := catalog.Partition(r); p == part {
			out = append(out, r)
		}
	}
	return out
}

// enumerate tries every catalog model and profile in every region of the
// partition and returns the regions each is callable from.
func enumerate(r *Role, opts Options, part string) map[string][]string {
	out := map[string][]string{}
	scratch := &roleFindings{}
	for _, region := range partitionRegions(part) {
		ctx := map[string][]string{"aws:RequestedRegion": {region}}
		for _, id := range opts.Catalog.IDs() {
			mod, _ := opts.Catalog.Lookup(id)
			ok := false
			if mod.InferenceProfile != nil {
				_, ok = profileGrant(r, opts, scratch, region, id)
			} else {
				_, ok = invoke(r, estate.ModelArn(part, region, "", estate.FoundationModel, id), ctx)
			}
			if ok {
				out[id] = append(out[id], region)
			}
		}
	}
	return out
}

// roleFindings are what evaluating one role's permissions reports.
type roleFindings struct{ Excess, Missing []Finding }

// profileGrant is a system-defined inference profile invoked from one
// region, judged per action as Bedrock documents it: the profile's ARN there
// and the model in the source region and in every destination region the
// catalog gives for that source (under bedrock:InferenceProfileArn); for a
// global profile, the model in the source region and the region-less model
// ARN with aws:RequestedRegion "unspecified".
func profileGrant(r *Role, opts Options, m *roleFindings, region, id string) (grant, bool) {
	part := arn.PartitionOfARN(r.Arn)
	arn := estate.ModelArn(part, region, r.Account, estate.InferenceProfile, id)
	g, ok := invoke(r, arn, map[string][]string{"aws:RequestedRegion": {region}})
	if !ok {
		return g, false
	}
	g.region, g.model, g.kind = region, id, InferenceProfile
	model, known := opts.Catalog.Lookup(id)
	if !known || model.InferenceProfile == nil {
		return g, true // destinations unknown: the profile's own ARN is what we can judge
	}
	p := model.InferenceProfile
	type dest struct{ arn, region string }
	dests := []dest{{estate.ModelArn(part, region, "", estate.FoundationModel, p.Model), region}}
	if p.Global {
		dests = append(dests, dest{estate.ModelArn(part, "", "", estate.FoundationModel, p.Model), "unspecified"})
	} else {
		for _, d := range opts.Catalog.Destinations(id, region) {
			if d != region {
				dests = append(dests, dest{estate.ModelArn(part, d, "", estate.FoundationModel, p.Model), d})
			}
		}
	}
	var kept []string
	for _, action := range g.actions {
		var broken []string
		for _, d := range dests {
			dec, pols := allowed(r, iameval.Request{Action: action, Resource: d.arn,
				Context: map[string][]string{"bedrock:InferenceProfileArn": {arn}, "aws:RequestedRegion": {d.region}}})
			switch dec {
			case iameval.Allow, iameval.Indeterminate:
				g.policies = uniq(append(g.policies, pols...))
				g.indeterminate = g.indeterminate || dec == iameval.Indeterminate
			default:
				broken = append(broken, d.arn)
			}
		}
		if len(broken) > 0 {
			m.Missing = append(m.Missing, Finding{r.Account, r.Name, fmt.Sprintf("%s is granted in %s but %s is not allowed on %s: %s calls through the profile fail", id, region, action, strings.Join(broken, ", "), action)})
			continue
		}
		kept = append(kept, action)
	}
	g.actions = kept
	return g, len(kept) > 0
}

// invoke reports which invoke actions the role allows (or may allow) on a
// resource, and the policies that allow them.
func invoke(r *Role, resource string, ctx map[string][]string) (grant, bool) {
	ctx = gatewayContext(r, ctx)
	var g grant
	for _, a := range estate.InvokeActions {
		switch d, pols := allowed(r, iameval.Request{Action: a, Resource: resource, Context: ctx}); d {
		case iameval.Allow, iameval.Indeterminate:
			g.actions = append(g.actions, a)
			g.policies = uniq(append(g.policies, pols...))
			g.indeterminate = g.indeterminate || d == iameval.Indeterminate
		}
	}
	return g, len(g.actions) > 0
}

// allowed evaluates the role's identity policies together (a Deny in any
// wins) and, when the role has a permissions boundary, the boundary too: an
// action is allowed only if both allow it. A boundary whose document is not
// known makes every allowed action indeterminate.
func allowed(r *Role, req iameval.Request) (iameval.Decision, []string) {
	docs := r.docs()
	d, idx := iameval.EvaluateAll(docs.docs, req, nil)
	if d == iameval.ImplicitDeny || d == iameval.ExplicitDeny {
		return d, nil
	}
	by := make([]string, 0, len(idx))
	for _, i := range idx {
		by = append(by, docs.names[i])
	}
	if b := r.Boundary; b != nil {
		bd := iameval.Indeterminate
		if b.Document != nil {
			bd, _ = iameval.Evaluate(b.Document, req)
		}
		d = iameval.Both(d, bd)
		if d == iameval.ImplicitDeny || d == iameval.ExplicitDeny {
			return d, nil
		}
	}
	return d, by
}

type roleDocs struct {
	docs  []any
	names []string
}

// docs are the role's evaluable identity policy documents, built once per
// set of policies: a review evaluates them for every model and principal.
func (r *Role) docs() *roleDocs {
	if r.cached != nil && r.cachedFor == len(r.Policies) {
		return r.cached
	}
	d := &roleDocs{}
	for _, p := range r.Policies {
		if p.Document != nil {
			d.docs = append(d.docs, p.Document)
			d.names = append(d.names, p.Name)
		}
	}
	r.cached, r.cachedFor = d, len(r.Policies)
	return d
}
