// Package estate turns a validated config into the plan of every account:
// which roles exist, what they trust and which managed policies they carry.
// It is pure Go, so every IAM and CloudFormation limit is checked here,
// before a single construct is created or a file written.
package estate

import (
	"fmt"
	"hash/fnv"
	"maps"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/acme/genai-estate/config"
	fieldpath "github.com/acme/genai-estate/config/field" // named: field is the template sizer of size.go
	"github.com/acme/genai-estate/internal/arn"
	"github.com/acme/genai-estate/internal/iampolicy"
	"github.com/acme/genai-estate/internal/naming"
)

// IAM and CloudFormation limits that no quota raises.
const (
	MaxManagedPolicyChars = 6144
	MaxStackResources     = 500
	MaxStackOutputs       = 200
	// MaxTemplateBytes is CloudFormation's limit on a template uploaded
	// through S3, as CDK deploys it.
	MaxTemplateBytes = 1_000_000
	// TemplateBytesBudget is what sharding keeps each template under: past
	// 80% of the limit CDK warns (@aws-cdk/core:Stack.templateSize), and
	// the toolkit fails the synth on that warning.
	TemplateBytesBudget = MaxTemplateBytes * 8 / 10
	// A template's bytes besides its roles: description, CDK's bootstrap
	// parameter and rule, its metadata resource, the OIDC provider.
	templateOverhead = 16 << 10
	// Per stack: CDK's metadata resource, and the OIDC provider in the first shard.
	reservedResources = 2
)

// InvokeActions are the only Bedrock actions a role is granted. Converse and
// ConverseStream are authorised by these two.
var InvokeActions = []string{"bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"}

// Estate is the plan for every shared model account.
type Estate struct {
	Config   *config.Config
	Accounts []*Account // sorted by name
	// Routing holds each use case's routing parameter for the gateway.
	Routing []Parameter
	// Tags go on every taggable resource of every stack: the toolkit's own,
	// then the config's, sorted by key.
	Tags []Tag
}

// Tag is one resource tag.
type Tag struct{ Key, Value string }

func tags(c *config.Config) []Tag {
	out := []Tag{{naming.TagOrg, c.Org}, {naming.TagManagedBy, naming.ManagedBy}}
	for _, k := range slices.Sorted(maps.Keys(c.Tags)) {
		out = append(out, Tag{k, c.Tags[k]})
	}
	return out
}

// Account is the plan of one shared model account.
type Account struct {
	config.ModelAccount
	Partition string
	// CreateProvider is false when the config imports an existing provider.
	CreateProvider bool
	ProviderArn    string
	IdPName        naming.IdP
	Roles          []*Role // sorted by name
	Shards         int
	// ShardBytes estimates each shard's template bytes as CDK writes it,
	// with a 5% margin; each is within TemplateBytesBudget.
	ShardBytes []int
	// Profiles are the account's application inference profiles, one set
	// (and stack) per region, sorted by region; none with costAttribution: direct.
	Profiles []*ProfileSet
	// docs holds the invoke policies planned for each distinct grant.
	docs map[string][]policyPart
	// grants holds each distinct grant's map (see grantsOf), keyBuf the
	// buffer its keys are written in, principal the Principal of the
	// account's web-identity trust policies (all alike).
	grants    map[string]map[string][]string
	keyBuf    []byte
	principal map[string]string
}

// Role is one Bedrock invoke role.
type Role struct {
	Name        naming.Role
	TrustName   naming.TrustPolicy
	Kind        string // "useCase", "group" or "vendor"
	Vendor      string // the vendor's name, for a vendor role
	Description string
	Subjects    []string // token sub values allowed to assume it, sorted
	Members     []string // for a group: its use cases, sorted
	Trust       iampolicy.Document
	trustShape  docShape // Trust's JSON, measured for the template estimate
	Policies    []*Policy
	// Grants maps each region to the model ids granted there, sorted.
	Grants map[string][]string
	Shard  int
	// guard is the role's guardrail and perimeter (nil if neither applies),
	// found once for its policies and its routes.
	guard *Guard
	// Path is the config path of the use case, group or vendor, for messages.
	Path *fieldpath.Path
}

// Policy is one customer managed policy.
type Policy struct {
	Name     naming.Policy
	Document iampolicy.Document
	shape    docShape // Document's JSON, measured when planned; zero if not
}

