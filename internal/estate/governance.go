package estate

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/acme/genai-estate/config"
	fieldpath "github.com/acme/genai-estate/config/field"
	"github.com/acme/genai-estate/internal/arn"
	"github.com/acme/genai-estate/internal/iampolicy"
	"github.com/acme/genai-estate/internal/naming"
)

// Bedrock's "Inference profiles per account" quota (1,000 in each region by
// default, adjustable, L-40EC9882 in the AWS General Reference) is
// config.Limits.InferenceProfilesPerRegion.
const (
	// appProfileIDLen is the length of the generated id in a profile's ARN.
	// Placeholders have the same length, so policy sizes are exact.
	appProfileIDLen = 12
)

// ProfileSet is what one model account holds in one region when grants go
// through application inference profiles: the profiles, and per role the
// managed policies granting invoke through them and a parameter publishing
// their ARNs. Bedrock resources are regional and a CloudFormation stack
// creates resources only in its own region, so each set is its own stack;
// a policy must name its profiles' generated ARNs, so it lives beside them.
//
// The same stack holds the account's governance settings of that region,
// which Bedrock also keeps per account and region: invocation logging and
// the enforced guardrail. With those, a set exists in a region even without
// profiles (costAttribution: direct).
type ProfileSet struct {
	Region   string
	Stack    string
	Profiles []*AppProfile // sorted by name
	Roles    []*ProfileRole
	// Logging is the estate's invocation logging, nil when off; LogGroup
	// names its log group, ConfiguratorRole its custom resource's role.
	Logging                    *config.Logging
	LogGroup, ConfiguratorRole string
	// Enforced is the account's enforced guardrail in this region, if any.
	// Bedrock applies it to every call, and callers are to hold
	// bedrock:ApplyGuardrail on it: EnforcedPolicy lets each role granted
	// in the region apply it (EnforcedRoles, sorted).
	Enforced       *config.EnforcedGuardrail
	EnforcedPolicy *Policy
	EnforcedRoles  []*Role
}

// Invocation logging names, the same in every account and region (one
// logging configuration per account and region).
const (
	// InvocationLogPrefix is the key prefix of the log objects in the bucket.
	InvocationLogPrefix = "invocation-logs"
	// InvocationLogStream is the stream Bedrock writes to (AWS documents
	// the role's permission on exactly this stream).
	InvocationLogStream = "aws/bedrock/modelinvocations"
)

// LoggingActions are the calls the logging custom resource makes (create
// and update, delete). They act on the account's one logging configuration
// in a region and support no resource types, so IAM takes only "*" as
// their resource (Service Authorization Reference).
var LoggingActions = []string{"bedrock:PutModelInvocationLoggingConfiguration", "bedrock:DeleteModelInvocationLoggingConfiguration"}

// LoggingConfiguratorRole names the role of the custom resource that sets
// the logging configuration in a region (IAM is global, so the region is in
// the name). It is named so that the organization policy pack can let it,
// besides the deployment roles, change the configuration.
func LoggingConfiguratorRole(c *config.Config, region string) string {
	return LoggingConfiguratorPrefix(c) + regionField(region)
}

// LoggingConfiguratorPrefix is the start of every LoggingConfiguratorRole.
func LoggingConfiguratorPrefix(c *config.Config) string {
	return c.Org + "-" + c.Layer + "-InvocationLogging-"
}

// InvocationLogGroup is the log group of the model invocation logs.
func InvocationLogGroup(c *config.Config) string {
	return "/" + c.Org + "/" + c.Layer + "/bedrock/model-invocations"
}

// ProfileRole is one role's share of a ProfileSet.
type ProfileRole struct {
	Role     *Role
	Policies []*Policy
	// Parameter is the SSM parameter (in the set's account and region) whose
	// value maps each granted model id to its profile's ARN, as JSON.
	Parameter      string
	ParameterValue string // with placeholder ARNs
	Advanced       bool
	Profiles       []*AppProfile
}

