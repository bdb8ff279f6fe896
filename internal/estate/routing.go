package estate

import (
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/acme/genai-estate/config"
	fieldpath "github.com/acme/genai-estate/config/field"
	"github.com/acme/genai-estate/internal/arn"
)

// SSM parameter value limits (standard and advanced tier).
const (
	MaxStandardParameter = 4096
	MaxAdvancedParameter = 8192
)

// Routing is what the gateway needs to serve one use case.
type Routing struct {
	UseCase              string       `json:"useCase"`
	Subjects             []string     `json:"subjects"`
	CredentialTTLSeconds int          `json:"credentialTtlSeconds"`
	Quota                config.Quota `json:"quota"`
	Routes               []Route      `json:"routes"`
}

// Route is one role the use case may assume, and what it may call with it.
type Route struct {
	AccountName string              `json:"accountName"`
	Account     string              `json:"account"`
	RoleArn     string              `json:"roleArn"`
	Via         string              `json:"via"` // the use case itself, or the group it belongs to
	Models      map[string][]string `json:"models"`
	// Profiles names, per region and model, the role's application
	// inference profile; calls must go through it (costAttribution profiles
	// or both). Its ARN is generated at deploy: the gateway reads it, with
	// the assumed role, from the SSM parameter ProfileArns in that account
	// and region (a JSON object of model id to ARN), and caches it.
	Profiles    map[string]map[string]string `json:"profiles,omitempty"`
	ProfileArns string                       `json:"profileArns,omitempty"`
	// Guardrail must be passed on every call through this role.
	Guardrail *RouteGuardrail `json:"guardrail,omitempty"`
}

// RouteGuardrail is the guardrail a role's calls must carry.
type RouteGuardrail struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Arn     string `json:"arn"`
}

// Parameter is a routing document ready to publish.
type Parameter struct {
	UseCase  string
	Name     string // SSM parameter name
	Value    string // JSON
	Advanced bool
}

// RoutingPath is the SSM path under which the routing parameters live.
func RoutingPath(c *config.Config) string { return "/" + c.Org + "/GenAIGateway/routing" }

// roleArn is computed from the naming convention, so the central stack needs
// no reference into the model accounts.
func roleArn(a *Account, r *Role) string {
	return arn.Role(a.Partition, a.Account, "/", r.Name.String())
}

// routing builds every use case's parameter, sorted by use case, and checks
// the SSM size limits.
func routing(e *Estate, rep *config.Reporter) []Parameter {
	c := e.Config
	ttl := c.CredentialTTLSeconds()
	// The roles each use case may assume, in account and role order: one
	// pass over the roles instead of one per use case.
	type assumable struct {
		a   *Account
		r   *Role
		via string
	}
	byUseCase := make(map[string][]assumable, len(c.UseCases))
	// Each role's share of its account's profile sets, in set order: found
	// once, not by scanning every set's roles for every route.
	type share struct {
		set *ProfileSet
		pr  *ProfileRole
	}
	shares := map[*Role][]share{}
	for _, a := range e.Accounts {
		for _, r := range a.Roles {
			switch r.Kind {
			case "useCase":
				byUseCase[r.Name.Subject] = append(byUseCase[r.Name.Subject], assumable{a, r, "useCase"})
			case "group":
				via := "group:" + r.Name.Subject
				for _, m := range slices.Compact(slices.Sorted(slices.Values(r.Members))) {
					byUseCase[m] = append(byUseCase[m], assumable{a, r, via})
				}
			}
		}
		for _, set := range a.Profiles {
			for _, pr := range set.Roles {
				shares[pr.Role] = append(shares[pr.Role], share{set, pr})
			}
		}
	}
	prefix := RoutingPath(c) + "/"
	// One parameter per use case, in chunks on every core: each chunk has
	// its own buffer and Reporter, merged in config order.
	param := func(i int, b []byte, rep *config.Reporter) (Parameter, []byte) {
		u := c.UseCases[i]
		assumes := byUseCase[u.Name]
		doc := Routing{UseCase: u.Name, Subjects: slices.Sorted(slices.Values(u.Subjects)), CredentialTTLSeconds: ttl, Quota: u.Quota, Routes: make([]Route, 0, len(assumes))}
		for _, as := range assumes {
			a, r, via := as.a, as.r, as.via
			rt := Route{AccountName: a.Name, Account: a.Account, RoleArn: roleArn(a, r), Via: via, Models: r.Grants}
			for _, sh := range shares[r] {
				if rt.Profiles == nil {
					rt.Profiles = map[string]map[string]string{}
				}
				models := make(map[string]string, len(sh.pr.Profiles))
				for _, p := range sh.pr.Profiles {
					models[p.Model] = p.Name.String()
				}
				rt.Profiles[sh.set.Region] = models
				rt.ProfileArns = sh.pr.Parameter
			}
			if g := r.guard; g != nil && g.Guardrail != nil {
				rt.Guardrail = &RouteGuardrail{ID: g.Guardrail.ID, Version: g.Guardrail.Version, Arn: g.GuardrailArn}
			}
			doc.Routes = append(doc.Routes, rt)
		}
		b = appendRouting(b[:0], &doc) // the bytes of json.Marshal(doc)
		p := Parameter{UseCase: u.Name, Name: prefix + u.Name, Value: string(b), Advanced: len(b) > MaxStandardParameter}
		if len(b) > MaxAdvancedParameter {
			rep.AddAt(fieldpath.NewPath("useCases").Index(i).Child("name"), config.KindLimit, "grant fewer models or regions per role, or split the use case", "routing data of %s is %d bytes, %d over SSM's advanced-parameter limit of %d", u.Name, len(b), len(b)-MaxAdvancedParameter, MaxAdvancedParameter)
		}
		return p, b
	}
	out := make([]Parameter, len(c.UseCases))
	chunks := min(runtime.GOMAXPROCS(0), len(out))
	reps := make([]*config.Reporter, chunks)
	var wg sync.WaitGroup
	for k := range chunks {
		reps[k] = c.Report()
		wg.Go(func() {
			var b []byte
			for i := k * len(out) / chunks; i < (k+1)*len(out)/chunks; i++ {
				out[i], b = param(i, b, reps[k])
			}
		})
	}
	wg.Wait()
	for _, r := range reps {
		rep.List = append(rep.List, r.List...)
	}
	slices.SortFunc(out, func(a, b Parameter) int { return strings.Compare(a.UseCase, b.UseCase) })
	return out
}