// Stack returns the stack name of a shard of the account.
func (a *Account) Stack(org, layer string, shard int) string {
	name := fmt.Sprintf("%s-%s-%s", org, layer, a.Name)
	if shard > 0 {
		name += fmt.Sprintf("-%d", shard+1)
	}
	return name
}

// UsedShards lists the shards that become stacks, in order: those holding
// roles, and the first when it creates the account's OIDC provider. A pinned
// stackShards higher than the roles need leaves shards empty; they are
// skipped, and the other shards keep their names and logical ids.
func (a *Account) UsedShards() []int {
	used := make([]bool, a.Shards)
	for _, r := range a.Roles {
		used[r.Shard] = true
	}
	var out []int
	for s, u := range used {
		if u || (s == 0 && a.CreateProvider) {
			out = append(out, s)
		}
	}
	return out
}

// ShardRoles returns the roles of one shard.
func (a *Account) ShardRoles(shard int) []*Role {
	var out []*Role
	for _, r := range a.Roles {
		if r.Shard == shard {
			out = append(out, r)
		}
	}
	return out
}

// Build plans the estate. Every limit that is exceeded is reported, located
// at the use case, group or account that exceeds it.
func Build(c *config.Config) (*Estate, error) {
	rep := c.Report()
	e := &Estate{Config: c, Tags: tags(c)}
	tk := newTrustKeys(c)
	// A group's subjects are its members': found once, not once per account
	// (at 1,000 accounts that lookup was most of the plan's time).
	useCases := make(map[string]config.UseCase, len(c.UseCases))
	for _, u := range slices.Backward(c.UseCases) {
		useCases[u.Name] = u // the first of a name wins, as in config.UseCase
	}
	// Each use case's and group's subjects, sorted, and the trust condition
	// naming them: the same in every account, so built once and shared by
	// the roles of one use case or group.
	useCaseWho := make([]who, len(c.UseCases))
	for j, u := range c.UseCases {
		useCaseWho[j] = tk.who(u.Subjects)
	}
	groupWho := make([]who, len(c.Groups))
	for j, g := range c.Groups {
		var subjects []string
		for _, m := range g.Members {
			subjects = append(subjects, useCases[m].Subjects...)
		}
		groupWho[j] = tk.who(subjects)
	}
	// Which use cases, groups and vendors each account grants to, in config
	// order: looking at every one of them for every account made the plan
	// of 20,000 use cases in 200 accounts quadratic.
	type users struct{ useCases, groups, vendors []int }
	uses := map[string]*users{}
	for _, ma := range c.ModelAccounts {
		uses[ma.Name] = &users{}
	}
	index := func(access []config.Access, j int, list func(*users) *[]int) {
		for k, acc := range access {
			if u := uses[acc.Account]; u != nil && !slices.ContainsFunc(access[:k], func(b config.Access) bool { return b.Account == acc.Account }) {
				*list(u) = append(*list(u), j)
			}
		}
	}
	for j, u := range c.UseCases {
		index(u.Access, j, func(u *users) *[]int { return &u.useCases })
	}
	for j, g := range c.Groups {
		index(g.Access, j, func(u *users) *[]int { return &u.groups })
	}
	for j, v := range c.Vendors {
		index(v.Access, j, func(u *users) *[]int { return &u.vendors })
	}
	// Accounts are planned in parallel: each writes only its own Account and
	// Reporter, and reads the config, whose name index is built first (a
	// lookup builds it on first use). Their diagnostics are then merged in
	// config order, as a sequential plan reports them.
	if len(c.UseCases) > 0 {
		c.UseCase(c.UseCases[0].Name)
	}
	if len(c.ModelAccounts) > 0 {
		c.Account(c.ModelAccounts[0].Name)
	}
	reps := make([]*config.Reporter, len(c.ModelAccounts))
	planAccount := func(i int) *Account {
		ma, rep := c.ModelAccounts[i], c.Report()
		reps[i] = rep
		a := &Account{
			ModelAccount:   ma,
			CreateProvider: ma.OidcProviderArn == "",
			ProviderArn:    c.OIDCProviderArn(ma),
			IdPName:        naming.IdP{Org: c.Org, Provider: c.IdentityProvider.Name},
			Partition:      ma.Partition(),
		}
		lim := c.EffectiveLimits(ma)
		useCases, groups, vendors := fieldpath.NewPath("useCases"), fieldpath.NewPath("groups"), fieldpath.NewPath("vendors")
		for _, j := range uses[ma.Name].useCases {
			u := c.UseCases[j]
			if r := planRole(c, rep, tk, a, lim, spec{path: useCases.Index(j), kind: "useCase", name: u.Name, desc: u.Description,
				who: &useCaseWho[j], layout: u.PolicyLayout, access: u.Access}); r != nil {
				a.Roles = append(a.Roles, r)
			}
		}
		for _, j := range uses[ma.Name].groups {
			g := c.Groups[j]
			if r := planRole(c, rep, tk, a, lim, spec{path: groups.Index(j), kind: "group", name: g.Name, desc: g.Description,
				who: &groupWho[j], members: g.Members, layout: g.PolicyLayout, access: g.Access}); r != nil {
				a.Roles = append(a.Roles, r)
			}
		}
		for _, j := range uses[ma.Name].vendors {
			v := c.Vendors[j]
			if r := planRole(c, rep, tk, a, lim, spec{path: vendors.Index(j), kind: "vendor", name: v.Name, desc: v.Description,
				vendor: &v, layout: v.PolicyLayout, access: v.Access}); r != nil {
				a.Roles = append(a.Roles, r)
			}
		}
		sort.Slice(a.Roles, func(x, y int) bool { return a.Roles[x].Name.Subject < a.Roles[y].Name.Subject })
		path := fieldpath.NewPath("modelAccounts").Index(i)
		if n := len(a.Roles); n > lim.RolesPerAccount {
			rep.AddAt(path.Child("name"), config.KindLimit, "raise the quota and set limits.rolesPerAccount, or move use cases to another account", "account %s needs %d roles, %d over its quota of %d", a.Name, n, n-lim.RolesPerAccount, lim.RolesPerAccount)
		}
		policies := 0
		for _, r := range a.Roles {
			policies += len(r.Policies)
		}
		if policies > lim.ManagedPoliciesPerAccount {
			rep.AddAt(path.Child("name"), config.KindLimit, "raise the quota and set limits.managedPoliciesPerAccount, use policyLayout: multiModel, or move use cases to another account", "account %s needs %d customer managed policies, %d over its quota of %d", a.Name, policies, policies-lim.ManagedPoliciesPerAccount, lim.ManagedPoliciesPerAccount)
		}
		shard(c, rep, path, a)
		profiles(c, rep, path, a, lim)
		return a
	}
	e.Accounts = make([]*Account, len(c.ModelAccounts))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(c.ModelAccounts)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(c.ModelAccounts); i = int(next.Add(1) - 1) {
				e.Accounts[i] = planAccount(i)
			}
		})
	}
	wg.Wait()
	for _, r := range reps {
		rep.List = append(rep.List, r.List...)
	}
	sort.Slice(e.Accounts, func(x, y int) bool { return e.Accounts[x].Name < e.Accounts[y].Name })
	e.Routing = routing(e, rep)
	if err := rep.List.Err(); err != nil {
		return nil, err
	}
	return e, nil
}