// AppProfile is one application inference profile: one role's grant of one
// model in one region.
type AppProfile struct {
	Name   naming.AppProfile
	Region string
	Role   *Role
	Model  string // the granted model or system profile id
	Source string // ARN of the model or system profile it copies
	// Placeholder stands for the profile's ARN, unknown before deploy, in
	// policy documents and the parameter value; the construct replaces it
	// with the profile's InferenceProfileArn attribute.
	Placeholder string
	unit        unit
}

// Guard is what a role's invoke statements must also satisfy.
type Guard struct {
	// GuardrailArn is the guardrail's ARN; GuardrailID carries its version
	// (ARN:version), the value of bedrock:GuardrailIdentifier.
	GuardrailArn, GuardrailID string
	// ProfileArns are the guardrail's profile in each destination region,
	// where AWS requires bedrock:ApplyGuardrail too; none without a profile.
	ProfileArns []string
	Guardrail   *config.Guardrail
	Perimeter   *config.Perimeter
}

// ProfileStack names the stack of an account's profiles in one region.
func (a *Account) ProfileStack(org, layer, region string) string {
	return fmt.Sprintf("%s-%s-%s-Profiles-%s", org, layer, a.Name, region)
}

// ProfileParameterPath is the SSM path, in every model account and region,
// of the parameters that publish each role's profile ARNs to the gateway.
func ProfileParameterPath(c *config.Config) string { return "/" + c.Org + "/GenAIGateway/profiles" }

// GuardrailArn is the ARN of a guardrail in a model account and region.
func GuardrailArn(partition, region, account, id string) string {
	return arn.Bedrock(partition, region, account, "guardrail", id)
}

// guard is the role's guardrail and the estate's perimeter, nil when neither applies.
func guard(c *config.Config, a *Account, r *Role, g *config.Guardrail) *Guard {
	if g == nil && c.Perimeter == nil {
		return nil
	}
	out := &Guard{Perimeter: c.Perimeter, Guardrail: g}
	if g != nil {
		// Validation guarantees the role is granted in one region.
		for region := range r.Grants {
			out.GuardrailArn = GuardrailArn(a.Partition, region, a.Account, g.ID)
			for _, dest := range g.GuardrailProfileRegions(region) {
				out.ProfileArns = append(out.ProfileArns, arn.GuardrailProfile(a.Partition, dest, a.Account, g.Profile))
			}
		}
		slices.Sort(out.ProfileArns)
		out.GuardrailID = out.GuardrailArn + ":" + g.Version
	}
	return out
}

// roleGuardrail is the guardrail that applies to a planned role.
func roleGuardrail(c *config.Config, kind, name string) *config.Guardrail {
	switch kind {
	case "useCase":
		u, _ := c.UseCase(name)
		return c.UseCaseGuardrail(u)
	case "group":
		for _, g := range c.Groups {
			if g.Name == name {
				return c.GroupGuardrail(g)
			}
		}
	}
	return c.Guardrail
}

// placeholder is an application profile ARN of the real length whose id
// cannot be a real one (ids are lower-case). It derives from the profile's
// name alone, so adding or removing another profile changes no document.
func placeholder(a *Account, region string, name naming.AppProfile) string {
	h := sha256.Sum256([]byte(name.String()))
	return ModelArn(a.Partition, region, a.Account, ApplicationProfile, "P"+strings.ToUpper(hex.EncodeToString(h[:]))[:appProfileIDLen-1])
}

