package config

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/acme/genai-estate/internal/catalog"
	"github.com/acme/genai-estate/internal/naming"
)

func reflectValue(c *Config) reflect.Value { return reflect.ValueOf(c).Elem() }

var (
	accountRE    = regexp.MustCompile(`^[0-9]{12}$`)
	thumbprintRE = regexp.MustCompile(`^[0-9a-fA-F]{40}$`)
	// IAM role descriptions: at most 1000 of these characters.
	descriptionRE = regexp.MustCompile(`^[\t\n\r\x20-\x7e\x{a1}-\x{ff}]*$`)
	// Subjects and audiences land in trust-policy condition values.
	claimRE = regexp.MustCompile(`^[\x21-\x7e]+$`)
	// sts:ExternalId (STS AssumeRole API reference).
	externalIDRE = regexp.MustCompile(`^[\w+=,.@:/-]+$`) // and 2-1224 long
	principalRE  = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:(root|role/[\w+=,.@/-]+)$`)
)

func trimScheme(u string) string { return strings.TrimPrefix(u, "https://") }

type validator struct {
	c *Config
	r *Reporter
	// roleOwners maps lower-cased role subjects (use cases and groups) to the
	// path that claimed them, for case-insensitive uniqueness.
	roleOwners map[string]string
}

func validate(c *Config, r *Reporter) {
	v := &validator{c: c, r: r, roleOwners: map[string]string{}}
	v.field("org", c.Org, true)
	v.field("layer", c.Layer, true)
	v.field("capability", c.Capability, false)
	v.idp()
	v.account("central.account", c.Central.Account)
	if v.region("central.region", c.Central.Region, true) && c.Central.OidcProviderArn != "" && c.IdentityProvider.IssuerURL != "" {
		central := ModelAccount{Account: c.Central.Account, Regions: []string{c.Central.Region}}
		if want := c.OIDCProviderArn(central); c.Central.OidcProviderArn != want {
			v.r.Add("central.oidcProviderArn", fmt.Sprintf("use %q: the provider for this issuer in the central account (or remove the field to create it)", want), "%q is not the OIDC provider of issuer %s in account %s", c.Central.OidcProviderArn, c.IdentityProvider.IssuerURL, c.Central.Account)
		}
	}
	v.limits("limits", c.Limits)
	v.tags()
	v.models()
	v.modelAccounts()
	v.useCases()
	v.groups()
	v.vendors()
	v.rag()
	v.pipeline()
	v.gateway()
	if c.RAG != nil {
		c.RAG.Defaults()
	}
	if c.Central.Gateway != nil {
		c.Central.Gateway.Defaults()
	}
}

// field checks a name field of the naming convention.
func (v *validator) field(path, s string, required bool) bool {
	if s == "" {
		if required && !v.r.Has(path) {
			v.r.Add(path, fmt.Sprintf("add `%s: <Name>`", path[strings.LastIndex(path, ".")+1:]), "required field is missing")
		}
		return false
	}
	if !naming.ValidField(s) {
		v.r.Add(path, "use "+naming.FieldRule+", e.g. "+suggestField(s), "%q cannot be used in IAM names: names must stay machine-parsable, so hyphens are reserved as separators", s)
		return false
	}
	return true
}

// suggestField turns "fraud-detection_v2" into "FraudDetectionV2".
func suggestField(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9' && b.Len() > 0:
			if up {
				b.WriteString(strings.ToUpper(string(r)))
			} else {
				b.WriteRune(r)
			}
			up = false
		default:
			up = true
		}
	}
	if b.Len() == 0 {
		return "UseCaseA"
	}
	return b.String()
}

func (v *validator) required(path string, empty bool, example string) bool {
	if empty && !v.r.Has(path) {
		v.r.Add(path, "add "+example, "required field is missing")
	}
	return !empty
}

func (v *validator) account(path, id string) {
	if !v.required(path, id == "", "a quoted 12-digit account id, e.g. \"123456789012\"") {
		return
	}
	if tag := v.r.Pos[path].Tag; tag != "" && tag != "!!str" {
		v.r.Add(path, fmt.Sprintf("quote it: \"%s\"", id), "account id %s is not quoted, so YAML reads it as a number (and drops leading zeros)", id)
		return
	}
	if !accountRE.MatchString(id) {
		v.r.Add(path, "use the 12 digits of the account id, e.g. \"123456789012\"", "%q is not a 12-digit account id", id)
	}
}

func (v *validator) region(path, r string, required bool) bool {
	if r == "" {
		if required {
			v.r.Add(path, "add a region, e.g. us-east-1", "required field is missing")
		}
		return false
	}
	if _, ok := catalog.Partition(r); !ok {
		v.r.Add(path, DidYouMean(r, catalog.Regions(), "use an AWS region name such as us-east-1"), "%q is not an AWS region", r)
		return false
	}
	return true
}

func (v *validator) idp() {
	p := v.c.IdentityProvider
	v.field("identityProvider.name", p.Name, true)
	if v.required("identityProvider.issuerUrl", p.IssuerURL == "", "the issuer, e.g. https://acme.okta.com/oauth2/default") {
		u, err := url.Parse(p.IssuerURL)
		if err != nil || !strings.HasPrefix(p.IssuerURL, "https://") || u.Host == "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.User != nil || u.Port() != "" {
			v.r.Add("identityProvider.issuerUrl", "use the token's iss value: https://<host>[/path] in lower-case https, without port, query or fragment", "%q is not an https issuer URL", p.IssuerURL)
		}
	}
	if v.required("identityProvider.audiences", len(p.Audiences) == 0, "the client id(s) the gateway's tokens carry as aud, e.g. [genai-gateway]") {
		if len(p.Audiences) > 100 {
			v.r.Add("identityProvider.audiences", "use at most 100 client ids", "%d audiences, %d over IAM's limit of 100 client ids per OIDC provider", len(p.Audiences), len(p.Audiences)-100)
		}
		v.claims("identityProvider.audiences", p.Audiences, nil, "")
	}
	if len(p.Thumbprints) > 5 {
		v.r.Add("identityProvider.thumbprints", "keep at most 5, or none: IAM verifies the IdP's certificate itself", "%d thumbprints, %d over IAM's limit of 5", len(p.Thumbprints), len(p.Thumbprints)-5)
	}
	for i, t := range p.Thumbprints {
		if !thumbprintRE.MatchString(t) {
			v.r.Add(fmt.Sprintf("identityProvider.thumbprints[%d]", i), "use the 40 hex digits of the SHA-1 fingerprint, or remove thumbprints", "%q is not a SHA-1 thumbprint", t)
		}
	}
}

// claims checks token claim values; owners, when set, records which path
// claimed each value so that one subject cannot identify two use cases.
func (v *validator) claims(path string, values []string, owners map[string]string, owner string) {
	seen := map[string]bool{}
	for i, s := range values {
		p := fmt.Sprintf("%s[%d]", path, i)
		switch {
		case s == "":
			v.r.Add(p, "remove the empty entry", "empty value")
		case strings.Contains(s, "$"):
			v.r.Add(p, "use the literal claim value: IAM reads ${...} as a policy variable, which could make the condition match any token", "%q contains $", s)
		case !claimRE.MatchString(s) || strings.ContainsAny(s, "*?"):
			v.r.Add(p, "use the exact claim value; wildcards and spaces are not matched by StringEquals", "%q is not a literal token claim value", s)
		case seen[s]:
			v.r.Add(p, "remove the duplicate", "%q is listed twice", s)
		case owners != nil && owners[s] != "":
			v.r.Add(p, "give each use case its own token subject; share access through a group instead", "subject %q already identifies %s: two use cases with one subject cannot be told apart", s, owners[s])
		default:
			if owners != nil {
				owners[s] = owner
			}
		}
		seen[s] = true
	}
}

func (v *validator) limits(path string, l Limits) {
	check := func(field string, n, lo, hi int) {
		if n != 0 && (n < lo || n > hi) {
			v.r.Add(path+"."+field, fmt.Sprintf("set a value from %d to %d (the quota you have been granted), or remove it for the default %d", lo, hi, lo), "%d is outside IAM's range %d–%d", n, lo, hi)
		}
	}
	check("trustPolicyChars", l.TrustPolicyChars, 2048, 4096)
	check("managedPoliciesPerRole", l.ManagedPoliciesPerRole, 10, 25)
	check("rolesPerAccount", l.RolesPerAccount, 1000, 5000)
	check("managedPoliciesPerAccount", l.ManagedPoliciesPerAccount, 1500, 5000)
}

func (v *validator) models() {
	seen := map[string]bool{}
	for i, m := range v.c.Models {
		p := fmt.Sprintf("models[%d]", i)
		if !v.required(p+".id", m.ID == "", "the Bedrock model id, e.g. anthropic.claude-3-haiku-20240307-v1:0") {
			continue
		}
		if seen[m.ID] {
			v.r.Add(p+".id", "remove the duplicate entry", "model %q is listed twice", m.ID)
		}
		seen[m.ID] = true
		if strings.HasPrefix(m.ID, "arn:") || strings.ContainsAny(m.ID, "*? /") {
			v.r.Add(p+".id", "use the bare model id, e.g. anthropic.claude-3-haiku-20240307-v1:0", "%q is not a model id", m.ID)
		}
		if m.Provider != "" {
			v.field(p+".provider", m.Provider, false)
		} else if m.InferenceProfile == nil {
			v.r.Add(p+".provider", "add `provider: <Name>`, e.g. Anthropic; it names the model's policy", "a foundation model needs a provider")
		}
		for j, d := range m.EmbeddingDimensions {
			if d < 1 || d > 4096 {
				v.r.Add(fmt.Sprintf("%s.embeddingDimensions[%d]", p, j), "use a dimension from 1 to 4096 (S3 Vectors' range)", "%d is not a valid embedding dimension", d)
			}
		}
	}
	v.c.Catalog = catalog.New(v.c.Models)
	v.mergedCatalog()
	for i, m := range v.c.Models {
		if m.InferenceProfile == nil {
			continue
		}
		p := fmt.Sprintf("models[%d].inferenceProfile", i)
		base, ok := v.c.Catalog.Lookup(m.InferenceProfile.Model)
		switch {
		case m.InferenceProfile.Model == "":
			v.r.Add(p+".model", "name the foundation model the profile routes to", "required field is missing")
		case !ok:
			v.r.Add(p+".model", v.modelFix(m.InferenceProfile.Model), "unknown foundation model %q", m.InferenceProfile.Model)
		case base.InferenceProfile != nil:
			v.r.Add(p+".model", "name the profile's foundation model, not another profile", "%q is itself an inference profile", m.InferenceProfile.Model)
		}
		if v.required(p+".regions", len(m.InferenceProfile.Regions) == 0, "the profile's destination regions") {
			for j, r := range m.InferenceProfile.Regions {
				v.region(fmt.Sprintf("%s.regions[%d]", p, j), r, true)
			}
		}
	}
}

// mergedCatalog checks what the config's entries do to the embedded ones: a
// built-in profile must still route to a foundation model with a provider,
// and provider names must not differ only in case (IAM names ignore case).
func (v *validator) mergedCatalog() {
	where := map[string]string{}
	for i, m := range v.c.Models {
		where[m.ID] = fmt.Sprintf("models[%d]", i)
	}
	for _, id := range v.c.Catalog.IDs() {
		m, _ := v.c.Catalog.Lookup(id)
		if p := m.InferenceProfile; p != nil && where[id] == "" {
			if base, ok := v.c.Catalog.Lookup(p.Model); ok && where[p.Model] != "" && (base.InferenceProfile != nil || base.Provider == "") {
				v.r.Add(where[p.Model]+".id", "keep it a foundation model with a provider, or also override "+id, "%s is the model of the built-in inference profile %s", p.Model, id)
			}
		}
	}
	// Built-in spellings first, then the config's entries in file order.
	providers := map[string]string{}
	for _, id := range v.c.Catalog.IDs() {
		if m, _ := v.c.Catalog.Lookup(id); where[id] == "" && m.Provider != "" {
			providers[strings.ToLower(m.Provider)] = m.Provider
		}
	}
	for i, m := range v.c.Models {
		if m.Provider == "" {
			continue
		}
		if prev, ok := providers[strings.ToLower(m.Provider)]; ok && prev != m.Provider {
			v.r.Add(fmt.Sprintf("models[%d].provider", i), fmt.Sprintf("spell it %q", prev), "provider %q differs from %q only in case; IAM policy names ignore case", m.Provider, prev)
			continue
		}
		providers[strings.ToLower(m.Provider)] = m.Provider
	}
}

func (v *validator) modelFix(id string) string {
	return DidYouMean(id, v.c.Catalog.IDs(), "use an id from the catalog (catalog/catalog.yaml), or add the model under `models:` with its provider")
}

func (v *validator) modelAccounts() {
	if len(v.c.ModelAccounts) == 0 {
		v.r.Add("modelAccounts", "add at least one account: {name: SharedModelsA, account: \"222222222222\", regions: [us-east-1]}", "no shared model accounts")
	}
	names, ids := map[string]string{}, map[string]string{}
	for i, a := range v.c.ModelAccounts {
		p := fmt.Sprintf("modelAccounts[%d]", i)
		if v.field(p+".name", a.Name, true) {
			if prev, dup := names[strings.ToLower(a.Name)]; dup {
				v.r.Add(p+".name", "give each account a unique name", "account name %q is already used by %s (names are compared ignoring case)", a.Name, prev)
			}
			names[strings.ToLower(a.Name)] = p
		}
		// Stack names: 128 letters, digits and hyphens, with room for a shard suffix.
		if n := len(v.c.Org) + len(v.c.Layer) + len(a.Name) + 2 + 3; n > 128 {
			v.r.Add(p+".name", fmt.Sprintf("shorten the account name by at least %d characters", n-128), "stack name %s-%s-%s would be over CloudFormation's 128 characters", v.c.Org, v.c.Layer, a.Name)
		}
		v.account(p+".account", a.Account)
		if prev, dup := ids[a.Account]; dup && a.Account != "" {
			v.r.Add(p+".account", "list each account once; put all its regions in one entry", "account %s is already listed as %s", a.Account, prev)
		}
		ids[a.Account] = p
		partitions := map[string]bool{}
		if v.required(p+".regions", len(a.Regions) == 0, "the regions Bedrock is called in, e.g. [us-east-1]") {
			seen := map[string]bool{}
			for j, r := range a.Regions {
				rp := fmt.Sprintf("%s.regions[%d]", p, j)
				if seen[r] {
					v.r.Add(rp, "remove the duplicate", "region %s is listed twice", r)
				}
				seen[r] = true
				if v.region(rp, r, true) {
					pt, _ := catalog.Partition(r)
					partitions[pt] = true
				}
			}
		}
		if len(partitions) > 1 {
			v.r.Add(p+".regions", "an account lives in one partition; split the regions across accounts", "regions span partitions %s", strings.Join(slices.Sorted(maps.Keys(partitions)), " and "))
		}
		if v.region(p+".deployRegion", a.DeployRegion, false) && len(partitions) == 1 {
			if pt, _ := catalog.Partition(a.DeployRegion); !partitions[pt] {
				v.r.Add(p+".deployRegion", "use a region of the account's partition", "%s is in partition %s, the account's regions are not", a.DeployRegion, pt)
			}
		}
		if a.OidcProviderArn != "" && v.c.IdentityProvider.IssuerURL != "" && a.Account != "" && len(a.Regions) > 0 {
			if want := v.c.OIDCProviderArn(a); a.OidcProviderArn != want {
				v.r.Add(p+".oidcProviderArn", fmt.Sprintf("use %q: the provider for this issuer in this account (or remove the field to create it)", want), "%q is not the OIDC provider of issuer %s in account %s", a.OidcProviderArn, v.c.IdentityProvider.IssuerURL, a.Account)
			}
		}
		if a.StackShards < 0 || a.StackShards > 50 {
			v.r.Add(p+".stackShards", "use 1 to 50, or remove it", "%d stack shards is out of range", a.StackShards)
		}
		v.limits(p+".limits", a.Limits)
	}
}

// roleName claims a role subject name, checking case-insensitive uniqueness
// and the role name length.
func (v *validator) roleName(path, name string) {
	if !v.field(path, name, true) {
		return
	}
	if prev, dup := v.roleOwners[strings.ToLower(name)]; dup {
		v.r.Add(path, "rename one of them: IAM role names are unique ignoring case", "%q collides with the name at %s", name, prev)
	}
	v.roleOwners[strings.ToLower(name)] = path
	if !naming.ValidField(v.c.Org) || !naming.ValidField(v.c.Layer) || (v.c.Capability != "" && !naming.ValidField(v.c.Capability)) {
		return
	}
	err := naming.Role{Org: v.c.Org, Layer: v.c.Layer, Subject: name, Capability: v.c.CapabilityName()}.Validate()
	var le *naming.LengthError
	if errors.As(err, &le) {
		v.r.Add(path, fmt.Sprintf("shorten %q by at least %d characters", name, le.Over()), "%s: %s", name, err)
	}
}

func (v *validator) tags() {
	for k, val := range v.c.Tags {
		p := "tags." + k
		switch {
		case strings.HasPrefix(strings.ToLower(k), "aws:") || strings.HasPrefix(k, "genai:"):
			v.r.Add(p, "choose another key: aws: is reserved by AWS and genai: by this toolkit", "tag key %q uses a reserved prefix", k)
		case len(k) > 128 || len(val) > 256:
			v.r.Add(p, "keep keys to 128 and values to 256 characters", "tag %q is too long", k)
		}
	}
}

func (v *validator) description(path, d string) {
	if len(d) > 1000 || !descriptionRE.MatchString(d) {
		v.r.Add(path, "use at most 1000 characters of Latin-1 text", "IAM does not accept this role description (%d characters)", len(d))
	}
}

// roleHolder checks what use cases, groups and vendors share: the role name,
// its description, the policy layout and the access list.
func (v *validator) roleHolder(p, name, desc, layout string, access []Access, accessRequired bool) {
	v.roleName(p+".name", name)
	v.description(p+".description", desc)
	v.layout(p+".policyLayout", layout)
	if !accessRequired || v.required(p+".access", len(access) == 0, "the models this role may call, e.g. [{account: SharedModelsA, models: [...]}]") {
		v.access(p+".access", access)
	}
}

func (v *validator) layout(path, l string) {
	if l != "" && l != PerProvider && l != MultiModel {
		v.r.Add(path, DidYouMean(l, []string{PerProvider, MultiModel}, "use perProvider or multiModel"), "unknown policy layout %q", l)
	}
}

func (v *validator) useCases() {
	owners := map[string]string{}
	for i, u := range v.c.UseCases {
		p := fmt.Sprintf("useCases[%d]", i)
		v.roleHolder(p, u.Name, u.Description, u.PolicyLayout, u.Access, false)
		if v.required(p+".subjects", len(u.Subjects) == 0, "the token sub values of this use case, e.g. [usecase-a]") {
			v.claims(p+".subjects", u.Subjects, owners, fmt.Sprintf("use case %s (%s)", u.Name, p))
		}
	}
	if len(v.c.UseCases) == 0 {
		v.r.Add("useCases", "add a use case: {name: UseCaseA, subjects: [usecase-a], access: [...]}", "no use cases")
	}
}

func (v *validator) groups() {
	var names []string
	for _, u := range v.c.UseCases {
		names = append(names, u.Name)
	}
	for i, g := range v.c.Groups {
		p := fmt.Sprintf("groups[%d]", i)
		v.roleHolder(p, g.Name, g.Description, g.PolicyLayout, g.Access, true)
		if v.required(p+".members", len(g.Members) == 0, "the use cases sharing this role, e.g. [UseCaseB, UseCaseC]") {
			seen := map[string]bool{}
			for j, m := range g.Members {
				mp := fmt.Sprintf("%s.members[%d]", p, j)
				switch {
				case seen[m]:
					v.r.Add(mp, "remove the duplicate", "%q is listed twice", m)
				case !slices.Contains(names, m):
					v.r.Add(mp, DidYouMean(m, names, "add the use case under useCases first"), "unknown use case %q", m)
				}
				seen[m] = true
			}
		}
	}
}

func (v *validator) vendors() {
	ids := map[string]string{}
	for i, vd := range v.c.Vendors {
		p := fmt.Sprintf("vendors[%d]", i)
		v.roleHolder(p, vd.Name, vd.Description, vd.PolicyLayout, vd.Access, true)
		if v.required(p+".principal", vd.Principal == "", "the vendor's account id, e.g. \"999999999999\", or its role ARN") {
			if accountRE.MatchString(vd.Principal) {
				v.account(p+".principal", vd.Principal)
			} else if !principalRE.MatchString(vd.Principal) {
				v.r.Add(p+".principal", "use a quoted 12-digit account id or arn:aws:iam::<account>:role/<name>; never a wildcard", "%q is not an account id or IAM role ARN", vd.Principal)
			}
		}
		if v.required(p+".externalId", vd.ExternalID == "", "the external id agreed with the vendor") {
			if n := len(vd.ExternalID); n < 2 || n > 1224 || !externalIDRE.MatchString(vd.ExternalID) {
				v.r.Add(p+".externalId", "use 2 to 1224 characters of letters, digits and +=,.@:/-_", "external id is not valid for sts:ExternalId (%d characters)", len(vd.ExternalID))
			} else if prev, dup := ids[vd.ExternalID]; dup {
				v.r.Add(p+".externalId", "give every vendor its own external id: a shared one defeats its purpose", "external id is already used by %s", prev)
			}
			ids[vd.ExternalID] = "vendor " + vd.Name
		}
	}
}

func (v *validator) access(path string, list []Access) {
	var accounts []string
	for _, a := range v.c.ModelAccounts {
		accounts = append(accounts, a.Name)
	}
	for i, a := range list {
		p := fmt.Sprintf("%s[%d]", path, i)
		acct, ok := v.c.Account(a.Account)
		if a.Account == "" {
			v.r.Add(p+".account", "name one of the modelAccounts: "+strings.Join(accounts, ", "), "required field is missing")
		} else if !ok {
			v.r.Add(p+".account", DidYouMean(a.Account, accounts, "name one of the modelAccounts: "+strings.Join(accounts, ", ")), "unknown model account %q", a.Account)
		}
		regions := a.Regions
		for j, r := range a.Regions {
			rp := fmt.Sprintf("%s.regions[%d]", p, j)
			if v.region(rp, r, true) && ok && !slices.Contains(acct.Regions, r) {
				v.r.Add(rp, fmt.Sprintf("add %s to account %s's regions, or use one of %s", r, acct.Name, strings.Join(acct.Regions, ", ")), "account %s does not list region %s", acct.Name, r)
			}
		}
		if len(regions) == 0 {
			regions = acct.Regions
		}
		if !v.required(p+".models", len(a.Models) == 0, "the model ids to grant, e.g. [anthropic.claude-3-haiku-20240307-v1:0]") {
			continue
		}
		seen := map[string]bool{}
		for j, id := range a.Models {
			mp := fmt.Sprintf("%s.models[%d]", p, j)
			m, known := v.c.Catalog.Lookup(id)
			switch {
			case seen[id]:
				v.r.Add(mp, "remove the duplicate", "model %q is listed twice", id)
			case strings.ContainsAny(id, "*?"):
				v.r.Add(mp, "list each model id explicitly: wildcards grant models nobody reviewed", "wildcard %q in a model grant", id)
			case !known:
				v.r.Add(mp, v.modelFix(id), "unknown model %q", id)
			case m.InferenceProfile != nil:
				for _, r := range regions {
					if !slices.Contains(m.InferenceProfile.Regions, r) {
						v.r.Add(mp, fmt.Sprintf("limit this entry with `regions:` to some of %s, or use a profile for %s", strings.Join(m.InferenceProfile.Regions, ", "), r), "inference profile %q cannot be called from %s", id, r)
					}
				}
			}
			seen[id] = true
		}
	}
}
