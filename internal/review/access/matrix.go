package access

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/acme/genai-estate/internal/arn"
	"github.com/acme/genai-estate/internal/catalog"
	"github.com/acme/genai-estate/internal/iampolicy"
	"github.com/acme/genai-estate/internal/review/iameval"
)

// Principal kinds.
const (
	Token   = "token"   // a web-identity token of the IdP: issuer, audience, subject
	Vendor  = "vendor"  // an AWS principal with an external id
	Service = "service" // an AWS service principal
)

// Principal is someone who may assume a role.
type Principal struct {
	Kind       string `json:"kind"`
	Issuer     string `json:"issuer,omitempty"`
	Audience   string `json:"audience,omitempty"`
	Subject    string `json:"subject,omitempty"`
	AWS        string `json:"aws,omitempty"` // account id or role ARN of a vendor
	ExternalID string `json:"externalId,omitempty"`
	Service    string `json:"service,omitempty"`
	// Name is the use case or vendor the config gives this principal, when known.
	Name string `json:"name,omitempty"`
	// probe marks a made-up principal that no grant should admit.
	probe string
}

// Key identifies the principal regardless of the names a config gives it.
func (p Principal) Key() string {
	switch p.Kind {
	case Token:
		return "token " + p.Issuer + " aud=" + p.Audience + " sub=" + p.Subject
	case Vendor:
		return "vendor " + p.AWS + " externalId=" + p.ExternalID
	}
	return "service " + p.Service
}

// String is the principal as a reviewer reads it.
func (p Principal) String() string {
	switch p.Kind {
	case Token:
		return fmt.Sprintf("sub %s (aud %s)", p.Subject, p.Audience)
	case Vendor:
		return fmt.Sprintf("%s with external id %s", p.AWS, p.ExternalID)
	}
	return p.Service
}

// Model kinds.
const (
	FoundationModel    = "foundation model"
	InferenceProfile   = "inference profile"
	ApplicationProfile = "application inference profile"
)

// Entry is one line of the matrix: a principal may assume a role and, through
// it, invoke a model in a region. Model is empty for a role that grants none.
type Entry struct {
	Principal   Principal `json:"principal"`
	Account     string    `json:"account"`
	AccountName string    `json:"accountName,omitempty"`
	Role        string    `json:"role"`
	RoleArn     string    `json:"roleArn"`
	Region      string    `json:"region,omitempty"`
	Model       string    `json:"model,omitempty"`
	Kind        string    `json:"kind,omitempty"`
	Actions     []string  `json:"actions,omitempty"`
	Policies    []string  `json:"policies,omitempty"`
	// Indeterminate marks a grant that rests on something this review cannot
	// evaluate (an unknown operator, an unresolved value, a boundary whose
	// contents are unknown): it may or may not hold, and is reported as a
	// grant beyond the config.
	Indeterminate bool `json:"indeterminate,omitempty"`
}

// Key identifies the grant (not the policies that carry it).
func (e Entry) Key() string {
	return strings.Join([]string{e.Principal.Key(), e.Account, e.Role, e.Region, e.Model}, "|")
}

// Finding is a grant beyond the config, or one the config asks for that the
// estate does not give.
type Finding struct {
	Account string `json:"account"`
	Role    string `json:"role"`
	Problem string `json:"problem"`
}

// Matrix is who can call which model where.
type Matrix struct {
	Source  string    `json:"source"`
	Config  string    `json:"config,omitempty"`
	Entries []Entry   `json:"entries"`
	Excess  []Finding `json:"excess"`
	Missing []Finding `json:"missing"`
	// NotRead are accounts the config grants in that have no stack here.
	NotRead []string `json:"notRead,omitempty"`
}

// grant is what a role allows, before it is paired with principals.
type grant struct {
	region, model, kind string
	actions, policies   []string
	indeterminate       bool
}

// Options tune an evaluation.
type Options struct {
	// Catalog gives inference profiles' destination regions; default the embedded one.
	Catalog *catalog.Catalog
	// Regions adds regions to try per account (a config's account regions).
	Regions map[string][]string
	// Principals adds principals to try (a config's subjects and vendors).
	Principals []Principal
}

