// Package checks holds the toolkit's own security checks, in pure Go. They
// read the synthesized cloud assembly (stacks.Synth runs them right after
// app.Synth), so no check is a node->Go callback; each finding is located on
// the construct path of the offending resource, and any finding fails the
// synth. The review CLI can run the same rules on any cdk.out.
package checks

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/acme/genai-estate/internal/estate"
	"github.com/acme/genai-estate/internal/iampolicy"
)

// Stateful resource types whose data must survive a stack deletion.
var stateful = []string{
	"AWS::S3::Bucket", "AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable",
	"AWS::S3Vectors::VectorBucket", "AWS::S3Vectors::Index",
	"AWS::ElastiCache::ReplicationGroup", "AWS::ElastiCache::ServerlessCache",
}

// Resource runs every rule on one resource of a synthesized template: its
// CloudFormation type, properties (as written in the template, intrinsics
// unresolved) and DeletionPolicy.
func Resource(typ string, props map[string]any, deletionPolicy string) []Violation {
	var out []Violation
	switch typ {
	case "AWS::IAM::Role":
		out = append(out, Trust(props["AssumeRolePolicyDocument"])...)
		policies, _ := props["Policies"].([]any)
		for _, p := range policies {
			out = append(out, Permissions(field(p, "PolicyDocument"))...)
		}
	case "AWS::IAM::ManagedPolicy", "AWS::IAM::Policy":
		out = append(out, Permissions(props["PolicyDocument"])...)
	}
	out = append(out, Retained(typ, deletionPolicy)...)
	return append(out, baseline(typ, props)...)
}

// baseline checks encryption at rest, log retention and secrets by reference.
func baseline(typ string, props map[string]any) []Violation {
	var out []Violation
	switch typ {
	case "AWS::S3::Bucket":
		if props["BucketEncryption"] == nil {
			out = append(out, violation(DataEncrypted, "bucket has no BucketEncryption", "set encryption (S3_MANAGED or KMS)"))
		}
	case "AWS::DynamoDB::Table":
		if !isTrue(field(props["SSESpecification"], "SSEEnabled")) {
			out = append(out, violation(DataEncrypted, "table has no server-side encryption specification", "enable SSE (AWS managed or customer KMS key)"))
		}
	case "AWS::ElastiCache::ReplicationGroup":
		if !isTrue(props["AtRestEncryptionEnabled"]) {
			out = append(out, violation(DataEncrypted, "cache is not encrypted at rest", "AtRestEncryptionEnabled: true"))
		}
		if !isTrue(props["TransitEncryptionEnabled"]) {
			out = append(out, violation(DataEncrypted, "cache is not encrypted in transit", "TransitEncryptionEnabled: true"))
		}
	case "AWS::Logs::LogGroup":
		if props["RetentionInDays"] == nil {
			out = append(out, violation(LogRetention, "log group keeps logs forever", "set a retention period"))
		}
	case "AWS::Lambda::Function":
		if env := field(props["Environment"], "Variables"); env != nil {
			out = append(out, Secrets(env)...)
		}
	case "AWS::ECS::TaskDefinition":
		defs, _ := props["ContainerDefinitions"].([]any)
		for _, d := range defs {
			envs, _ := field(d, "Environment").([]any)
			vars := map[string]any{}
			for _, e := range envs {
				if name, ok := field(e, "Name").(string); ok {
					vars[name] = field(e, "Value")
				}
			}
			out = append(out, Secrets(vars)...)
		}
	}
	return out
}

// isTrue reads a template boolean, which CloudFormation also accepts as a string.
func isTrue(v any) bool { return v == true || v == "true" }

var secretName = regexp.MustCompile(`(?i)(secret|password|passwd|token|private_?key|access_?key|api_?key)`)
var accessKeyID = regexp.MustCompile(`\b(AKIA|ASIA)[A-Z0-9]{16}\b`)

// Secrets flags environment variables that carry a secret in plain text.
// A value that is a dynamic reference ({{resolve:...}}) or a token is fine,
// and so are names that only point at or describe one (…_ARN, …_URL, …_TTL, …).
func Secrets(vars any) []Violation {
	m, _ := vars.(map[string]any)
	var out []Violation
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v, literal := m[k].(string)
		if !literal || strings.HasPrefix(v, "{{resolve:") {
			continue
		}
		pointer := slices.ContainsFunc([]string{"_ARN", "_ARNS", "_NAME", "_ID", "_URL", "_URI", "_TTL", "_PATH", "_SECONDS"}, func(suffix string) bool {
			return strings.HasSuffix(strings.ToUpper(k), suffix)
		})
		if accessKeyID.MatchString(v) || (secretName.MatchString(k) && !pointer && v != "") {
			out = append(out, violation(PlaintextSecret, fmt.Sprintf("environment variable %s holds a plaintext secret", k), "pass a Secrets Manager or SSM reference instead"))
		}
	}
	return out
}

