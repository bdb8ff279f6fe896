// Package checks holds the toolkit's own security checks. They run at synth
// time as an aspect on every stack, and each finding is an error annotation,
// which makes `cdk synth` fail with the resource's path and the fix.
package checks

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Stateful resource types whose data must survive a stack deletion.
var stateful = []string{
	"AWS::S3::Bucket", "AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable",
	"AWS::S3Vectors::VectorBucket", "AWS::S3Vectors::Index",
	"AWS::ElastiCache::ReplicationGroup", "AWS::ElastiCache::ServerlessCache",
}

// Apply adds the toolkit's checks and cdk-nag's AwsSolutions pack to every
// stack under scope.
func Apply(scope constructs.IConstruct) {
	awscdk.Aspects_Of(scope).Add(&Aspect{}, nil)
	awscdk.Aspects_Of(scope).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
}

// Aspect reports each finding as an error on the offending resource.
type Aspect struct{}

// Visit implements awscdk.IAspect.
func (*Aspect) Visit(n constructs.IConstruct) {
	var findings []string
	// Resolving through the stack turns tokens and jsii struct proxies into plain JSON.
	resolve := func(v any) any {
		if v == nil {
			return nil
		}
		return awscdk.Stack_Of(n).Resolve(v)
	}
	switch r := n.(type) {
	case awsiam.CfnRole:
		findings = append(findings, Trust(resolve(r.AssumeRolePolicyDocument()))...)
		for _, p := range inline(resolve(r.Policies())) {
			findings = append(findings, Permissions(p)...)
		}
	case awsiam.CfnManagedPolicy:
		findings = Permissions(resolve(r.PolicyDocument()))
	case awsiam.CfnPolicy:
		findings = Permissions(resolve(r.PolicyDocument()))
	}
	if r, ok := n.(awscdk.CfnResource); ok {
		findings = append(findings, Retained(*r.CfnResourceType(), string(r.CfnOptions().DeletionPolicy()))...)
	}
	for _, f := range findings {
		awscdk.Annotations_Of(n).AddError(jsii.String("[genai-estate] " + f))
	}
}

// inline returns the documents of a role's resolved inline policies.
func inline(v any) []any {
	items, _ := v.([]any)
	var docs []any
	for _, p := range items {
		if m, ok := p.(map[string]any); ok {
			docs = append(docs, m["policyDocument"], m["PolicyDocument"])
		}
	}
	return docs
}

// Retained requires a retain policy on stateful resources.
func Retained(typ, deletionPolicy string) []string {
	// CDK spells it RETAIN, CloudFormation Retain.
	if slices.Contains(stateful, typ) && !strings.EqualFold(deletionPolicy, "retain") {
		return []string{fmt.Sprintf("%s holds data but is not retained on delete; fix: set RemovalPolicy RETAIN", typ)}
	}
	return nil
}

// Trust checks a role's trust document.
func Trust(doc any) []string {
	var out []string
	for _, s := range statements(doc) {
		if s.str("Effect") != "Allow" {
			continue
		}
		principal := s["Principal"]
		if principal == "*" || anyValue(principal, "*") {
			out = append(out, "the role can be assumed by any principal; fix: name the exact account, role, service or OIDC provider")
			continue
		}
		pm, _ := principal.(map[string]any)
		actions := s.list("Action")
		cond := conditions(s)
		if slices.Contains(actions, "sts:AssumeRoleWithWebIdentity") {
			if !hasKeySuffix(cond, ":aud") {
				out = append(out, "web-identity trust has no StringEquals condition on <issuer>:aud, so a token minted for any client of the IdP is accepted; fix: condition on the token audience")
			}
			if !hasKeySuffix(cond, ":sub") {
				out = append(out, "web-identity trust has no StringEquals condition on <issuer>:sub, so any identity of the IdP may assume it; fix: condition on the use case's subjects")
			}
		}
		if _, vendor := pm["AWS"]; vendor && slices.Contains(actions, "sts:AssumeRole") && len(cond["sts:ExternalId"]) == 0 {
			out = append(out, "cross-account trust has no StringEquals sts:ExternalId, so the vendor can be used as a confused deputy; fix: require the vendor's external id")
		}
	}
	return out
}

// Permissions checks a permission document's Bedrock grants.
func Permissions(doc any) []string {
	var out []string
	for _, s := range statements(doc) {
		bedrock := false
		for _, a := range s.list("Action") {
			if strings.HasPrefix(a, "bedrock-runtime:") {
				out = append(out, fmt.Sprintf("%q is not an IAM action (there is no bedrock-runtime: prefix); fix: use bedrock:InvokeModel / bedrock:InvokeModelWithResponseStream", a))
			}
			if a == "*" || strings.HasPrefix(a, "bedrock:") {
				bedrock = true
				if strings.Contains(a, "*") {
					out = append(out, fmt.Sprintf("wildcard Bedrock action %q; fix: list the exact actions", a))
				}
			}
		}
		if s.str("Effect") != "Allow" || !bedrock {
			continue
		}
		for _, r := range s.list("Resource") {
			if r == "*" || (strings.Contains(r, ":bedrock:") && strings.Contains(r, "*")) {
				out = append(out, fmt.Sprintf("wildcard Bedrock resource %q; fix: grant exact model ARNs", r))
			}
		}
	}
	return out
}

type statement map[string]any

func (s statement) str(k string) string { v, _ := s[k].(string); return v }

func (s statement) list(k string) []string { return strs(s[k]) }

func statements(doc any) []statement {
	m, _ := doc.(map[string]any)
	var out []statement
	switch st := m["Statement"].(type) {
	case []any:
		for _, s := range st {
			if sm, ok := s.(map[string]any); ok {
				out = append(out, sm)
			}
		}
	case map[string]any:
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
		out[k] = strs(v)
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
		if slices.Contains(strs(v), want) {
			return true
		}
	}
	return false
}

func strs(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return v
	}
	return nil
}
