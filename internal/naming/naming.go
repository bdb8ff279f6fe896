// Package naming formats and parses the IAM naming convention of the seeds:
//
//	role            <Org>-<Layer>-<UseCaseOrGroup>-<Capability>Role
//	policy          <Org>-<Layer>-<UseCaseOrGroup>-<Provider>-<PermissionType>Policy[-<Part>]
//	trust policy    <Org>-<Layer>-<UseCaseOrGroup>-TrustPolicy
//	IdP             <Org>-IdP-<ProviderName>
//	gateway task    <Org>-GenAIGateway-TaskRole
//	app profile     <Org>-<Layer>-<UseCaseOrGroup>-<Provider>_<ModelHash>
//
// Every field is a Field (a letter, then letters and digits), so the hyphen is
// an unambiguous separator and every name parses back to the fields it came from.
package naming

import (
	"fmt"
	"strconv"
	"strings"
)

// IAM limits on names (IAM user guide, reference_iam-quotas).
const (
	MaxRoleName   = 64
	MaxPolicyName = 128
)

// Tag keys the toolkit sets. ManagedBy is the value of TagManagedBy.
const (
	TagOrg         = "genai:org"
	TagManagedBy   = "genai:managed-by"
	TagUseCase     = "genai:use-case"
	TagRoleKind    = "genai:role-kind"
	TagTrustPolicy = "genai:trust-policy"
	TagModel       = "genai:model"
	ManagedBy      = "genai-estate"
)

// FieldPattern is the regular expression of a name field; the config's
// JSON Schema and loader take it from here.
const FieldPattern = `^[A-Za-z][A-Za-z0-9]*$`

// ValidField reports whether s may be used as a name field (matches
// FieldPattern). A byte loop, not the regexp: the plan checks every name
// field of every role and policy, hundreds of thousands in a large estate.
func ValidField(s string) bool {
	if s == "" || !letter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !letter(s[i]) && (s[i] < '0' || s[i] > '9') {
			return false
		}
	}
	return true
}

func letter(c byte) bool { return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }

// FieldRule describes ValidField for error messages.
const FieldRule = "a letter followed by letters and digits (no hyphens, spaces or underscores)"

// Role is the name of a Bedrock invoke role in a shared model account.
type Role struct {
	Org, Layer, Subject, Capability string
}

func (r Role) String() string {
	return r.Org + "-" + r.Layer + "-" + r.Subject + "-" + r.Capability + "Role"
}

// Policy is the name of a customer managed permissions policy.
// Part is 0 or 1 for an unsplit policy and 2.. for the further parts of one
// that was split to stay within the managed-policy size limit.
type Policy struct {
	Org, Layer, Subject, Provider, PermissionType string
	Part                                          int
}

func (p Policy) String() string {
	s := p.Org + "-" + p.Layer + "-" + p.Subject + "-" + p.Provider + "-" + p.PermissionType + "Policy"
	if p.Part > 1 {
		s += "-" + strconv.Itoa(p.Part)
	}
	return s
}

// TrustPolicy names a role's trust document (used in descriptions and tags).
type TrustPolicy struct {
	Org, Layer, Subject string
}

func (t TrustPolicy) String() string { return t.Org + "-" + t.Layer + "-" + t.Subject + "-TrustPolicy" }

// IdP names the IAM OIDC provider of the enterprise IdP.
type IdP struct {
	Org, Provider string
}

func (i IdP) String() string { return i.Org + "-IdP-" + i.Provider }

// TaskRole names the gateway's ECS task role in the central account.
type TaskRole struct {
	Org string
}

func (t TaskRole) String() string { return t.Org + "-GenAIGateway-TaskRole" }

// Validate checks every field and the IAM length limit.
func (r Role) Validate() error {
	if err := fields("org", r.Org, "layer", r.Layer, "use case or group", r.Subject, "capability", r.Capability); err != nil {
		return err
	}
	return checkLen("role", r.String(), MaxRoleName)
}

// Validate checks every field and the IAM length limit.
func (p Policy) Validate() error {
	if err := fields("org", p.Org, "layer", p.Layer, "use case or group", p.Subject, "provider", p.Provider, "permission type", p.PermissionType); err != nil {
		return err
	}
	if p.Part < 0 || p.Part == 1 {
		return fmt.Errorf("policy part %d: parts are numbered from 2 (part 1 carries no suffix)", p.Part)
	}
	return checkLen("policy", p.String(), MaxPolicyName)
}