// Evaluate tries every principal that any trust policy (or opts) names, plus
// made-up ones, against every role, and every model that any permission
// policy names, plus made-up ones, against every role that someone can assume.
// Made-up principals or models that get through are reported as excess.
func Evaluate(inv *Inventory, opts Options) *Matrix {
	if opts.Catalog == nil {
		opts.Catalog = catalog.Default()
	}
	m := &Matrix{Source: inv.Source, Entries: []Entry{}, Excess: []Finding{}, Missing: []Finding{}}
	principals := candidates(inv, opts.Principals)
	for _, r := range inv.Roles {
		var grants []grant
		var found *roleFindings // what evaluating the role's permissions found, reported once
		listed, exact := literalSubjects(r.Trust)
		for _, p := range principals {
			if exact && p.Kind == Token && !listed[p.Subject] {
				continue // cannot match: the trust names its subjects exactly
			}
			trust := assumable(r, p)
			if trust != iameval.Allow && trust != iameval.Indeterminate {
				continue
			}
			if p.probe != "" {
				m.Excess = append(m.Excess, Finding{r.Account, r.Name, fmt.Sprintf("trust admits %s: it is broader than the principals it lists%s", p.probe, note(trust))})
				continue
			}
			unsure := trust == iameval.Indeterminate
			if found == nil {
				grants, found = roleGrants(r, opts)
			}
			if p.Kind == Service && len(grants) == 0 {
				continue // service roles matter here only when they reach Bedrock
			}
			m.Excess = append(m.Excess, found.Excess...)
			m.Missing = append(m.Missing, found.Missing...)
			found.Excess, found.Missing = nil, nil
			if len(grants) == 0 {
				m.Entries = append(m.Entries, Entry{Principal: p, Account: r.Account, Role: r.Name, RoleArn: r.Arn, Indeterminate: unsure})
			}
			for _, g := range grants {
				m.Entries = append(m.Entries, Entry{Principal: p, Account: r.Account, Role: r.Name, RoleArn: r.Arn,
					Region: g.region, Model: g.model, Kind: g.kind, Actions: g.actions, Policies: g.policies, Indeterminate: unsure || g.indeterminate})
			}
		}
	}
	sortEntries(m.Entries)
	sortFindings(m.Excess)
	sortFindings(m.Missing)
	return m
}

func sortEntries(es []Entry) {
	sort.SliceStable(es, func(i, j int) bool { return es[i].Key() < es[j].Key() })
}