// kindWords name a role's kind in its default description.
var kindWords = map[string]string{"useCase": "use case", "group": "domain", "vendor": "vendor"}

// spec is what a role is planned from: a use case, a group or a vendor.
type spec struct {
	path             *fieldpath.Path
	kind, name, desc string
	who              *who           // web-identity roles
	members          []string       // a group's
	vendor           *config.Vendor // vendor roles
	layout           string
	access           []config.Access
}

func planRole(c *config.Config, rep *config.Reporter, tk trustKeys, a *Account, lim config.Limits, sp spec) *Role {
	path, kind, name := sp.path, sp.kind, sp.name
	grants := a.grantsOf(sp.access)
	if len(grants) == 0 {
		return nil
	}
	var subjects []string
	if sp.who != nil {
		subjects = sp.who.subjects
	}
	r := &Role{
		Name:      naming.Role{Org: c.Org, Layer: c.Layer, Subject: name, Capability: c.CapabilityName()},
		TrustName: naming.TrustPolicy{Org: c.Org, Layer: c.Layer, Subject: name},
		Kind:      kind, Subjects: subjects, Members: slices.Sorted(slices.Values(sp.members)),
		Grants: grants, Path: path,
	}
	r.Description = sp.desc
	if r.Description == "" {
		r.Description = "Bedrock access of " + kindWords[kind] + " " + name
	}
	r.guard = guard(c, a, r, roleGuardrail(c, r.Kind, r.Name.Subject))
	if sp.vendor != nil {
		r.Trust = vendorTrust(a, sp.vendor)
		r.Vendor = sp.vendor.Name
	} else {
		if a.principal == nil {
			a.principal = map[string]string{"Federated": a.ProviderArn}
		}
		r.Trust = trust(a.principal, sp.who.condition)
	}
	trustDoc := size(r.Trust)
	r.trustShape = trustDoc.shape
	if n := trustDoc.chars; n > lim.TrustPolicyChars {
		fix := "raise the trust policy quota (up to 4096) and set limits.trustPolicyChars, or split the group"
		if lim.TrustPolicyChars >= 4096 {
			fix = "split the group into smaller groups, or use fewer subjects per use case"
		}
		rep.AddAt(path.Child("name"), config.KindLimit, fix, "trust policy of %s in account %s is %d characters, %d over the quota of %d", r.Name, a.Name, n, n-lim.TrustPolicyChars, lim.TrustPolicyChars)
	}
	r.Policies = policies(c, rep, a, r, sp.layout)
	if n := len(r.Policies); n > lim.ManagedPoliciesPerRole {
		rep.AddAt(path.Child("name"), config.KindLimit, "raise the quota (up to 25) and set limits.managedPoliciesPerRole, or use policyLayout: multiModel", "%s in account %s needs %d managed policies, %d over the quota of %d per role", r.Name, a.Name, n, n-lim.ManagedPoliciesPerRole, lim.ManagedPoliciesPerRole)
	}
	return r
}