// profiles plans an account's application inference profiles, their
// policies and parameters, and checks their limits.
func profiles(c *config.Config, rep *config.Reporter, path *fieldpath.Path, a *Account, lim config.Limits) {
	sets := map[string]*ProfileSet{}
	set := func(region string) *ProfileSet {
		if sets[region] == nil {
			sets[region] = &ProfileSet{Region: region, Stack: a.ProfileStack(c.Org, c.Layer, region)}
		}
		return sets[region]
	}
	// Logging in every region a role is granted in; an enforced guardrail
	// where the config puts it.
	for _, r := range a.Roles {
		for region := range r.Grants {
			if c.Logging != nil {
				set(region).Logging, set(region).LogGroup = c.Logging, InvocationLogGroup(c)
				set(region).ConfiguratorRole = LoggingConfiguratorRole(c, region)
			}
		}
	}
	for i := range a.EnforcedGuardrails {
		set(a.EnforcedGuardrails[i].Region).Enforced = &a.EnforcedGuardrails[i]
	}
	extra := map[*Role]int{} // managed policies each role gains
	for _, r := range a.Roles {
		if c.Attribution() == config.CostDirect {
			break
		}
		for _, region := range slices.Sorted(maps.Keys(r.Grants)) {
			set := set(region)
			pr := &ProfileRole{Role: r, Parameter: ProfileParameterPath(c) + "/" + r.Name.Subject}
			arns := map[string]string{}
			var units []unit
			for _, id := range r.Grants[region] {
				m, _ := c.Catalog.Lookup(id)
				provider := m.Provider
				if m.InferenceProfile != nil {
					base, _ := c.Catalog.Lookup(m.InferenceProfile.Model)
					provider = base.Provider
				}
				u := grantUnit(a, region, id, m.InferenceProfile != nil, c)
				p := &AppProfile{Name: naming.NewAppProfile(c.Org, c.Layer, r.Name.Subject, provider, id), Region: region, Role: r, Model: id}
				p.Source = u.model
				if u.profile != "" {
					p.Source = u.arns[0]
				}
				p.Placeholder = placeholder(a, region, p.Name)
				u.app = p.Placeholder
				p.unit = u
				var le *naming.LengthError
				if err := p.Name.Validate(); errors.As(err, &le) {
					rep.AddAt(r.Path.Child("name"), config.KindLimit, fmt.Sprintf("shorten %q by at least %d characters", r.Name.Subject, le.Over()), "%s: %s", r.Name.Subject, err)
				} else if err != nil {
					rep.AddAt(r.Path.Child("access"), config.KindInvalid, "give the model's catalog entry a provider of letters and digits", "%s: %s", r.Name.Subject, err)
				}
				set.Profiles = append(set.Profiles, p)
				pr.Profiles = append(pr.Profiles, p)
				arns[id] = p.Placeholder
				units = append(units, u)
			}
			b, _ := json.Marshal(arns)
			pr.ParameterValue = string(b)
			pr.Advanced = len(b) > MaxStandardParameter
			if len(b) > MaxAdvancedParameter {
				rep.AddAt(r.Path.Child("access"), config.KindLimit, "grant fewer models in this region, or use costAttribution: direct", "the profile ARNs of %s in %s %s are %d bytes, over SSM's advanced-parameter limit of %d", r.Name.Subject, a.Name, region, len(b), MaxAdvancedParameter)
			}
			g := guard(c, a, r, roleGuardrail(c, r.Kind, r.Name.Subject))
			paramArn := arn.Regional(a.Partition, "ssm", region, a.Account, "parameter"+pr.Parameter)
			docOf := func(us []unit) iampolicy.Document {
				d := document(us, g)
				d.Statement = append(d.Statement, iampolicy.Statement{Sid: "ReadProfileArns", Effect: "Allow", Action: []string{"ssm:GetParameter"}, Resource: []string{paramArn}})
				return d
			}
			part := 0
			for len(units) > 0 {
				n, doc := fit(units, docOf)
				if n == 0 {
					rep.AddAt(r.Path.Child("access"), config.KindLimit, "grant this inference profile from fewer regions", "the grant of %s alone is over IAM's managed policy size of %d characters", units[0].profile, MaxManagedPolicyChars)
					break
				}
				part++
				name := naming.Policy{Org: c.Org, Layer: c.Layer, Subject: r.Name.Subject, Provider: regionField(region), PermissionType: "ProfileInvoke"}
				if part > 1 {
					name.Part = part
				}
				var le *naming.LengthError
				if err := name.Validate(); errors.As(err, &le) {
					rep.AddAt(r.Path.Child("name"), config.KindLimit, fmt.Sprintf("shorten %q by at least %d characters", r.Name.Subject, le.Over()), "%s: %s", r.Name.Subject, err)
				}
				pr.Policies = append(pr.Policies, &Policy{Name: name, Document: doc.Document, shape: doc.shape})
				units = units[n:]
			}
			extra[r] += len(pr.Policies)
			set.Roles = append(set.Roles, pr)
		}
	}
	for _, set := range sets {
		g := set.Enforced
		if g == nil {
			continue
		}
		for _, r := range a.Roles {
			if len(r.Grants[set.Region]) > 0 {
				set.EnforcedRoles = append(set.EnforcedRoles, r)
				extra[r]++
			}
		}
		if len(set.EnforcedRoles) > 0 {
			doc := iampolicy.New(iampolicy.Statement{Sid: "ApplyEnforcedGuardrail", Effect: "Allow", Action: []string{"bedrock:ApplyGuardrail"},
				Resource: []string{GuardrailArn(a.Partition, set.Region, a.Account, g.ID)}})
			set.EnforcedPolicy = &Policy{Name: naming.Policy{Org: c.Org, Layer: c.Layer, Subject: "EnforcedGuardrail", Provider: regionField(set.Region), PermissionType: "Apply"}, Document: doc}
		}
	}
	for _, r := range a.Roles {
		if n := len(r.Policies) + extra[r]; n > lim.ManagedPoliciesPerRole && len(r.Policies) <= lim.ManagedPoliciesPerRole {
			rep.AddAt(r.Path.Child("name"), config.KindLimit, "raise the quota (up to 25) and set limits.managedPoliciesPerRole, grant fewer regions, or use costAttribution: direct", "%s in account %s needs %d managed policies with its application profiles' policies, %d over the quota of %d per role", r.Name, a.Name, n, n-lim.ManagedPoliciesPerRole, lim.ManagedPoliciesPerRole)
		}
	}
	logging := fieldpath.NewPath("logging")
	for _, region := range slices.Sorted(maps.Keys(sets)) {
		set := sets[region]
		// One root cause (org and layer) for every account and region: reported once.
		if n := len(set.ConfiguratorRole); n > naming.MaxRoleName && !rep.Has(logging) {
			rep.AddAt(logging, config.KindLimit, fmt.Sprintf("shorten org or layer by %d characters", n-naming.MaxRoleName), "the logging custom resource's role %s in account %s is %d characters, over IAM's limit of %d", set.ConfiguratorRole, a.Name, n, naming.MaxRoleName)
		}
		if p := set.EnforcedPolicy; p != nil {
			if err := p.Name.Validate(); err != nil {
				rep.AddAt(path.Child("enforcedGuardrails"), config.KindLimit, "shorten org or layer", "%s", err)
			}
		}
		slices.SortFunc(set.Profiles, func(x, y *AppProfile) int { return strings.Compare(x.Name.String(), y.Name.String()) })
		if n := len(set.Profiles); n > lim.InferenceProfilesPerRegion {
			rep.AddAt(path.Child("name"), config.KindLimit, "raise the quota in Service Quotas and set limits.inferenceProfilesPerRegion, move use cases to another account, or use costAttribution: direct", "account %s needs %d application inference profiles in %s, %d over its quota of %d inference profiles per account and region", a.Name, n, region, n-lim.InferenceProfilesPerRegion, lim.InferenceProfilesPerRegion)
		}
		if n := set.Resources(); n > MaxStackResources {
			rep.AddAt(path.Child("name"), config.KindLimit, "grant fewer models per region in this account, move use cases to another account, or use costAttribution: direct", "stack %s would hold %d resources, over CloudFormation's %d per stack", set.Stack, n, MaxStackResources)
		}
		a.Profiles = append(a.Profiles, set)
	}
}

