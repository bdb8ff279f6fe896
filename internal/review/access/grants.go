package access

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

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
// that get through.
func roleGrants(r *Role, opts Options) ([]grant, *roleFindings) {
	m := &roleFindings{}
	part := partitionOf(r.Arn)
	regions := map[string]bool{r.Region: true}
	for _, x := range opts.Regions[r.Account] {
		regions[x] = true
	}
	fms, profiles, apps := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, p := range r.Policies {
		if p.AWSManaged {
			m.Excess = append(m.Excess, Finding{r.Account, r.Name, fmt.Sprintf("AWS managed policy %s is attached; its grants are not evaluated here", p.Name)})
			continue
		}
		for _, st := range iampolicy.Statements(p.Document) {
			for _, res := range iampolicy.Strings(st["Resource"]) {
				g := bedrockArn.FindStringSubmatch(res)
				if g == nil {
					continue
				}
				if strings.ContainsAny(res, "*?") && st["Effect"] == "Allow" {
					m.Excess = append(m.Excess, Finding{r.Account, r.Name, fmt.Sprintf("policy %s allows %s: a wildcard reaches models the config does not list", p.Name, res)})
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
			if g, ok := invoke(r, estate.ModelArn(part, region, r.Account, estate.ApplicationProfile, id), ctx); ok {
				g.region, g.model, g.kind = region, id, ApplicationProfile
				out = append(out, g)
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
			if ok, pols := allowed(r, iameval.Request{Action: action, Resource: res}); ok {
				m.Excess = append(m.Excess, Finding{r.Account, r.Name, fmt.Sprintf("allows %s on %s (policy %s): beyond invoking models", action, res, strings.Join(pols, ", "))})
				break
			}
		}
	}
	return out, m
}

// roleFindings are what evaluating one role's permissions reports.
type roleFindings struct{ Excess, Missing []Finding }

// profileGrant is a cross-region inference profile invoked from one region:
// it needs the profile's ARN there and the model in every destination region
// with the profile named in bedrock:InferenceProfileArn.
func profileGrant(r *Role, opts Options, m *roleFindings, region, id string) (grant, bool) {
	part := partitionOf(r.Arn)
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
	var dests []dest
	for _, d := range p.Regions {
		dests = append(dests, dest{estate.ModelArn(part, d, "", estate.FoundationModel, p.Model), d})
	}
	if p.Global {
		dests = append(dests, dest{estate.ModelArn(part, "", "", estate.FoundationModel, p.Model), "unspecified"})
	}
	var broken []string
	for _, d := range dests {
		via, ok := invoke(r, d.arn, map[string][]string{"bedrock:InferenceProfileArn": {arn}, "aws:RequestedRegion": {d.region}})
		if !ok || len(via.actions) < len(g.actions) {
			broken = append(broken, d.arn)
			continue
		}
		g.policies = uniq(append(g.policies, via.policies...))
	}
	if len(broken) > 0 {
		m.Missing = append(m.Missing, Finding{r.Account, r.Name, fmt.Sprintf("%s is granted in %s but not %s: calls through the profile fail", id, region, strings.Join(broken, ", "))})
		return g, false
	}
	return g, true
}

// invoke reports which invoke actions the role allows on a resource, and the policies that allow them.
func invoke(r *Role, resource string, ctx map[string][]string) (grant, bool) {
	var g grant
	for _, a := range estate.InvokeActions {
		if ok, pols := allowed(r, iameval.Request{Action: a, Resource: resource, Context: ctx}); ok {
			g.actions = append(g.actions, a)
			g.policies = uniq(append(g.policies, pols...))
		}
	}
	return g, len(g.actions) > 0
}

// allowed evaluates the role's identity policies together: a Deny in any wins.
func allowed(r *Role, req iameval.Request) (bool, []string) {
	var by []string
	for _, p := range r.Policies {
		if p.Document == nil {
			continue
		}
		switch d, _ := iameval.Evaluate(p.Document, req); d {
		case iameval.ExplicitDeny:
			return false, nil
		case iameval.Allow:
			by = append(by, p.Name)
		}
	}
	return len(by) > 0, by
}