// grantsOf maps each region of the account to the models these grants
// give there, sorted. Roles whose grants in the account are written alike
// share one map (read-only, as every reader of Role.Grants treats it): in a
// large estate most use cases ask for the same models, and a map per role
// was a tenth of the plan's memory.
func (a *Account) grantsOf(access []config.Access) map[string][]string {
	key := a.keyBuf[:0]
	for _, acc := range access {
		if acc.Account != a.Name {
			continue
		}
		key = strconv.AppendInt(key, int64(len(acc.Regions)), 10)
		for _, r := range acc.Regions {
			key = append(strconv.AppendInt(append(key, ','), int64(len(r)), 10), ':')
			key = append(key, r...)
		}
		key = append(strconv.AppendInt(append(key, ';'), int64(len(acc.Models)), 10), ';')
		for _, m := range acc.Models {
			key = append(strconv.AppendInt(append(key, ','), int64(len(m)), 10), ':')
			key = append(key, m...)
		}
		key = append(key, '|')
	}
	a.keyBuf = key
	if len(key) == 0 {
		return nil
	}
	if g, ok := a.grants[string(key)]; ok {
		return g
	}
	grants := map[string][]string{}
	for _, acc := range access {
		if acc.Account != a.Name {
			continue
		}
		regions := acc.Regions
		if len(regions) == 0 {
			regions = a.Regions
		}
		for _, r := range regions {
			for _, m := range acc.Models {
				if !slices.Contains(grants[r], m) {
					grants[r] = append(grants[r], m)
				}
			}
		}
	}
	for r := range grants {
		slices.Sort(grants[r])
	}
	if a.grants == nil {
		a.grants = map[string]map[string][]string{}
	}
	a.grants[string(key)] = grants
	return grants
}

// trust lets the account's own OIDC provider in, for tokens of the right
// audience and one of the listed subjects. A custom claim such as `groups`
// is not an IAM condition key, so membership is expressed by subjects.
// The principal (the account's provider), the action and the condition (a
// use case's or group's, see who) are shared: documents are read-only.
func trust(principal map[string]string, condition map[string]map[string][]string) iampolicy.Document {
	return iampolicy.New(iampolicy.Statement{
		Sid:       "GatewayWebIdentity",
		Effect:    "Allow",
		Principal: principal,
		Action:    webIdentityAction,
		Condition: condition,
	})
}

