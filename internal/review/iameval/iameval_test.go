package iameval

import (
	"encoding/json"
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
	c, err := config.Load("../../../config/usecases.yaml")
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
