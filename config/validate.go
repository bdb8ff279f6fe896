package config

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/acme/genai-estate/config/field"
	"github.com/acme/genai-estate/internal/catalog"
	"github.com/acme/genai-estate/internal/naming"
)

var (
	accountRE    = regexp.MustCompile(`^[0-9]{12}$`)
	thumbprintRE = regexp.MustCompile(`^[0-9a-fA-F]{40}$`)
	// IAM role descriptions: at most 1000 of these characters.
	descriptionRE = regexp.MustCompile(`^[\t\n\r\x20-\x7e\x{a1}-\x{ff}]*$`)
	// Subjects and audiences land in trust-policy condition values.
	claimRE = regexp.MustCompile(`^[\x21-\x7e]+$`)
	// sts:ExternalId (STS AssumeRole API reference).
	externalIDRE = regexp.MustCompile(`^[\w+=,.@:/-]+$`) // and 2-1224 long
	principalRE  = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:iam::([0-9]{12}):(root|role/[\w+=,.@/-]+)$`)
	// Tag keys and values IAM and CloudFormation accept (TagResource API).
	tagRE = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
	// The region field of an ARN.
	arnRegionRE = regexp.MustCompile(`^arn:[a-z-]+:[a-z0-9-]+:([a-z0-9-]*):`)
)

// Limits of tags (IAM and CloudFormation).
const (
	maxTagKey   = 128
	maxTagValue = 256
)

// discoveryPath is where an issuer publishes its OpenID configuration; the
// issuer is the URL before it.
const discoveryPath = "/.well-known/openid-configuration"

func trimScheme(u string) string { return strings.TrimPrefix(u, "https://") }

type validator struct {
	c *Config
	r *Reporter
	// roleOwners maps lower-cased role subjects (use cases and groups) to the
	// path that claimed them, for case-insensitive uniqueness.
	roleOwners map[string]string
	accounts   []string // see accountNames
}

// err reports an error at a typed path.
func (v *validator) err(p *field.Path, kind, fix, format string, args ...any) {
	v.r.AddAt(p, kind, fix, format, args...)
}

func validate(c *Config, r *Reporter) {
	v := &validator{c: c, r: r, roleOwners: map[string]string{}}
	v.field(field.NewPath("org"), c.Org, true)
	v.field(field.NewPath("layer"), c.Layer, true)
	v.field(field.NewPath("capability"), c.Capability, false)
	v.idp()
	v.account(field.NewPath("central", "account"), c.Central.Account)
	v.region(field.NewPath("central", "region"), c.Central.Region, true)
	v.tags()
	v.models()
	v.modelAccounts()
	v.useCases()
	v.groups()
	v.vendors()
	v.rag()
	v.pipeline()
	v.governance()
	v.gateway()
	v.deployRegions()
	v.warnings()
}

// field checks a name field of the naming convention.
func (v *validator) field(path *field.Path, s string, required bool) bool {
	if s == "" {
		if required && !v.r.Has(path) {
			rendered := path.String()
			v.err(path, KindRequired, fmt.Sprintf("add `%s: <Name>`", rendered[strings.LastIndex(rendered, ".")+1:]), "required field is missing")
		}
		return false
	}
	if !naming.ValidField(s) {
		problem, fix := patterns["name"].explain(s)
		v.err(path, KindPattern, fix, "%s", problem)
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

func (v *validator) required(path *field.Path, empty bool, example string) bool {
	if empty && !v.r.Has(path) {
		v.err(path, KindRequired, "add "+example, "required field is missing")
	}
	return !empty
}

func (v *validator) account(path *field.Path, id string) {
	if !v.required(path, id == "", "a quoted 12-digit account id, e.g. \"123456789012\"") {
		return
	}
	var buf [128]byte
	if tag := v.r.Pos[string(path.AppendTo(buf[:0]))].Tag; tag != "" && tag != "!!str" {
		v.err(path, KindType, fmt.Sprintf("quote it: \"%s\"", id), "account id %s is not quoted, so YAML reads it as a number (and drops leading zeros)", id)
		return
	}
	if !accountRE.MatchString(id) {
		problem, fix := patterns["account"].explain(id)
		v.err(path, KindPattern, fix, "%s", problem)
	}
}

func (v *validator) region(path *field.Path, r string, required bool) bool {
	if r == "" {
		if required && !v.r.Has(path) {
			v.err(path, KindRequired, "add a region, e.g. us-east-1", "required field is missing")
		}
		return false
	}
	if _, ok := catalog.Partition(r); !ok {
		v.err(path, KindEnum, DidYouMean(r, catalog.Regions(), "use an AWS region name such as us-east-1"), "%q is not an AWS region", r)
		return false
	}
	return true
}

func (v *validator) idp() {
	p := v.c.IdentityProvider
	at := field.NewPath("identityProvider")
	v.field(at.Child("name"), p.Name, true)
	issuer := at.Child("issuerUrl")
	if v.required(issuer, p.IssuerURL == "", "the issuer, e.g. https://acme.okta.com/oauth2/default") {
		u, err := url.Parse(p.IssuerURL)
		switch {
		case strings.HasSuffix(strings.TrimSuffix(p.IssuerURL, "/"), discoveryPath):
			v.err(issuer, KindInvalid, fmt.Sprintf("use the issuer itself, %q: the URL before %s, as the token's iss claim has it", strings.TrimSuffix(strings.TrimSuffix(p.IssuerURL, "/"), discoveryPath), discoveryPath),
				"%q is the issuer's discovery document, not the issuer", p.IssuerURL)
		case err != nil || !strings.HasPrefix(p.IssuerURL, "https://") || u.Host == "" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.User != nil || u.Port() != "":
			v.err(issuer, KindInvalid, "use the token's iss value: https://<host>[/path] in lower-case https, without port, query or fragment", "%q is not an https issuer URL", p.IssuerURL)
		}
	}
	aud := at.Child("audiences")
	if v.required(aud, len(p.Audiences) == 0, "the client id(s) the gateway's tokens carry as aud, e.g. [genai-gateway]") {
		if len(p.Audiences) > 100 {
			v.err(aud, KindLimit, "use at most 100 client ids", "%d audiences, %d over IAM's limit of 100 client ids per OIDC provider", len(p.Audiences), len(p.Audiences)-100)
		}
		v.claims(aud, p.Audiences, nil, "")
	}
	tp := at.Child("thumbprints")
	if len(p.Thumbprints) > 5 {
		v.err(tp, KindLimit, "keep at most 5, or none: IAM verifies the IdP's certificate itself", "%d thumbprints, %d over IAM's limit of 5", len(p.Thumbprints), len(p.Thumbprints)-5)
	}
	for i, t := range p.Thumbprints {
		if !thumbprintRE.MatchString(t) {
			v.err(tp.Index(i), KindPattern, "use the 40 hex digits of the SHA-1 fingerprint, or remove thumbprints", "%q is not a SHA-1 thumbprint", t)
		}
	}
}

// claims checks token claim values; owners, when set, records which use
// case claimed each value so that one subject cannot identify two.
func (v *validator) claims(path *field.Path, values []string, owners map[string]string, owner string) {
	seen := map[string]bool{}
	for i, s := range values {
		p := path.Index(i)
		switch {
		case s == "":
			v.err(p, KindRequired, "remove the empty entry", "empty value")
		case strings.Contains(s, "$"):
			v.err(p, KindInvalid, "use the literal claim value: IAM reads ${...} as a policy variable, which could make the condition match any token", "%q contains $", s)
		case !claimRE.MatchString(s) || strings.ContainsAny(s, "*?"):
			v.err(p, KindInvalid, "use the exact claim value; wildcards and spaces are not matched by StringEquals", "%q is not a literal token claim value", s)
		case seen[s]:
			v.err(p, KindDuplicate, "remove the duplicate", "%q is listed twice", s)
		case owners != nil && owners[s] != "":
			v.err(p, KindDuplicate, "give each use case its own token subject; share access through a group instead", "subject %q already identifies %s: two use cases with one subject cannot be told apart", s, owners[s])
		default:
			if owners != nil {
				owners[s] = owner
			}
		}
		seen[s] = true
	}
}

func (v *validator) models() {
	seen := map[string]bool{}
	for i, m := range v.c.Models {
		p := field.NewPath("models").Index(i)
		id := p.Child("id")
		if !v.required(id, m.ID == "", "the Bedrock model id, e.g. anthropic.claude-3-haiku-20240307-v1:0") {
			continue
		}
		if seen[m.ID] {
			v.err(id, KindDuplicate, "remove the duplicate entry", "model %q is listed twice", m.ID)
		}
		seen[m.ID] = true
		if strings.HasPrefix(m.ID, "arn:") || strings.ContainsAny(m.ID, "*? /") {
			v.err(id, KindInvalid, "use the bare model id, e.g. anthropic.claude-3-haiku-20240307-v1:0", "%q is not a model id", m.ID)
		}
		if m.Provider != "" {
			v.field(p.Child("provider"), m.Provider, false)
		} else if m.InferenceProfile == nil {
			v.err(p.Child("provider"), KindRequired, "add `provider: <Name>`, e.g. Anthropic; it names the model's policy", "a foundation model needs a provider")
		}
		for j, d := range m.EmbeddingDimensions {
			if d < 1 || d > 4096 {
				v.err(p.Child("embeddingDimensions").Index(j), KindRange, "use a dimension from 1 to 4096 (S3 Vectors' range)", "%d is not a valid embedding dimension", d)
			}
		}
	}
	v.c.Catalog = catalog.New(v.c.Models)
	v.mergedCatalog()
	for i, m := range v.c.Models {
		if m.InferenceProfile == nil {
			continue
		}
		p := field.NewPath("models").Index(i).Child("inferenceProfile")
		base, ok := v.c.Catalog.Lookup(m.InferenceProfile.Model)
		switch {
		case m.InferenceProfile.Model == "":
			v.err(p.Child("model"), KindRequired, "name the foundation model the profile routes to", "required field is missing")
		case !ok:
			v.err(p.Child("model"), KindReference, v.modelFix(m.InferenceProfile.Model), "unknown foundation model %q", m.InferenceProfile.Model)
		case base.InferenceProfile != nil:
			v.err(p.Child("model"), KindInvalid, "name the profile's foundation model, not another profile", "%q is itself an inference profile", m.InferenceProfile.Model)
		}
		if v.required(p.Child("regions"), len(m.InferenceProfile.Regions) == 0, "the profile's destination regions") {
			for j, r := range m.InferenceProfile.Regions {
				v.region(p.Child("regions").Index(j), r, true)
			}
		}
	}
}

// mergedCatalog checks what the config's entries do to the embedded ones: a
// built-in profile must still route to a foundation model with a provider,
// and provider names must not differ only in case (IAM names ignore case).
func (v *validator) mergedCatalog() {
	where := map[string]*field.Path{}
	for i, m := range v.c.Models {
		where[m.ID] = field.NewPath("models").Index(i)
	}
	for _, id := range v.c.Catalog.IDs() {
		m, _ := v.c.Catalog.Lookup(id)
		if p := m.InferenceProfile; p != nil && where[id] == nil {
			if base, ok := v.c.Catalog.Lookup(p.Model); ok && where[p.Model] != nil && (base.InferenceProfile != nil || base.Provider == "") {
				v.err(where[p.Model].Child("id"), KindInvalid, "keep it a foundation model with a provider, or also override "+id, "%s is the model of the built-in inference profile %s", p.Model, id)
			}
		}
	}
	// Built-in spellings first, then the config's entries in file order.
	providers := map[string]string{}
	for _, id := range v.c.Catalog.IDs() {
		if m, _ := v.c.Catalog.Lookup(id); where[id] == nil && m.Provider != "" {
			providers[strings.ToLower(m.Provider)] = m.Provider
		}
	}
	for i, m := range v.c.Models {
		if m.Provider == "" {
			continue
		}
		if prev, ok := providers[strings.ToLower(m.Provider)]; ok && prev != m.Provider {
			v.err(field.NewPath("models").Index(i).Child("provider"), KindInvalid, fmt.Sprintf("spell it %q", prev), "provider %q differs from %q only in case; IAM policy names ignore case", m.Provider, prev)
			continue
		}
		providers[strings.ToLower(m.Provider)] = m.Provider
	}
}

func (v *validator) modelFix(id string) string {
	return DidYouMean(id, v.c.Catalog.IDs(), "use an id from the catalog (catalog/catalog.yaml), or add the model under `models:` with its provider")
}

func (v *validator) modelAccounts() {
	root := field.NewPath("modelAccounts")
	if len(v.c.ModelAccounts) == 0 && !v.r.Has(root) {
		v.err(root, KindRequired, "add at least one account: {name: SharedModelsA, account: \"222222222222\", regions: [us-east-1]}", "no shared model accounts")
	}
	names, ids := map[string]string{}, map[string]string{}
	for i, a := range v.c.ModelAccounts {
		p := root.Index(i)
		name := p.Child("name")
		if v.field(name, a.Name, true) {
			if prev, dup := names[strings.ToLower(a.Name)]; dup {
				v.err(name, KindDuplicate, "give each account a unique name", "account name %q is already used by %s (names are compared ignoring case)", a.Name, prev)
			}
			names[strings.ToLower(a.Name)] = p.String()
		}
		// Stack names: 128 letters, digits and hyphens, with room for a shard suffix.
		if n := len(v.c.Org) + len(v.c.Layer) + len(a.Name) + 2 + 3; n > 128 {
			v.err(name, KindLimit, fmt.Sprintf("shorten the account name by at least %d characters", n-128), "stack name %s-%s-%s would be over CloudFormation's 128 characters", v.c.Org, v.c.Layer, a.Name)
		}
		acct := p.Child("account")
		v.account(acct, a.Account)
		if prev, dup := ids[a.Account]; dup && a.Account != "" {
			v.err(acct, KindDuplicate, "list each account once; put all its regions in one entry", "account %s is already listed as %s", a.Account, prev)
		}
		ids[a.Account] = p.String()
		partitions := map[string]bool{}
		regions := p.Child("regions")
		if v.required(regions, len(a.Regions) == 0, "the regions Bedrock is called in, e.g. [us-east-1]") {
			seen := map[string]bool{}
			for j, r := range a.Regions {
				rp := regions.Index(j)
				if seen[r] {
					v.err(rp, KindDuplicate, "remove the duplicate", "region %s is listed twice", r)
				}
				seen[r] = true
				if v.region(rp, r, true) {
					pt, _ := catalog.Partition(r)
					partitions[pt] = true
				}
			}
		}
		if len(partitions) > 1 {
			v.err(regions, KindInvalid, "an account lives in one partition; split the regions across accounts", "regions span partitions %s", strings.Join(slices.Sorted(maps.Keys(partitions)), " and "))
		}
		deploy := p.Child("deployRegion")
		if v.region(deploy, a.DeployRegion, false) && len(partitions) == 1 {
			if pt, _ := catalog.Partition(a.DeployRegion); !partitions[pt] {
				v.err(deploy, KindInvalid, "use a region of the account's partition", "%s is in partition %s, the account's regions are not", a.DeployRegion, pt)
			}
		}
		if a.OidcProviderArn != "" && v.c.IdentityProvider.IssuerURL != "" && a.Account != "" && len(a.Regions) > 0 && len(partitions) == 1 {
			if want := v.c.OIDCProviderArn(a); a.OidcProviderArn != want {
				v.err(p.Child("oidcProviderArn"), KindInvalid, fmt.Sprintf("use %q: the provider for this issuer in this account (or remove the field to create it)", want), "%q is not the OIDC provider of issuer %s in account %s", a.OidcProviderArn, v.c.IdentityProvider.IssuerURL, a.Account)
			}
		}
	}
}

// roleName claims a role subject name, checking case-insensitive uniqueness
// and the role name length.
func (v *validator) roleName(path *field.Path, name string) {
	if !v.field(path, name, true) {
		return
	}
	if prev, dup := v.roleOwners[strings.ToLower(name)]; dup {
		v.err(path, KindDuplicate, "rename one of them: IAM role names are unique ignoring case", "%q collides with the name at %s", name, prev)
	}
	v.roleOwners[strings.ToLower(name)] = path.String()
	if !naming.ValidField(v.c.Org) || !naming.ValidField(v.c.Layer) || (v.c.Capability != "" && !naming.ValidField(v.c.Capability)) {
		return
	}
	err := naming.Role{Org: v.c.Org, Layer: v.c.Layer, Subject: name, Capability: v.c.CapabilityName()}.Validate()
	var le *naming.LengthError
	if errors.As(err, &le) {
		v.err(path, KindLimit, fmt.Sprintf("shorten %q by at least %d characters", name, le.Over()), "%s: %s", name, err)
	}
}

// tags checks the estate's tags as IAM and CloudFormation will: the
// characters and lengths TagResource accepts, and no reserved prefix.
func (v *validator) tags() {
	for _, k := range slices.Sorted(maps.Keys(v.c.Tags)) {
		val, p := v.c.Tags[k], field.NewPath("tags").Key(k)
		switch {
		case k == "":
			v.err(p, KindInvalid, "give the tag a key", "empty tag key")
		case strings.HasPrefix(strings.ToLower(k), "aws:") || strings.HasPrefix(k, "genai:"):
			v.err(p, KindInvalid, "choose another key: aws: is reserved by AWS and genai: by this toolkit", "tag key %q uses a reserved prefix", k)
		case len([]rune(k)) > maxTagKey:
			v.err(p, KindLimit, fmt.Sprintf("keep keys to %d characters", maxTagKey), "tag key of %d characters is over the limit of %d", len([]rune(k)), maxTagKey)
		case len([]rune(val)) > maxTagValue:
			v.err(p, KindLimit, fmt.Sprintf("keep values to %d characters", maxTagValue), "tag %q has a value of %d characters, over the limit of %d", k, len([]rune(val)), maxTagValue)
		case !tagRE.MatchString(k):
			v.err(p, KindPattern, "use letters, digits, spaces and _ . : / = + - @ only", "tag key %q has characters AWS tags do not allow", k)
		case !tagRE.MatchString(val):
			v.err(p, KindPattern, "use letters, digits, spaces and _ . : / = + - @ only", "the value of tag %q has characters AWS tags do not allow: %q", k, val)
		}
	}
}

func (v *validator) description(path *field.Path, d string) {
	if len(d) > 1000 || !descriptionRE.MatchString(d) {
		v.err(path, KindInvalid, "use at most 1000 characters of Latin-1 text", "IAM does not accept this role description (%d characters)", len(d))
	}
}

// roleHolder checks what use cases, groups and vendors share: the role name,
// its description, the policy layout and the access list.
func (v *validator) roleHolder(p *field.Path, name, desc, layout string, access []Access, accessRequired bool) {
	v.roleName(p.Child("name"), name)
	v.description(p.Child("description"), desc)
	v.layout(p.Child("policyLayout"), layout)
	if !accessRequired || v.required(p.Child("access"), len(access) == 0, "the models this role may call, e.g. [{account: SharedModelsA, models: [...]}]") {
		v.access(p.Child("access"), access)
	}
}

func (v *validator) layout(path *field.Path, l string) {
	if l != "" && l != PerProvider && l != MultiModel {
		v.err(path, KindEnum, DidYouMean(l, []string{PerProvider, MultiModel}, "use perProvider or multiModel"), "unknown policy layout %q", l)
	}
}

func (v *validator) useCases() {
	owners := map[string]string{}
	root := field.NewPath("useCases")
	for i, u := range v.c.UseCases {
		p := root.Index(i)
		v.roleHolder(p, u.Name, u.Description, u.PolicyLayout, u.Access, false)
		if v.required(p.Child("subjects"), len(u.Subjects) == 0, "the token sub values of this use case, e.g. [usecase-a]") {
			v.claims(p.Child("subjects"), u.Subjects, owners, fmt.Sprintf("use case %s (%s)", u.Name, p))
		}
	}
	if len(v.c.UseCases) == 0 && !v.r.Has(root) {
		v.err(root, KindRequired, "add a use case: {name: UseCaseA, subjects: [usecase-a], access: [...]}", "no use cases")
	}
}

// groups checks the domain roles. A member that names no use case gets no
// "did you mean": use cases are principals, and a near miss would grant
// the wrong one. When the use cases themselves are broken (a misspelled
// useCases key, say), members are not checked at all: that one error
// explains them.
func (v *validator) groups() {
	var names []string
	defined := map[string]bool{}
	for _, u := range v.c.UseCases {
		names = append(names, u.Name)
		defined[u.Name] = true
	}
	useCasesBroken := v.r.Has(field.NewPath("useCases"))
	for i, g := range v.c.Groups {
		p := field.NewPath("groups").Index(i)
		v.roleHolder(p, g.Name, g.Description, g.PolicyLayout, g.Access, true)
		members := p.Child("members")
		if !v.required(members, len(g.Members) == 0, "the use cases sharing this role, e.g. [UseCaseB, UseCaseC]") {
			continue
		}
		seen := map[string]bool{}
		for j, m := range g.Members {
			mp := members.Index(j)
			switch {
			case seen[m]:
				v.err(mp, KindDuplicate, "remove the duplicate", "%q is listed twice", m)
			case useCasesBroken:
			case !defined[m]:
				v.err(mp, KindReference, "name a use case defined under useCases (names are exact: no close match is suggested, as that would grant another use case): "+listSome(names, 10), "unknown use case %q", m)
			}
			seen[m] = true
		}
	}
}

// listSome lists up to n names, and says how many more there are.
func listSome(names []string, n int) string {
	if len(names) == 0 {
		return "none is defined"
	}
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:n], ", "), len(names)-n)
}

func (v *validator) vendors() {
	ids := map[string]string{}
	for i, vd := range v.c.Vendors {
		p := field.NewPath("vendors").Index(i)
		v.roleHolder(p, vd.Name, vd.Description, vd.PolicyLayout, vd.Access, true)
		principal := p.Child("principal")
		if v.required(principal, vd.Principal == "", "the vendor's account id, e.g. \"999999999999\", or its role ARN") {
			switch m := principalRE.FindStringSubmatch(vd.Principal); {
			case accountRE.MatchString(vd.Principal):
				v.account(principal, vd.Principal)
				v.rootPrincipal(principal, vd.Principal)
			case m == nil:
				v.err(principal, KindPattern, "use a quoted 12-digit account id or arn:aws:iam::<account>:role/<name>; never a wildcard", "%q is not an account id or IAM role ARN", vd.Principal)
			case m[3] == "root":
				v.rootPrincipal(principal, m[2])
			}
		}
		ext := p.Child("externalId")
		if v.required(ext, vd.ExternalID == "", "the external id agreed with the vendor") {
			if n := len(vd.ExternalID); n < 2 || n > 1224 || !externalIDRE.MatchString(vd.ExternalID) {
				v.err(ext, KindPattern, "use 2 to 1224 characters of letters, digits and +=,.@:/-_", "external id is not valid for sts:ExternalId (%d characters)", len(vd.ExternalID))
			} else if prev, dup := ids[vd.ExternalID]; dup {
				v.err(ext, KindDuplicate, "give every vendor its own external id: a shared one defeats its purpose", "external id is already used by %s", prev)
			}
			ids[vd.ExternalID] = "vendor " + vd.Name
		}
	}
}

// rootPrincipal warns that trusting a whole account lets any of its
// principals with sts:AssumeRole permission assume the vendor's role.
func (v *validator) rootPrincipal(p *field.Path, account string) {
	v.r.Warn(p, KindSecurity, "name the vendor's role instead: arn:aws:iam::"+account+":role/<name> (ask the vendor for it)",
		"the whole account %s is trusted: any principal in it that may call sts:AssumeRole can assume this role", account)
}

// The roots that access entries refer into, built once rather than per role.
var modelAccountsPath, modelsPath = field.NewPath("modelAccounts"), field.NewPath("models")

func (v *validator) access(path *field.Path, list []Access) {
	accounts := v.accountNames()
	// A broken modelAccounts or models key explains every reference into it.
	accountsBroken, modelsBroken := v.r.Has(modelAccountsPath), v.r.HasUnder(modelsPath)
	for i, a := range list {
		p := path.Index(i)
		acct, ok := v.c.Account(a.Account)
		switch {
		case a.Account == "":
			v.err(p.Child("account"), KindRequired, "name one of the modelAccounts: "+strings.Join(accounts, ", "), "required field is missing")
		case !ok && !accountsBroken:
			// Accounts are places, not principals: a suggestion grants no one else.
			v.err(p.Child("account"), KindReference, DidYouMean(a.Account, accounts, "name one of the modelAccounts: "+strings.Join(accounts, ", ")), "unknown model account %q", a.Account)
		}
		regions := a.Regions
		for j, r := range a.Regions {
			rp := p.Child("regions").Index(j)
			if v.region(rp, r, true) && ok && !slices.Contains(acct.Regions, r) {
				v.err(rp, KindInvalid, fmt.Sprintf("add %s to account %s's regions, or use one of %s", r, acct.Name, strings.Join(acct.Regions, ", ")), "account %s does not list region %s", acct.Name, r)
			}
		}
		if len(regions) == 0 {
			regions = acct.Regions
		}
		models := p.Child("models")
		if !v.required(models, len(a.Models) == 0, "the model ids to grant, e.g. [anthropic.claude-3-haiku-20240307-v1:0]") {
			continue
		}
		seen := map[string]bool{}
		for j, id := range a.Models {
			mp := models.Index(j)
			m, known := v.c.Catalog.Lookup(id)
			switch {
			case seen[id]:
				v.err(mp, KindDuplicate, "remove the duplicate", "model %q is listed twice", id)
			case strings.ContainsAny(id, "*?"):
				v.err(mp, KindInvalid, "list each model id explicitly: wildcards grant models nobody reviewed", "wildcard %q in a model grant", id)
			case !known && !modelsBroken:
				v.err(mp, KindReference, v.modelFix(id), "unknown model %q", id)
			case known && m.InferenceProfile != nil:
				for _, r := range regions {
					if !slices.Contains(m.InferenceProfile.Regions, r) {
						v.err(mp, KindInvalid, fmt.Sprintf("limit this entry with `regions:` to some of %s, or use a profile for %s", strings.Join(m.InferenceProfile.Regions, ", "), r), "inference profile %q cannot be called from %s", id, r)
						break
					}
				}
			}
			seen[id] = true
		}
	}
}

// accountNames lists the model accounts' names, once per run.
func (v *validator) accountNames() []string {
	if v.accounts == nil {
		v.accounts = []string{}
		for _, a := range v.c.ModelAccounts {
			v.accounts = append(v.accounts, a.Name)
		}
	}
	return v.accounts
}

// deployRegions rejects ARNs that CloudFormation would reject at deploy time
// because they live in another region than the stack that uses them.
func (v *validator) deployRegions() {
	if g := v.c.Central.Gateway; g != nil && g.CertificateArn != "" && v.c.Central.Region != "" {
		v.sameRegion(field.NewPath("central", "gateway", "certificateArn"), g.CertificateArn, v.c.Central.Region, field.NewPath("central", "region"), "an ALB listener takes ACM certificates of its own region only; request or import the certificate in "+v.c.Central.Region)
	}
	if r := v.c.RAG; r != nil && r.Image.Repository != "" && r.Region != "" {
		v.sameRegion(field.NewPath("rag", "image", "repository"), r.Image.Repository, r.Region, field.NewPath("rag", "region"), "a Lambda function runs images from an ECR repository of its own region only; replicate the repository to "+r.Region)
	}
}

func (v *validator) sameRegion(p *field.Path, arn, region string, regionPath *field.Path, fix string) {
	m := arnRegionRE.FindStringSubmatch(arn)
	if m == nil || m[1] == region || v.r.Has(p) || v.r.Has(regionPath) {
		return
	}
	v.err(p, KindInvalid, fix, "the ARN is in region %s, the stack in %s (%s)", m[1], region, regionPath)
}

// warnings reports what the config allows but weakens the estate; synth
// flags the same, and estatectl validate shows them before any synth.
func (v *validator) warnings() {
	g := v.c.Central.Gateway
	if g == nil {
		return
	}
	p := field.NewPath("central", "gateway")
	if g.AllowPlainHTTP {
		v.r.Warn(p.Child("allowPlainHttp"), KindSecurity, "remove allowPlainHttp: HTTP then only redirects to HTTPS", "the gateway also serves plain HTTP: tokens and prompts cross the network unencrypted")
	}
	if !g.InternetFacing {
		return
	}
	if len(g.IngressCidrs) == 0 {
		v.r.Warn(p.Child("internetFacing"), KindSecurity, "list the networks that may call the gateway in ingressCidrs", "the internet-facing load balancer admits the whole internet (ingressCidrs defaults to 0.0.0.0/0)")
	}
	for i, c := range g.IngressCidrs {
		if _, n, err := net.ParseCIDR(c); err == nil {
			if ones, _ := n.Mask.Size(); ones == 0 {
				v.r.Warn(p.Child("ingressCidrs").Index(i), KindSecurity, "list the networks that may call the gateway instead of "+c, "the internet-facing load balancer admits the whole internet (%s)", c)
			}
		}
	}
}
