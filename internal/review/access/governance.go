package access

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"

	"github.com/acme/genai-estate/internal/estate"
	"github.com/acme/genai-estate/internal/iampolicy"
	"github.com/acme/genai-estate/internal/review/assembly"
)

// linkAppProfiles records, for every role, the application inference
// profiles of its account: each profile's ARN and the model or system
// profile it copies. A call through the profile is the grant of that model.
func linkAppProfiles(inv *Inventory, stacks []*assembly.Stack) {
	byAccount := map[string]map[string]string{}
	for _, s := range stacks {
		for _, id := range s.ResourceIDs("AWS::Bedrock::ApplicationInferenceProfile") {
			src, _ := s.Resources[id].Properties["ModelSource"].(map[string]any)
			from, _ := src["CopyFrom"].(string)
			if byAccount[s.Account] == nil {
				byAccount[s.Account] = map[string]string{}
			}
			byAccount[s.Account][s.AppProfileArn(id)] = from
		}
	}
	for _, r := range inv.Roles {
		r.AppProfiles = byAccount[r.Account]
	}
}

// estateProfiles adds the plan's application profiles and the policies that
// grant invoke through them (attached by role name in the profile stacks).
func estateProfiles(inv *Inventory, e *estate.Estate) {
	byName := map[string]*Role{}
	for _, r := range inv.Roles {
		byName[r.Account+"/"+r.Name] = r
	}
	for _, a := range e.Accounts {
		profiles := map[string]string{}
		for _, set := range a.Profiles {
			for _, p := range set.Profiles {
				profiles[p.Placeholder] = p.Source
			}
			for _, pr := range set.Roles {
				if r := byName[a.Account+"/"+pr.Role.Name.String()]; r != nil {
					for _, p := range pr.Policies {
						r.Policies = append(r.Policies, &Policy{Name: p.Name.String(), Document: p.Document.Value()})
					}
				}
			}
		}
		for _, r := range inv.Roles {
			if r.Account == a.Account && len(profiles) > 0 {
				r.AppProfiles = profiles
			}
		}
	}
}

// appProfileGrant is a call through an application inference profile: the
// role must also reach what the profile copies (a model in the profile's
// region, or a system profile and its destinations), with
// bedrock:InferenceProfileArn naming the application profile. The grant is
// then of that model; a profile the templates do not define is judged by
// its own ARN.
func appProfileGrant(r *Role, opts Options, m *roleFindings, arn string, g grant) (grant, bool) {
	src, ok := r.AppProfiles[arn]
	parts := bedrockArn.FindStringSubmatch(src)
	if !ok || parts == nil {
		return g, true
	}
	part, region, kind, id := parts[1], parts[2], parts[4], parts[5]
	type dest struct{ arn, region string }
	dests := []dest{{src, region}}
	if kind == estate.InferenceProfile {
		if model, known := opts.Catalog.Lookup(id); known && model.InferenceProfile != nil {
			p := model.InferenceProfile
			for _, d := range p.Regions {
				dests = append(dests, dest{estate.ModelArn(part, d, "", estate.FoundationModel, p.Model), d})
			}
			if p.Global {
				dests = append(dests, dest{estate.ModelArn(part, "", "", estate.FoundationModel, p.Model), "unspecified"})
			}
		}
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
		m.Missing = append(m.Missing, Finding{r.Account, r.Name, fmt.Sprintf("application profile %s (%s) is granted but not %s: calls through it fail", arn, id, strings.Join(broken, ", "))})
		return g, false
	}
	g.model = id
	return g, true
}

var gatewayCtx sync.Map // *Role -> map[string][]string

// gatewayContext adds to an invoke request what the gateway sends on every
// call through the role: the guardrail its policies require, and an origin
// inside the network perimeter they require (the first endpoint, else VPC,
// else address listed). Without them the review would see the guardrail
// and perimeter Denies refuse every call; GovernanceFindings checks that
// calls without them are refused.
func gatewayContext(r *Role, ctx map[string][]string) map[string][]string {
	extra, ok := gatewayCtx.Load(r)
	if !ok {
		extra = governanceKeys(r)
		gatewayCtx.Store(r, extra)
	}
	keys := extra.(map[string][]string)
	if len(keys) == 0 {
		return ctx
	}
	out := make(map[string][]string, len(ctx)+len(keys))
	for k, v := range keys {
		out[k] = v
	}
	for k, v := range ctx {
		out[k] = v
	}
	return out
}

func governanceKeys(r *Role) map[string][]string {
	values := map[string][]string{}
	for _, p := range r.Policies {
		for _, st := range iampolicy.Statements(p.Document) {
			cond, _ := st["Condition"].(map[string]any)
			for _, kv := range cond {
				m, _ := kv.(map[string]any)
				for k, v := range m {
					switch k {
					case "bedrock:GuardrailIdentifier", "aws:SourceVpce", "aws:SourceVpc", "aws:SourceIp":
						values[k] = append(values[k], iampolicy.Strings(v)...)
					}
				}
			}
		}
	}
	out := map[string][]string{}
	first := func(k string) string {
		vs := slices.Sorted(slices.Values(values[k]))
		if len(vs) == 0 {
			return ""
		}
		return vs[0]
	}
	if g := first("bedrock:GuardrailIdentifier"); g != "" {
		out["bedrock:GuardrailIdentifier"] = []string{g}
	}
	switch {
	case first("aws:SourceVpce") != "":
		out["aws:SourceVpce"] = []string{first("aws:SourceVpce")}
		if v := first("aws:SourceVpc"); v != "" {
			out["aws:SourceVpc"] = []string{v}
		}
	case first("aws:SourceVpc") != "":
		out["aws:SourceVpc"] = []string{first("aws:SourceVpc")}
	case first("aws:SourceIp") != "":
		if ip, _, err := net.ParseCIDR(first("aws:SourceIp")); err == nil {
			out["aws:SourceIp"] = []string{ip.String()}
		}
	}
	if len(out) > 0 {
		out["aws:ViaAWSService"] = []string{"false"}
	}
	return out
}