// candidates collects the principals named in trust policies and opts, and
// one made-up principal of each kind per variation a trust might miss.
func candidates(inv *Inventory, extra []Principal) []Principal {
	seen := map[string]bool{}
	var out []Principal
	add := func(p Principal) {
		if k := p.Key() + p.probe; !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	subs, auds := map[string][]string{}, map[string][]string{}
	vendors := map[string][]string{} // principal -> external ids
	var services []string
	for _, p := range extra {
		switch p.Kind {
		case Token:
			subs[p.Issuer] = append(subs[p.Issuer], p.Subject)
			auds[p.Issuer] = append(auds[p.Issuer], p.Audience)
		case Vendor:
			vendors[p.AWS] = append(vendors[p.AWS], p.ExternalID)
		}
	}
	for _, r := range inv.Roles {
		for _, st := range iampolicy.Statements(r.Trust) {
			cond, _ := st["Condition"].(map[string]any)
			for op, kv := range cond {
				if !namesValues(op) {
					continue // Null and Bool test presence or truth, not a subject
				}
				keys, _ := kv.(map[string]any)
				for k, v := range keys {
					if iss, ok := cutSuffixFold(k, ":sub"); ok {
						subs[iss] = append(subs[iss], iampolicy.Strings(v)...)
					}
					if iss, ok := cutSuffixFold(k, ":aud"); ok {
						auds[iss] = append(auds[iss], iampolicy.Strings(v)...)
					}
				}
			}
			pr, _ := st["Principal"].(map[string]any)
			for _, aws := range iampolicy.Strings(pr["AWS"]) {
				vendors[normalizeAWS(aws)] = append(vendors[normalizeAWS(aws)], externalIDs(cond)...)
			}
			services = append(services, iampolicy.Strings(pr["Service"])...)
		}
	}
	for _, iss := range sortedKeys(subs, auds) {
		ss, as := uniq(subs[iss]), uniq(auds[iss])
		for _, a := range as {
			for _, s := range ss {
				add(Principal{Kind: Token, Issuer: iss, Audience: a, Subject: s})
			}
			add(Principal{Kind: Token, Issuer: iss, Audience: a, Subject: "unlisted-subject", probe: "a token of any other subject"})
		}
		for _, s := range ss {
			add(Principal{Kind: Token, Issuer: iss, Audience: "unlisted-audience", Subject: s, probe: "a token of another audience"})
		}
	}
	var ids []string
	for _, v := range sortedKeys(vendors) {
		for _, x := range uniq(vendors[v]) {
			add(Principal{Kind: Vendor, AWS: v, ExternalID: x})
			ids = append(ids, x)
		}
		add(Principal{Kind: Vendor, AWS: v, probe: "the vendor's principal without an external id"})
		add(Principal{Kind: Vendor, AWS: v, ExternalID: "unlisted-external-id", probe: "the vendor's principal with another external id"})
	}
	for _, x := range uniq(ids) {
		add(Principal{Kind: Vendor, AWS: "arn:aws:iam::000000000000:role/unlisted", ExternalID: x, probe: "another AWS account's principal"})
	}
	for _, s := range uniq(services) {
		add(Principal{Kind: Service, Service: s})
	}
	return out
}

// literalSubjects returns the token subjects a trust names, and whether it
// names them exactly: every Allow statement for web identity conditions its
// subject only with StringEquals on wildcard-free values. Then no other
// subject can match, and trying them is wasted work at a thousand roles.
func literalSubjects(trust any) (map[string]bool, bool) {
	out := map[string]bool{}
	for _, st := range iampolicy.Statements(trust) {
		if st["Effect"] != "Allow" {
			continue
		}
		if _, ok := st["Action"]; !ok || !slices.ContainsFunc(iampolicy.Strings(st["Action"]), func(a string) bool {
			return strings.ContainsAny(a, "*?") || strings.EqualFold(a, "sts:AssumeRoleWithWebIdentity")
		}) {
			continue // a statement that cannot admit a web-identity call
		}
		found := false
		cond, _ := st["Condition"].(map[string]any)
		for op, kv := range cond {
			keys, _ := kv.(map[string]any)
			for k, v := range keys {
				if _, ok := cutSuffixFold(k, ":sub"); !ok {
					continue
				}
				if op != "StringEquals" && op != "ForAnyValue:StringEquals" {
					return nil, false
				}
				for _, s := range iampolicy.Strings(v) {
					if strings.ContainsAny(s, "*?${") {
						return nil, false
					}
					out[s] = true
				}
				found = true
			}
		}
		if !found {
			return nil, false
		}
	}
	return out, true
}

// namesValues says whether a condition operator compares a key with values
// that name principals (not Null or Bool, which test presence or truth).
func namesValues(op string) bool {
	base := op[strings.Index(op, ":")+1:]
	return strings.HasPrefix(base, "String")
}

// cutSuffixFold is strings.CutSuffix ignoring case, as IAM compares
// condition key names.
func cutSuffixFold(s, suffix string) (string, bool) {
	if len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix) {
		return s[:len(s)-len(suffix)], true
	}
	return s, false
}

// normalizeAWS writes an account principal as its 12-digit id, so a config's
// vendor and a template's root ARN are the same principal.
func normalizeAWS(p string) string {
	if a, ok := strings.CutSuffix(p, ":root"); ok {
		return a[strings.LastIndex(a, ":")+1:]
	}
	return p
}

func externalIDs(cond map[string]any) []string {
	var out []string
	for _, kv := range cond {
		keys, _ := kv.(map[string]any)
		for k, v := range keys {
			if strings.EqualFold(k, "sts:ExternalId") {
				out = append(out, iampolicy.Strings(v)...)
			}
		}
	}
	return out
}