// Resources counts the set's CloudFormation resources: profiles, policies,
// parameters, the logging and enforced-guardrail resources and CDK's
// metadata resource.
func (s *ProfileSet) Resources() int {
	n := len(s.Profiles) + 1
	for _, r := range s.Roles {
		n += len(r.Policies) + 1
	}
	if l := s.Logging; l != nil {
		n += LoggingResources(l)
	}
	if s.Enforced != nil {
		n++
	}
	if s.EnforcedPolicy != nil {
		n++
	}
	return n
}

// LoggingResources is how many resources invocation logging adds to a
// stack (constructs/governance builds them; its test holds the two equal):
// the KMS key, the custom resource with its policy and the Lambda function,
// role and log group behind it; for CloudWatch the log group and Bedrock's
// role; for S3 the bucket, its access-log bucket and their two policies.
func LoggingResources(l *config.Logging) int {
	n := 6
	if l.CloudWatch != nil {
		n += 2
	}
	if l.S3 != nil {
		n += 4
	}
	return n
}

// RoleResources is how many resources a role adds to its main stack: the
// role and its managed policies (its profiles live in the profile stacks).
func RoleResources(r *Role) int { return 1 + len(r.Policies) }

// regionField turns us-east-1 into UsEast1, a name field.
func regionField(region string) string {
	var b strings.Builder
	for _, p := range strings.Split(region, "-") {
		if p != "" {
			b.WriteString(strings.ToUpper(p[:1]) + p[1:])
		}
	}
	return b.String()
}

