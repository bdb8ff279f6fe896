package iameval

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/estate"
)

func doc(t *testing.T, s string) any {
	var v any
	require.NoError(t, json.Unmarshal([]byte(s), &v))
	return v
}

const fm = "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"

// One row per rule of IAM's policy evaluation logic, written from IAM's
// documentation rather than from this code.
func TestIAMRules(t *testing.T) {
	invoke := Request{Action: "bedrock:InvokeModel", Resource: fm}
	tests := []struct {
		rule string
		doc  string
		req  Request
		want Decision
	}{
		{"no matching statement is an implicit deny", `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`, invoke, ImplicitDeny},
		{"an Allow that matches allows", `{"Statement":[{"Effect":"Allow","Action":"bedrock:InvokeModel","Resource":"` + fm + `"}]}`, invoke, Allow},
		{"an explicit Deny wins over an Allow", `{"Statement":[{"Effect":"Allow","Action":"bedrock:*","Resource":"*"},{"Effect":"Deny","Action":"bedrock:InvokeModel","Resource":"*"}]}`, invoke, ExplicitDeny},
		{"* in an action matches any run of characters", `{"Statement":[{"Effect":"Allow","Action":"bedrock:Invoke*","Resource":"*"}]}`, invoke, Allow},
		{"? in an action matches exactly one character", `{"Statement":[{"Effect":"Allow","Action":"bedrock:InvokeMode?","Resource":"*"}]}`, invoke, Allow},
		{"? does not match zero characters", `{"Statement":[{"Effect":"Allow","Action":"bedrock:InvokeModel?","Resource":"*"}]}`, invoke, ImplicitDeny},
		{"action names are case-insensitive", `{"Statement":[{"Effect":"Allow","Action":"Bedrock:invokemodel","Resource":"*"}]}`, invoke, Allow},
		{"resource ARNs are case-sensitive", `{"Statement":[{"Effect":"Allow","Action":"bedrock:InvokeModel","Resource":"arn:aws:bedrock:us-east-1::foundation-model/Anthropic.claude-3-haiku-20240307-v1:0"}]}`, invoke, ImplicitDeny},
		{"* in a resource matches across segments", `{"Statement":[{"Effect":"Allow","Action":"bedrock:InvokeModel","Resource":"arn:aws:bedrock:*::foundation-model/anthropic.*"}]}`, invoke, Allow},
		{"NotAction applies to every other action", `{"Statement":[{"Effect":"Allow","NotAction":"s3:*","Resource":"*"}]}`, invoke, Allow},
		{"StringEquals: values are ORed", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"k":["a","b"]}}}]}`, Request{Action: "x:Y", Resource: "r", Context: map[string][]string{"k": {"b"}}}, Allow},
		{"StringEquals: keys are ANDed", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"k":"a","j":"b"}}}]}`, Request{Action: "x:Y", Resource: "r", Context: map[string][]string{"k": {"a"}, "j": {"c"}}}, ImplicitDeny},
		{"operators are ANDed", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"k":"a"},"StringLike":{"j":"b*"}}}]}`, Request{Action: "x:Y", Resource: "r", Context: map[string][]string{"k": {"a"}, "j": {"bc"}}}, Allow},
		{"a condition on a missing key does not match", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"k":"a"}}}]}`, Request{Action: "x:Y", Resource: "r"}, ImplicitDeny},
		{"StringEquals is exact, no wildcards", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"k":"a*"}}}]}`, Request{Action: "x:Y", Resource: "r", Context: map[string][]string{"k": {"ab"}}}, ImplicitDeny},
		{"StringLike honours * and ?", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringLike":{"k":"a?c*"}}}]}`, Request{Action: "x:Y", Resource: "r", Context: map[string][]string{"k": {"abcdef"}}}, Allow},
		{"ArnLike matches ARN patterns", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:bedrock:us-east-1:1:knowledge-base/*"}}}]}`, Request{Action: "x:Y", Resource: "r", Context: map[string][]string{"aws:SourceArn": {"arn:aws:bedrock:us-east-1:1:knowledge-base/KB1"}}}, Allow},
		{"ForAnyValue: one member matching is enough", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"k":["a"]}}}]}`, Request{Action: "x:Y", Resource: "r", Context: map[string][]string{"k": {"z", "a"}}}, Allow},
		{"ForAllValues: every member must match", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAllValues:StringEquals":{"k":["a","b"]}}}]}`, Request{Action: "x:Y", Resource: "r", Context: map[string][]string{"k": {"a", "z"}}}, ImplicitDeny},
		{"ForAllValues: an absent key matches", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAllValues:StringEquals":{"k":["a"]}}}]}`, Request{Action: "x:Y", Resource: "r"}, Allow},
		{"ForAnyValue: an absent key does not match", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"k":["a"]}}}]}`, Request{Action: "x:Y", Resource: "r"}, ImplicitDeny},
		{"ForAnyValue:StringLike: wildcards per member", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAnyValue:StringLike":{"k":["team-*"]}}}]}`, Request{Action: "x:Y", Resource: "r", Context: map[string][]string{"k": {"z", "team-a"}}}, Allow},
		{"ForAllValues:StringLike: one member outside the pattern fails", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAllValues:StringLike":{"k":["team-*"]}}}]}`, Request{Action: "x:Y", Resource: "r", Context: map[string][]string{"k": {"team-a", "ops"}}}, ImplicitDeny},
		{"ForAnyValue:ArnLike matches any ARN of the set", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAnyValue:ArnLike":{"k":["arn:aws:iam::1:role/*"]}}}]}`, Request{Action: "x:Y", Resource: "r", Context: map[string][]string{"k": {"arn:aws:iam::2:role/a", "arn:aws:iam::1:role/b"}}}, Allow},
		{"NotResource applies to every other resource", `{"Statement":[{"Effect":"Allow","Action":"bedrock:InvokeModel","NotResource":"arn:aws:bedrock:*::foundation-model/meta.*"}]}`, invoke, Allow},
		{"a Deny with an unmet condition does not deny", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringEquals":{"k":"a"}}}]}`, Request{Action: "x:Y", Resource: "r", Context: map[string][]string{"k": {"b"}}}, Allow},
		{"StringNotEquals on a missing key matches", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"k":"a"}}}]}`, Request{Action: "x:Y", Resource: "r"}, Allow},
		{"a principal must match the caller", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"sts:AssumeRole"}]}`, Request{Action: "sts:AssumeRole", Principal: map[string]string{"AWS": "arn:aws:iam::888888888888:role/x"}}, ImplicitDeny},
		{"an account principal covers its roles", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"sts:AssumeRole"}]}`, Request{Action: "sts:AssumeRole", Principal: map[string]string{"AWS": "arn:aws:iam::999999999999:role/x"}}, Allow},
	}
	for _, tc := range tests {
		t.Run(tc.rule, func(t *testing.T) {
			got, _ := Evaluate(doc(t, tc.doc), tc.req)
			assert.Equal(t, tc.want, got)
		})
	}
}

// The toolkit's own documents behave as intended under these rules.
func TestGeneratedDocuments(t *testing.T) {
	// The direct grants; the profile grants are evaluated in internal/estate.
	data, err := os.ReadFile("../../../config/usecases.yaml")
	require.NoError(t, err)
	c, err := config.Parse("usecases.yaml", []byte(strings.Replace(string(data), "costAttribution: profiles", "costAttribution: direct", 1)))
	require.NoError(t, err)
	e, err := estate.Build(c)
	require.NoError(t, err)
	var a *estate.Account
	for _, x := range e.Accounts {
		if x.Name == "SharedModelsA" {
			a = x
		}
	}
	var ucA *estate.Role
	for _, r := range a.Roles {
		if r.Name.Subject == "UseCaseA" {
			ucA = r
		}
	}
	require.NotNil(t, ucA)
	iss := "acme.okta.com/oauth2/default"
	assume := func(aud, sub string) Decision {
		d, _ := Evaluate(ucA.Trust.Value(), Request{Action: "sts:AssumeRoleWithWebIdentity", Principal: map[string]string{"Federated": a.ProviderArn},
			Context: map[string][]string{iss + ":aud": {aud}, iss + ":sub": {sub}}})
		return d
	}
	assert.Equal(t, Allow, assume("genai-gateway", "usecase-a"))
	assert.Equal(t, ImplicitDeny, assume("genai-gateway", "usecase-b"), "another use case's token")
	assert.Equal(t, ImplicitDeny, assume("other-app", "usecase-a"), "a token for another audience")

	var anthropic *estate.Policy
	for _, p := range ucA.Policies {
		if p.Name.Provider == "Anthropic" {
			anthropic = p
		}
	}
	require.NotNil(t, anthropic)
	profile := "arn:aws:bedrock:us-east-1:222222222222:inference-profile/us.anthropic.claude-3-5-sonnet-20241022-v2:0"
	dest := "arn:aws:bedrock:us-east-2::foundation-model/anthropic.claude-3-5-sonnet-20241022-v2:0"
	invoke := func(res string, ctx map[string][]string) (Decision, []string) {
		return Evaluate(anthropic.Document.Value(), Request{Action: "bedrock:InvokeModel", Resource: res, Context: ctx})
	}
	d, by := invoke(profile, nil)
	assert.Equal(t, Allow, d)
	assert.Equal(t, []string{"InvokeInferenceProfiles"}, by)
	d, _ = invoke(dest, nil)
	assert.Equal(t, ImplicitDeny, d, "a destination region's model is not callable directly")
	d, by = invoke(dest, map[string][]string{"bedrock:InferenceProfileArn": {profile}})
	assert.Equal(t, Allow, d, "but is through the granted profile")
	assert.Equal(t, []string{"ViaUsAnthropicClaude35Sonnet20241022V20"}, by)
	d, _ = invoke("arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-opus-20240229-v1:0", nil)
	assert.Equal(t, ImplicitDeny, d, "an ungranted model")
}

func ctx(kv ...string) map[string][]string {
	m := map[string][]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = append(m[kv[i]], kv[i+1])
	}
	return m
}

// One row per condition operator rule of IAM's reference
// (reference_policies_elements_condition_operators and
// reference_policies_multi-value-conditions), written from that reference.
// Each row is the condition block of an Allow of everything.
func TestConditionOperators(t *testing.T) {
	tests := []struct {
		rule string
		cond string
		ctx  map[string][]string
		want Decision
	}{
		// Null: presence only.
		{"Null false: any value of a present key matches", `{"Null":{"iss:sub":"false"}}`, ctx("iss:sub", "anyone"), Allow},
		{"Null false: an absent key does not match", `{"Null":{"iss:sub":"false"}}`, nil, ImplicitDeny},
		{"Null true: an absent key matches", `{"Null":{"aws:TokenIssueTime":"true"}}`, nil, Allow},
		{"Null true: a present key does not match", `{"Null":{"aws:TokenIssueTime":"true"}}`, ctx("aws:TokenIssueTime", "x"), ImplicitDeny},
		// Key names are case-insensitive; values are not.
		{"condition key names are case-insensitive", `{"StringEquals":{"AWS:SourceAccount":"111"}}`, ctx("aws:sourceaccount", "111"), Allow},
		{"condition values are case-sensitive", `{"StringEquals":{"k":"abc"}}`, ctx("k", "ABC"), ImplicitDeny},
		{"StringEqualsIgnoreCase folds values", `{"StringEqualsIgnoreCase":{"k":"abc"}}`, ctx("k", "ABC"), Allow},
		{"StringNotEqualsIgnoreCase folds values", `{"StringNotEqualsIgnoreCase":{"k":"abc"}}`, ctx("k", "ABC"), ImplicitDeny},
		// Negations.
		{"StringNotEquals: a value outside the list matches", `{"StringNotEquals":{"k":["a","b"]}}`, ctx("k", "c"), Allow},
		{"StringNotEquals: a listed value does not match", `{"StringNotEquals":{"k":["a","b"]}}`, ctx("k", "b"), ImplicitDeny},
		{"StringNotLike: a missing key matches", `{"StringNotLike":{"k":"a*"}}`, nil, Allow},
		{"StringNotLike: a matching value does not", `{"StringNotLike":{"k":"a*"}}`, ctx("k", "abc"), ImplicitDeny},
		{"ArnNotLike: a missing key matches", `{"ArnNotLike":{"aws:SourceArn":"arn:aws:s3:::b/*"}}`, nil, Allow},
		{"NumericNotEquals: a missing key matches", `{"NumericNotEquals":{"k":"1"}}`, nil, Allow},
		{"NotIpAddress: a missing key matches", `{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, nil, Allow},
		// IfExists.
		{"IfExists: a missing key matches", `{"StringEqualsIfExists":{"k":"a"}}`, nil, Allow},
		{"IfExists: a present key is tested", `{"StringEqualsIfExists":{"k":"a"}}`, ctx("k", "b"), ImplicitDeny},
		{"IpAddressIfExists: a missing key matches", `{"IpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"}}`, nil, Allow},
		// Numeric.
		{"NumericEquals", `{"NumericEquals":{"k":"10"}}`, ctx("k", "10.0"), Allow},
		{"NumericLessThan: smaller matches", `{"NumericLessThan":{"s3:max-keys":"10"}}`, ctx("s3:max-keys", "9"), Allow},
		{"NumericLessThan: equal does not", `{"NumericLessThan":{"s3:max-keys":"10"}}`, ctx("s3:max-keys", "10"), ImplicitDeny},
		{"NumericLessThanEquals: equal matches", `{"NumericLessThanEquals":{"k":"10"}}`, ctx("k", "10"), Allow},
		{"NumericGreaterThan", `{"NumericGreaterThan":{"k":"10"}}`, ctx("k", "11"), Allow},
		{"NumericGreaterThanEquals: smaller does not", `{"NumericGreaterThanEquals":{"k":"10"}}`, ctx("k", "9"), ImplicitDeny},
		{"Numeric: a missing key does not match", `{"NumericLessThan":{"k":"10"}}`, nil, ImplicitDeny},
		{"Numeric: a policy value that is not a number is indeterminate", `{"NumericLessThan":{"k":"ten"}}`, ctx("k", "9"), Indeterminate},
		// Date.
		{"DateLessThan: ISO 8601", `{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}`, ctx("aws:CurrentTime", "2026-11-27T15:00:00Z"), Allow},
		{"DateGreaterThan: epoch seconds", `{"DateGreaterThan":{"aws:EpochTime":"1700000000"}}`, ctx("aws:EpochTime", "1600000000"), ImplicitDeny},
		{"DateEquals: a date and a time of its midnight", `{"DateEquals":{"k":"2026-01-01"}}`, ctx("k", "2026-01-01T00:00:00Z"), Allow},
		{"DateNotEquals", `{"DateNotEquals":{"k":"2026-01-01T00:00:00Z"}}`, ctx("k", "2026-01-02T00:00:00Z"), Allow},
		{"DateLessThanEquals", `{"DateLessThanEquals":{"k":"2026-01-01T00:00:00Z"}}`, ctx("k", "2026-01-01T00:00:00Z"), Allow},
		{"DateGreaterThanEquals", `{"DateGreaterThanEquals":{"k":"2026-01-01T00:00:00Z"}}`, ctx("k", "2025-12-31T23:59:59Z"), ImplicitDeny},
		// Bool and binary.
		{"Bool true", `{"Bool":{"aws:SecureTransport":"true"}}`, ctx("aws:SecureTransport", "true"), Allow},
		{"Bool false does not match true", `{"Bool":{"aws:SecureTransport":"false"}}`, ctx("aws:SecureTransport", "true"), ImplicitDeny},
		{"Bool on a missing key does not match", `{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`, nil, ImplicitDeny},
		{"BoolIfExists on a missing key matches", `{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}`, nil, Allow},
		{"BinaryEquals compares the base64 value", `{"BinaryEquals":{"k":"QmluYXJ5VmFsdWU="}}`, ctx("k", "QmluYXJ5VmFsdWU="), Allow},
		{"Bool with a JSON boolean value", `{"Bool":{"aws:SecureTransport":false}}`, ctx("aws:SecureTransport", "false"), Allow},
		{"NumericLessThan with a JSON number value", `{"NumericLessThan":{"s3:max-keys":10}}`, ctx("s3:max-keys", "9"), Allow},
		{"a value of an unreadable type is indeterminate", `{"StringEquals":{"k":{"nested":"x"}}}`, ctx("k", "x"), Indeterminate},
		// IP addresses.
		{"IpAddress: an IPv4 address in the block", `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, ctx("aws:SourceIp", "203.0.113.7"), Allow},
		{"IpAddress: an address outside the block", `{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`, ctx("aws:SourceIp", "198.51.100.7"), ImplicitDeny},
		{"IpAddress: a single address", `{"IpAddress":{"aws:SourceIp":"203.0.113.7"}}`, ctx("aws:SourceIp", "203.0.113.7"), Allow},
		{"IpAddress: IPv6", `{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}`, ctx("aws:SourceIp", "2001:db8:1::5"), Allow},
		{"NotIpAddress: an address outside every block", `{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]}}`, ctx("aws:SourceIp", "203.0.113.7"), Allow},
		{"NotIpAddress: an address inside a block", `{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]}}`, ctx("aws:SourceIp", "10.1.2.3"), ImplicitDeny},
		{"IpAddress: a missing key does not match", `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, nil, ImplicitDeny},
		// VPC endpoint perimeter as the generated policies may add it.
		{"StringEquals aws:SourceVpce", `{"StringEquals":{"aws:SourceVpce":"vpce-1a2b3c4d"}}`, ctx("aws:sourcevpce", "vpce-1a2b3c4d"), Allow},
		{"StringEquals aws:SourceVpc: another VPC", `{"StringEquals":{"aws:SourceVpc":"vpc-111"}}`, ctx("aws:SourceVpc", "vpc-222"), ImplicitDeny},
		// ARNs.
		{"ArnEquals takes wildcards too", `{"ArnEquals":{"aws:SourceArn":"arn:aws:bedrock:*:111:knowledge-base/*"}}`, ctx("aws:SourceArn", "arn:aws:bedrock:us-east-1:111:knowledge-base/KB1"), Allow},
		{"ArnLike: a pattern of fewer than six parts is indeterminate where it could match", `{"ArnLike":{"aws:SourceArn":"arn:aws:bedrock:*:knowledge-base/*"}}`, ctx("aws:SourceArn", "arn:aws:bedrock:us-east-1:111:knowledge-base/KB1"), Indeterminate},
		{"ArnLike: each part is matched on its own", `{"ArnLike":{"aws:SourceArn":"arn:aws:bedrock:us-*:111:knowledge-base/*"}}`, ctx("aws:SourceArn", "arn:aws:bedrock:us-east-1:111:knowledge-base/KB1"), Allow},
		{"ArnLike: another account", `{"ArnLike":{"aws:SourceArn":"arn:aws:bedrock:us-east-1:111:knowledge-base/*"}}`, ctx("aws:SourceArn", "arn:aws:bedrock:us-east-1:222:knowledge-base/KB1"), ImplicitDeny},
		{"ArnNotEquals: another ARN matches", `{"ArnNotEquals":{"aws:SourceArn":"arn:aws:s3:::a"}}`, ctx("aws:SourceArn", "arn:aws:s3:::b"), Allow},
		{"ArnLike: a value that is not an ARN does not match", `{"ArnLike":{"k":"arn:aws:s3:::*"}}`, ctx("k", "bucket"), ImplicitDeny},
		// Multi-valued keys.
		{"ForAllValues: every member must be listed", `{"ForAllValues:StringEquals":{"k":["a","b"]}}`, ctx("k", "a", "k", "b"), Allow},
		{"ForAllValues: an empty set matches even a negation", `{"ForAllValues:StringNotEquals":{"k":["a"]}}`, nil, Allow},
		{"ForAllValues:StringNotEquals: no member may be listed", `{"ForAllValues:StringNotEquals":{"k":["a"]}}`, ctx("k", "b", "k", "a"), ImplicitDeny},
		{"ForAnyValue:StringNotEquals: one unlisted member is enough", `{"ForAnyValue:StringNotEquals":{"k":["a"]}}`, ctx("k", "b", "k", "a"), Allow},
		{"ForAnyValue: a missing key does not match even a negation", `{"ForAnyValue:StringNotEquals":{"k":["a"]}}`, nil, ImplicitDeny},
		{"ForAnyValue:StringEqualsIfExists: a missing key matches", `{"ForAnyValue:StringEqualsIfExists":{"k":["a"]}}`, nil, Allow},
		{"ForAllValues:StringLike over members", `{"ForAllValues:StringLike":{"k":["team-*"]}}`, ctx("k", "team-a", "k", "team-b"), Allow},
		// Policy variables.
		{"a policy variable is the request's value", `{"StringEquals":{"iss:sub":"${aws:PrincipalTag/sub}"}}`, ctx("iss:sub", "u1", "aws:PrincipalTag/sub", "u1"), Allow},
		{"a policy variable of another value", `{"StringEquals":{"iss:sub":"${aws:PrincipalTag/sub}"}}`, ctx("iss:sub", "u1", "aws:PrincipalTag/sub", "u2"), ImplicitDeny},
		{"a policy variable's default applies when the key is missing", `{"StringEquals":{"k":"${aws:PrincipalTag/team, 'none'}"}}`, ctx("k", "none"), Allow},
		{"a policy variable the request lacks is indeterminate", `{"StringLike":{"k":"${aws:PrincipalTag/team}-*"}}`, ctx("k", "x-1"), Indeterminate},
		{"${*} is a literal star", `{"StringLike":{"k":"a${*}"}}`, ctx("k", "abc"), ImplicitDeny},
		{"${*} matches a literal star", `{"StringLike":{"k":"a${*}"}}`, ctx("k", "a*"), Allow},
		// What cannot be evaluated.
		{"an unknown operator is indeterminate", `{"StringMatchesRegex":{"k":"a.*"}}`, ctx("k", "abc"), Indeterminate},
		{"an unknown set prefix is indeterminate", `{"ForSomeValues:StringEquals":{"k":"a"}}`, ctx("k", "a"), Indeterminate},
		{"an unknown operator under a false one is still false", `{"StringMatchesRegex":{"k":"a.*"},"StringEquals":{"j":"x"}}`, ctx("k", "abc", "j", "y"), ImplicitDeny},
		{"an unresolved placeholder that could match is indeterminate", `{"StringEquals":{"aws:SourceVpce":"{{Endpoint.Id}}"}}`, ctx("aws:SourceVpce", "vpce-1"), Indeterminate},
		{"an unresolved placeholder that cannot match is false", `{"ArnLike":{"aws:SourceArn":"{{Bucket.Arn}}/docs/*"}}`, ctx("aws:SourceArn", "arn:aws:bedrock:us-east-1:1:knowledge-base/K"), ImplicitDeny},
	}
	for _, tc := range tests {
		t.Run(tc.rule, func(t *testing.T) {
			d := doc(t, `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":`+tc.cond+`}]}`)
			got, _ := Evaluate(d, Request{Action: "x:Y", Resource: "r", Context: tc.ctx})
			assert.Equal(t, tc.want, got)
		})
	}
}

// Statement-level rules for what cannot be evaluated, and resources.
func TestIndeterminate(t *testing.T) {
	tests := []struct {
		rule string
		doc  string
		req  Request
		want Decision
	}{
		{"an Allow that may apply is indeterminate, never a silent deny", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"{{Model.Arn}}"}]}`, Request{Action: "bedrock:InvokeModel", Resource: fm}, Indeterminate},
		{"an Allow with a Deny that may apply is indeterminate", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringMatchesRegex":{"k":"x"}}}]}`, Request{Action: "x:Y", Resource: "r"}, Indeterminate},
		{"a Deny that applies wins over an indeterminate Allow", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"{{X}}"},{"Effect":"Deny","Action":"*","Resource":"*"}]}`, Request{Action: "x:Y", Resource: "r"}, ExplicitDeny},
		{"a Deny that may apply without any Allow is an implicit deny", `{"Statement":[{"Effect":"Deny","Action":"*","Resource":"{{X}}"}]}`, Request{Action: "x:Y", Resource: "r"}, ImplicitDeny},
		{"a placeholder resource that cannot match does not apply", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"{{Bucket.Arn}}/docs/*"}]}`, Request{Action: "bedrock:InvokeModel", Resource: fm}, ImplicitDeny},
		{"a policy variable in a resource", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/${aws:PrincipalTag/team}/*"}]}`, Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/red/x", Context: ctx("aws:principaltag/team", "red")}, Allow},
		{"NotPrincipal applies to every other principal", `{"Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"sts:AssumeRole"}]}`, Request{Action: "sts:AssumeRole", Principal: map[string]string{"AWS": "arn:aws:iam::222222222222:role/x"}}, Allow},
		{"a region-wildcard model ARN", `{"Statement":[{"Effect":"Allow","Action":"bedrock:InvokeModel","Resource":"arn:aws:bedrock:*::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"}]}`, Request{Action: "bedrock:InvokeModel", Resource: fm}, Allow},
	}
	for _, tc := range tests {
		t.Run(tc.rule, func(t *testing.T) {
			got, _ := Evaluate(doc(t, tc.doc), tc.req)
			assert.Equal(t, tc.want, got)
		})
	}
}

// The probe of issue 14: aud plus a Null test on sub admits any subject.
func TestNullSubAdmitsAnySubject(t *testing.T) {
	iss := "acme.okta.com/oauth2/default"
	trust := doc(t, `{"Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::1:oidc-provider/`+iss+`"},"Action":"sts:AssumeRoleWithWebIdentity",
		"Condition":{"StringEquals":{"`+iss+`:aud":"genai-gateway"},"Null":{"`+iss+`:sub":"false"}}}]}`)
	got, _ := Evaluate(trust, Request{Action: "sts:AssumeRoleWithWebIdentity", Principal: map[string]string{"Federated": "arn:aws:iam::1:oidc-provider/" + iss},
		Context: ctx(iss+":aud", "genai-gateway", iss+":sub", "anyone-at-all")})
	assert.Equal(t, Allow, got)
}