// assumable evaluates the role's trust policy for the principal's call to STS.
func assumable(r *Role, p Principal) iameval.Decision {
	req := iameval.Request{Context: map[string][]string{}}
	switch p.Kind {
	case Token:
		// STS finds the provider for the token's issuer in the role's own account.
		req.Action = "sts:AssumeRoleWithWebIdentity"
		req.Principal = map[string]string{"Federated": arn.OIDCProvider(arn.PartitionOfARN(r.Arn), r.Account, p.Issuer)}
		req.Context[p.Issuer+":aud"] = []string{p.Audience}
		req.Context[p.Issuer+":sub"] = []string{p.Subject}
	case Vendor:
		req.Action = "sts:AssumeRole"
		caller := p.AWS
		if len(caller) == 12 {
			caller = arn.AccountRoot(arn.PartitionOfARN(r.Arn), caller)
		}
		req.Principal = map[string]string{"AWS": caller}
		if p.ExternalID != "" {
			req.Context["sts:ExternalId"] = []string{p.ExternalID}
		}
	case Service:
		// The service acts for a resource of its own in the role's account:
		// it presents that account and the resource's ARN.
		req.Action = "sts:AssumeRole"
		req.Principal = map[string]string{"Service": p.Service}
		req.Context["aws:SourceAccount"] = []string{r.Account}
		best := iameval.ImplicitDeny
		for _, src := range sourceArns(r, p.Service) {
			req.Context["aws:SourceArn"] = []string{src}
			req.Resource = r.Arn
			switch d, _ := iameval.Evaluate(r.Trust, req); d {
			case iameval.Allow:
				return d
			case iameval.Indeterminate:
				best = d
			}
		}
		return best
	}
	req.Resource = r.Arn
	d, _ := iameval.Evaluate(r.Trust, req)
	return d
}

// serviceResources are the resources a service assumes roles for, where a
// trust does not say: the RAG knowledge base's role is assumed by Bedrock
// for a knowledge base.
var serviceResources = map[string]string{
	"bedrock.amazonaws.com": "knowledge-base/REVIEWPROBE1",
	"lambda.amazonaws.com":  "function:review-probe",
}

// sourceArns are ARNs of resources of the service in the role's own account
// and region: the ones the trust's aws:SourceArn patterns name there (with
// wildcards filled in), else the service's usual resource.
func sourceArns(r *Role, service string) []string {
	part := arn.PartitionOfARN(r.Arn)
	prefix, _, _ := strings.Cut(service, ".")
	var out []string
	for _, st := range iampolicy.Statements(r.Trust) {
		cond, _ := st["Condition"].(map[string]any)
		for _, kv := range cond {
			keys, _ := kv.(map[string]any)
			for k, v := range keys {
				if !strings.EqualFold(k, "aws:SourceArn") {
					continue
				}
				for _, pat := range iampolicy.Strings(v) {
					f := strings.SplitN(pat, ":", 6)
					if len(f) != 6 || f[2] != prefix {
						continue
					}
					fill := func(s, with string) string {
						if s == "*" || s == "" && with != "" {
							return with
						}
						return strings.NewReplacer("*", "review-probe", "?", "x").Replace(s)
					}
					arn := strings.Join([]string{"arn", part, prefix, fill(f[3], r.Region), fill(f[4], r.Account), fill(f[5], "")}, ":")
					if f[4] == r.Account || f[4] == "*" {
						out = append(out, arn)
					}
				}
			}
		}
	}
	if res, ok := serviceResources[service]; ok {
		out = append(out, arn.Regional(part, prefix, r.Region, r.Account, res))
	}
	if len(out) == 0 {
		out = append(out, arn.Regional(part, prefix, r.Region, r.Account, "review-probe"))
	}
	return uniq(out)
}

func uniq(s []string) []string {
	return slices.Compact(slices.Sorted(slices.Values(s)))
}

func sortedKeys(ms ...map[string][]string) []string {
	var out []string
	for _, m := range ms {
		for k := range m {
			out = append(out, k)
		}
	}
	return uniq(out)
}