// Validate checks every field.
func (t TrustPolicy) Validate() error {
	return fields("org", t.Org, "layer", t.Layer, "use case or group", t.Subject)
}

// Validate checks every field.
func (i IdP) Validate() error { return fields("org", i.Org, "provider", i.Provider) }

// Validate checks every field and the IAM length limit.
func (t TaskRole) Validate() error {
	if err := fields("org", t.Org); err != nil {
		return err
	}
	return checkLen("role", t.String(), MaxRoleName)
}

// LengthError is returned when a name is longer than IAM allows.
type LengthError struct {
	Kind  string // "role" or "policy"
	Name  string
	Limit int
}

// Over is how many characters must go.
func (e *LengthError) Over() int { return len(e.Name) - e.Limit }

func (e *LengthError) Error() string {
	return fmt.Sprintf("%s name %q is %d characters, %d over IAM's limit of %d", e.Kind, e.Name, len(e.Name), e.Over(), e.Limit)
}

func checkLen(kind, name string, limit int) error {
	if len(name) > limit {
		return &LengthError{Kind: kind, Name: name, Limit: limit}
	}
	return nil
}

func fields(kv ...string) error {
	for i := 0; i < len(kv); i += 2 {
		if !ValidField(kv[i+1]) {
			return fmt.Errorf("%s %q is not a valid name field: use %s", kv[i], kv[i+1], FieldRule)
		}
	}
	return nil
}

// ParseRole parses a role name. It rejects the gateway task role, which has
// its own pattern.
func ParseRole(s string) (Role, error) {
	p := strings.Split(s, "-")
	if len(p) != 4 || !strings.HasSuffix(p[3], "Role") {
		return Role{}, fmt.Errorf("%q is not a role name of the form <Org>-<Layer>-<UseCaseOrGroup>-<Capability>Role", s)
	}
	r := Role{Org: p[0], Layer: p[1], Subject: p[2], Capability: strings.TrimSuffix(p[3], "Role")}
	return r, fields("org", r.Org, "layer", r.Layer, "use case or group", r.Subject, "capability", r.Capability)
}

// ParsePolicy parses a managed policy name.
func ParsePolicy(s string) (Policy, error) {
	bad := fmt.Errorf("%q is not a policy name of the form <Org>-<Layer>-<UseCaseOrGroup>-<Provider>-<Type>Policy[-<Part>]", s)
	p := strings.Split(s, "-")
	part := 0
	if len(p) == 6 {
		n, err := strconv.Atoi(p[5])
		if err != nil || n < 2 || strconv.Itoa(n) != p[5] {
			return Policy{}, bad
		}
		part, p = n, p[:5]
	}
	if len(p) != 5 || !strings.HasSuffix(p[4], "Policy") {
		return Policy{}, bad
	}
	r := Policy{Org: p[0], Layer: p[1], Subject: p[2], Provider: p[3], PermissionType: strings.TrimSuffix(p[4], "Policy"), Part: part}
	return r, fields("org", r.Org, "layer", r.Layer, "use case or group", r.Subject, "provider", r.Provider, "permission type", r.PermissionType)
}

// ParseTrustPolicy parses a trust policy name.
func ParseTrustPolicy(s string) (TrustPolicy, error) {
	p := strings.Split(s, "-")
	if len(p) != 4 || p[3] != "TrustPolicy" {
		return TrustPolicy{}, fmt.Errorf("%q is not a trust policy name of the form <Org>-<Layer>-<UseCaseOrGroup>-TrustPolicy", s)
	}
	t := TrustPolicy{Org: p[0], Layer: p[1], Subject: p[2]}
	return t, t.Validate()
}

// ParseIdP parses an IdP name.
func ParseIdP(s string) (IdP, error) {
	p := strings.Split(s, "-")
	if len(p) != 3 || p[1] != "IdP" {
		return IdP{}, fmt.Errorf("%q is not an IdP name of the form <Org>-IdP-<ProviderName>", s)
	}
	i := IdP{Org: p[0], Provider: p[2]}
	return i, i.Validate()
}

// ParseTaskRole parses the gateway task role name.
func ParseTaskRole(s string) (TaskRole, error) {
	p := strings.Split(s, "-")
	if len(p) != 3 || p[1] != "GenAIGateway" || p[2] != "TaskRole" {
		return TaskRole{}, fmt.Errorf("%q is not a task role name of the form <Org>-GenAIGateway-TaskRole", s)
	}
	t := TaskRole{Org: p[0]}
	return t, t.Validate()
}