// field reads a key of a template object.
func field(v any, key string) any {
	m, _ := v.(map[string]any)
	return m[key]
}

// Retained requires a retain policy on stateful resources.
func Retained(typ, deletionPolicy string) []Violation {
	// CDK spells it RETAIN, CloudFormation Retain.
	if slices.Contains(stateful, typ) && !strings.EqualFold(deletionPolicy, "retain") {
		return []Violation{violation(DataRetained, fmt.Sprintf("%s holds data but is not retained on delete", typ), "set RemovalPolicy RETAIN")}
	}
	return nil
}

// Trust checks a role's trust document.
func Trust(doc any) []Violation {
	var out []Violation
	for _, s := range statements(doc) {
		if s.str("Effect") != "Allow" {
			continue
		}
		principal := s["Principal"]
		if principal == "*" || anyValue(principal, "*") {
			out = append(out, violation(TrustAnyPrincipal, "the role can be assumed by any principal", "name the exact account, role, service or OIDC provider"))
			continue
		}
		pm, _ := principal.(map[string]any)
		actions := s.list("Action")
		cond := conditions(s)
		if slices.Contains(actions, "sts:AssumeRoleWithWebIdentity") {
			if !hasKeySuffix(cond, ":aud") {
				out = append(out, violation(TrustAudience, "web-identity trust has no StringEquals condition on <issuer>:aud, so a token minted for any client of the IdP is accepted", "condition on the token audience"))
			}
			if !hasKeySuffix(cond, ":sub") {
				out = append(out, violation(TrustSubject, "web-identity trust has no StringEquals condition on <issuer>:sub, so any identity of the IdP may assume it", "condition on the use case's subjects"))
			}
		}
		if _, vendor := pm["AWS"]; vendor && slices.Contains(actions, "sts:AssumeRole") && len(cond["sts:ExternalId"]) == 0 {
			out = append(out, violation(TrustExternalID, "cross-account trust has no StringEquals sts:ExternalId, so the vendor can be used as a confused deputy", "require the vendor's external id"))
		}
	}
	return out
}

// Permissions checks a permission document's Bedrock grants.
func Permissions(doc any) []Violation {
	var out []Violation
	for _, s := range statements(doc) {
		bedrock := false
		for _, a := range s.list("Action") {
			if strings.HasPrefix(a, "bedrock-runtime:") {
				out = append(out, violation(BedrockPrefix, fmt.Sprintf("%q is not an IAM action (there is no bedrock-runtime: prefix)", a), "use bedrock:InvokeModel / bedrock:InvokeModelWithResponseStream"))
			}
			if a == "*" || strings.HasPrefix(a, "bedrock:") {
				bedrock = true
				if strings.Contains(a, "*") {
					out = append(out, violation(BedrockAction, fmt.Sprintf("wildcard Bedrock action %q", a), "list the exact actions"))
				}
			}
		}
		if s.str("Effect") != "Allow" || !bedrock || noResourceTypes(s.list("Action")) {
			continue
		}
		for _, r := range s.list("Resource") {
			if r == "*" || (strings.Contains(r, ":bedrock:") && strings.Contains(r, "*")) {
				out = append(out, violation(BedrockResource, fmt.Sprintf("wildcard Bedrock resource %q", r), "grant exact model ARNs"))
			}
		}
	}
	return out
}

// noResourceTypes is whether every action is one of the account-level
// Bedrock calls that support no resource types, for which "*" is the only
// resource IAM accepts (the invocation logging configuration).
func noResourceTypes(actions []string) bool {
	for _, a := range actions {
		if a == "*" || (strings.HasPrefix(a, "bedrock:") && !slices.Contains(estate.LoggingActions, a)) {
			return false
		}
	}
	return true
}

type statement map[string]any

func (s statement) str(k string) string { v, _ := s[k].(string); return v }

func (s statement) list(k string) []string { return iampolicy.Strings(s[k]) }

func statements(doc any) []statement {
	var out []statement
	for _, st := range iampolicy.Statements(doc) {
		out = append(out, st)
	}
	return out
}

// conditions returns the StringEquals condition values by key.
func conditions(s statement) map[string][]string {
	out := map[string][]string{}
	c, _ := s["Condition"].(map[string]any)
	eq, _ := c["StringEquals"].(map[string]any)
	for k, v := range eq {
		out[k] = iampolicy.Strings(v)
	}
	return out
}

func hasKeySuffix(cond map[string][]string, suffix string) bool {
	for k, v := range cond {
		if strings.HasSuffix(k, suffix) && len(v) > 0 && !slices.Contains(v, "*") {
			return true
		}
	}
	return false
}

func anyValue(principal any, want string) bool {
	m, _ := principal.(map[string]any)
	for _, v := range m {
		if slices.Contains(iampolicy.Strings(v), want) {
			return true
		}
	}
	return false
}