// guardStatements are the statements that make the invoke grants of one
// document conditional on the guardrail and the perimeter. Both are explicit
// Denies on exactly the resources the document lets the role call directly
// (models, system profiles, application profiles): the routed calls a
// profile makes are allowed only under bedrock:InferenceProfileArn, so they
// cannot be reached without passing these.
func guardStatements(g *Guard, direct []string) []iampolicy.Statement {
	if g == nil || len(direct) == 0 {
		return nil
	}
	var out []iampolicy.Statement
	if g.GuardrailID != "" {
		// StringNotEquals also matches when the key is absent: calls without a guardrail.
		out = append(out,
			iampolicy.Statement{Sid: "DenyWithoutGuardrail", Effect: "Deny", Action: InvokeActions, Resource: direct,
				Condition: map[string]map[string][]string{"StringNotEquals": {"bedrock:GuardrailIdentifier": {g.GuardrailID}}}},
			iampolicy.Statement{Sid: "ApplyGuardrail", Effect: "Allow", Action: []string{"bedrock:ApplyGuardrail"}, Resource: append([]string{g.GuardrailArn}, g.ProfileArns...)})
	}
	if p := g.Perimeter; p != nil {
		// One Deny whose conditions are all negated: it matches only a call
		// that comes through none of the listed endpoints, VPCs or addresses,
		// which makes the listed origins alternatives (an OR), as separate
		// Allow statements would. Absent keys match the negated operators, so
		// a call without a VPC endpoint must match sourceIps. Calls an AWS
		// service makes on the role's behalf come from AWS's network.
		cond := map[string]map[string][]string{"BoolIfExists": {"aws:ViaAWSService": {"false"}}}
		if len(p.SourceVpcEndpoints) > 0 {
			cond["StringNotEquals"] = map[string][]string{"aws:SourceVpce": slices.Sorted(slices.Values(p.SourceVpcEndpoints))}
		}
		if len(p.SourceVpcs) > 0 {
			if cond["StringNotEquals"] == nil {
				cond["StringNotEquals"] = map[string][]string{}
			}
			cond["StringNotEquals"]["aws:SourceVpc"] = slices.Sorted(slices.Values(p.SourceVpcs))
		}
		if len(p.SourceIps) > 0 {
			cond["NotIpAddress"] = map[string][]string{"aws:SourceIp": slices.Sorted(slices.Values(p.SourceIps))}
		}
		out = append(out, iampolicy.Statement{Sid: "DenyOutsidePerimeter", Effect: "Deny", Action: InvokeActions, Resource: direct, Condition: cond})
	}
	return out
}