// who is whom a web-identity role trusts: the subjects, sorted, and the
// condition of its trust policy.
type who struct {
	subjects  []string
	condition map[string]map[string][]string
}

func (k trustKeys) who(subjects []string) who {
	sorted := slices.Compact(slices.Sorted(slices.Values(subjects)))
	return who{sorted, map[string]map[string][]string{"StringEquals": {k.aud: k.audiences, k.sub: sorted}}}
}

var webIdentityAction = []string{"sts:AssumeRoleWithWebIdentity"}

// trustKeys are what every web-identity trust policy of the estate shares:
// the issuer's condition keys and the sorted audiences, found once per plan
// rather than once per role. Documents are read-only, so roles share them.
type trustKeys struct {
	aud, sub  string
	audiences []string
}

func newTrustKeys(c *config.Config) trustKeys {
	iss := c.Issuer()
	return trustKeys{aud: iss + ":aud", sub: iss + ":sub", audiences: slices.Sorted(slices.Values(c.IdentityProvider.Audiences))}
}

// vendorTrust lets only the vendor's principal in, and only with its external
// id. aws:SourceAccount is absent on a vendor's AssumeRole call, so it is not used.
func vendorTrust(a *Account, v *config.Vendor) iampolicy.Document {
	principal := v.Principal
	if !strings.HasPrefix(principal, "arn:") {
		principal = arn.AccountRoot(a.Partition, principal)
	}
	return iampolicy.New(iampolicy.Statement{
		Sid:       "VendorWithExternalId",
		Effect:    "Allow",
		Principal: map[string]string{"AWS": principal},
		Action:    []string{"sts:AssumeRole"},
		Condition: map[string]map[string][]string{"StringEquals": {"sts:ExternalId": {v.ExternalID}}},
	})
}

// shard assigns roles to stacks by a hash of their name, so that adding a role
// never moves another one, and checks CloudFormation's per-stack limits:
// resources, outputs and template bytes (estimated from the rendering the
// stack uses, with a 5% margin).
func shard(c *config.Config, rep *config.Reporter, path *fieldpath.Path, a *Account) {
	n := a.StackShards
	auto := n == 0
	if auto {
		n = 1
	}
	hashes, sizes := make([]uint32, len(a.Roles)), make([]int, len(a.Roles))
	// The longest stack name a shard can have, for CDK's path metadata.
	stack := a.Stack(c.Org, c.Layer, 49)
	tags := tags(c)
	h := fnv.New32a()
	for i, r := range a.Roles {
		h.Reset()
		h.Write([]byte(strings.ToLower(r.Name.Subject)))
		hashes[i] = h.Sum32()
		sizes[i] = r.templateBytes(a, tags, stack) * 105 / 100
	}
	for {
		res, outs, size := make([]int, n), make([]int, n), make([]int, n)
		for i, r := range a.Roles {
			r.Shard = int(hashes[i] % uint32(n))
			res[r.Shard] += 1 + len(r.Policies)
			outs[r.Shard]++
			size[r.Shard] += sizes[i]
		}
		worst, over := 0, 0.0
		for s := range n {
			// The largest overage, relative to its limit.
			o := max(float64(res[s]+reservedResources)/MaxStackResources, float64(outs[s])/MaxStackOutputs, float64(size[s]+templateOverhead)/TemplateBytesBudget)
			if o > 1 && o > over {
				worst, over = s, o
			}
		}
		if over == 0 {
			a.Shards = n
			for s := range size {
				size[s] += templateOverhead
			}
			a.ShardBytes = size
			return
		}
		if !auto || n >= 50 {
			rep.AddAt(path.Child("stackShards"), config.KindLimit, fmt.Sprintf("raise stackShards above %d", n), "stack %s would hold %d resources, %d outputs and about %d template bytes, over CloudFormation's %d resources or %d outputs per stack, or the %d bytes a template is kept under (80%% of CloudFormation's %d)", a.Stack(c.Org, c.Layer, worst), res[worst]+reservedResources, outs[worst], size[worst]+templateOverhead, MaxStackResources, MaxStackOutputs, TemplateBytesBudget, MaxTemplateBytes)
			return
		}
		n++
	}
}
