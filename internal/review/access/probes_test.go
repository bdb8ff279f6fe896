package access

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/genai-estate/internal/catalog"
	"github.com/acme/genai-estate/internal/estate"
	"github.com/acme/genai-estate/internal/review/assembly"
)

// grantsOf lists a role's entries as "subject region model actions", the
// exact grants a probe asserts.
func grantsOf(m *Matrix, account, role string) []string {
	var out []string
	for _, e := range m.Entries {
		if e.Account != account || e.Role != role {
			continue
		}
		who := e.Principal.Subject + e.Principal.ExternalID + e.Principal.Service
		s := strings.Join([]string{who, e.Region, e.Model, strings.Join(shortActions(e.Actions), "+")}, " ")
		if e.Indeterminate {
			s += " indeterminate"
		}
		out = append(out, s)
	}
	return out
}

func shortActions(as []string) []string {
	var out []string
	for _, a := range as {
		out = append(out, map[string]string{"bedrock:InvokeModel": "invoke", "bedrock:InvokeModelWithResponseStream": "stream"}[a])
	}
	return out
}

func jsonDoc(t *testing.T, s string) any {
	var v any
	require.NoError(t, json.Unmarshal([]byte(s), &v))
	return v
}

// probeEstate is the example config with UseCaseA's role in SharedModelsA
// replaced by hand-kept documents (testdata/usecase-a.json, the shape the
// toolkit generates for its three models in two regions), so the probes
// below plant their defects in documents this test owns.
func probeEstate(t *testing.T) (*Inventory, *estate.Estate) {
	t.Helper()
	inv, e := example(t)
	data, err := os.ReadFile("testdata/usecase-a.json")
	require.NoError(t, err)
	var f struct {
		Trust    any `json:"trust"`
		Policies []struct {
			Name     string `json:"name"`
			Document any    `json:"document"`
		} `json:"policies"`
	}
	require.NoError(t, json.Unmarshal(data, &f))
	r := role(t, inv, acctA, roleA)
	r.Trust, r.Policies = f.Trust, nil
	for _, p := range f.Policies {
		r.Policies = append(r.Policies, &Policy{Name: p.Name, Document: p.Document})
	}
	return inv, e
}

// What the example grants UseCaseA in SharedModelsA, exactly.
var roleAGrants = []string{
	"usecase-a us-east-1 amazon.titan-text-premier-v1:0 invoke+stream",
	"usecase-a us-east-1 anthropic.claude-3-sonnet-20240229-v1:0 invoke+stream",
	"usecase-a us-east-1 us.anthropic.claude-3-5-sonnet-20241022-v2:0 invoke+stream",
	"usecase-a us-west-2 amazon.titan-text-premier-v1:0 invoke+stream",
	"usecase-a us-west-2 anthropic.claude-3-sonnet-20240229-v1:0 invoke+stream",
	"usecase-a us-west-2 us.anthropic.claude-3-5-sonnet-20241022-v2:0 invoke+stream",
}

const (
	titanE1 = "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-premier-v1:0"
	titanW2 = "arn:aws:bedrock:us-west-2::foundation-model/amazon.titan-text-premier-v1:0"
)

// Planted defects of issue 14, one row each: the exact grants of the role
// the defect is planted in, and the findings (substrings; every finding
// must be matched by one, and each must match a finding).
func TestProbes(t *testing.T) {
	// Every catalog foundation model (not profile) granted to usecase-a in a region.
	everyModel := func(region string) []string {
		var out []string
		for _, id := range catalog.Default().IDs() {
			if m, _ := catalog.Default().Lookup(id); m.InferenceProfile == nil {
				out = append(out, "usecase-a "+region+" "+id+" invoke+stream")
			}
		}
		return out
	}
	// UseCaseA's grants, for every subject of the example.
	everySubject := func(suffix string) []string {
		var out []string
		for _, sub := range []string{"usecase-a", "usecase-b", "usecase-c", "usecase-d", "usecase-d-batch"} {
			for _, g := range roleAGrants {
				out = append(out, strings.Replace(g, "usecase-a", sub, 1)+suffix)
			}
		}
		return out
	}
	tests := []struct {
		name    string
		plant   func(t *testing.T, inv *Inventory)
		grants  []string // of UseCaseA's role in SharedModelsA; nil: not asserted
		excess  []string
		missing []string
		// extra findings beyond excess: each says it, and there are this many.
		extra      string
		extraCount int
	}{
		{"aud plus Null on sub admits any subject", func(t *testing.T, inv *Inventory) {
			st := stmt(role(t, inv, acctA, roleA).Trust, "GatewayWebIdentity")
			st["Condition"] = map[string]any{"StringEquals": map[string]any{iss + ":aud": "genai-gateway"}, "Null": map[string]any{iss + ":sub": "false"}}
		}, everySubject(""), []string{"trust admits a token of any other subject"}, nil, "(aud genai-gateway) can invoke", 24},
		{"upper-case condition key names still match", func(t *testing.T, inv *Inventory) {
			st := stmt(role(t, inv, acctA, roleA).Trust, "GatewayWebIdentity")
			st["Condition"] = map[string]any{"StringEquals": map[string]any{strings.ToUpper(iss + ":aud"): "genai-gateway", strings.ToUpper(iss) + ":SUB": "usecase-a"}}
		}, roleAGrants, nil, nil, "", 0},
		{"a trust with an operator IAM does not have is indeterminate, not a deny", func(t *testing.T, inv *Inventory) {
			st := stmt(role(t, inv, acctA, roleA).Trust, "GatewayWebIdentity")
			st["Condition"] = map[string]any{"StringEquals": map[string]any{iss + ":aud": "genai-gateway"}, "StringMatchesRegex": map[string]any{iss + ":sub": "usecase-a"}}
		}, everySubject(" indeterminate"), []string{"trust admits a token of any other subject: it is broader than the principals it lists (indeterminate"}, nil, "may invoke", 30},
		{"a permissions boundary limits the role", func(t *testing.T, inv *Inventory) {
			role(t, inv, acctA, roleA).Boundary = &Policy{Name: "Boundary", Document: jsonDoc(t, `{"Statement":[{"Effect":"Allow","Action":"bedrock:InvokeModel","Resource":"`+titanE1+`"}]}`)}
		}, []string{"usecase-a us-east-1 amazon.titan-text-premier-v1:0 invoke"}, nil, []string{
			"amazon.titan-text-premier-v1:0 in us-east-1, but the estate allows only bedrock:InvokeModel",
			"anthropic.claude-3-sonnet-20240229-v1:0 in us-east-1, but the estate does not",
			"anthropic.claude-3-sonnet-20240229-v1:0 in us-west-2, but the estate does not",
			"amazon.titan-text-premier-v1:0 in us-west-2, but the estate does not",
			"us.anthropic.claude-3-5-sonnet-20241022-v2:0 in us-east-1, but the estate does not",
			"us.anthropic.claude-3-5-sonnet-20241022-v2:0 in us-west-2, but the estate does not",
		}, "", 0},
		{"a boundary whose contents are unknown makes every grant indeterminate", func(t *testing.T, inv *Inventory) {
			role(t, inv, acctA, roleA).Boundary = &Policy{Name: "arn:aws:iam::aws:policy/PowerUserAccess", AWSManaged: true}
		}, func() []string {
			var out []string
			for _, g := range roleAGrants {
				out = append(out, g+" indeterminate")
			}
			return out
		}(), []string{"indeterminate", "indeterminate", "indeterminate", "indeterminate", "indeterminate", "indeterminate"}, nil, "", 0},
		{"a region-wildcard grant of a configured model is not missing, and its reach is listed", func(t *testing.T, inv *Inventory) {
			st := stmt(role(t, inv, acctA, roleA).Policies[0].Document, "InvokeFoundationModels")
			var res []any
			for _, r := range st["Resource"].([]any) {
				if r != titanE1 && r != titanW2 {
					res = append(res, r)
				}
			}
			st["Resource"] = append(res, "arn:aws:bedrock:*::foundation-model/amazon.titan-text-premier-v1:0")
		}, append(slices.Clone(roleAGrants), "usecase-a us-east-2 amazon.titan-text-premier-v1:0 invoke+stream"), []string{
			"allows arn:aws:bedrock:*::foundation-model/amazon.titan-text-premier-v1:0: a wildcard reaches models the config does not list; the role reaches 3 catalog models: amazon.titan-text-premier-v1:0 (every region); anthropic.claude-3-sonnet-20240229-v1:0 (us-east-1, us-west-2); us.anthropic.claude-3-5-sonnet-20241022-v2:0 (us-east-1, us-west-2)",
			"sub usecase-a (aud genai-gateway) can invoke amazon.titan-text-premier-v1:0 in us-east-2 (ACME-GenAI-UseCaseA-AmazonTitan-InvokePolicy), which the config does not ask for",
		}, nil, "", 0},
		{"foundation-model/* in one region lists every catalog model it reaches", func(t *testing.T, inv *Inventory) {
			st := stmt(role(t, inv, acctA, roleA).Policies[0].Document, "InvokeFoundationModels")
			st["Resource"] = []any{"arn:aws:bedrock:us-east-1::foundation-model/*", titanW2, "arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-sonnet-20240229-v1:0"}
		}, append(everyModel("us-east-1"), roleAGrants[2], roleAGrants[3], roleAGrants[4], roleAGrants[5]), []string{
			"foundation-model/*: a wildcard reaches models the config does not list; the role reaches 35 catalog models: ai21.jamba-1-5-large-v1:0 (us-east-1); amazon.nova-lite-v1:0 (us-east-1);",
			"allows invoking arn:aws:bedrock:us-east-1::foundation-model/probe.unlisted-model-v1:0, a model no policy names: a wildcard grant",
		}, nil, "in us-east-1 (ACME-GenAI-UseCaseA-AmazonTitan-InvokePolicy), which the config does not ask for", len(everyModel("us-east-1")) - 2},
		{"NotResource reaches every model but the excluded ones", func(t *testing.T, inv *Inventory) {
			d := role(t, inv, acctA, roleA).Policies[0].Document.(map[string]any)
			d["Statement"] = append(stmts(d), map[string]any{"Effect": "Allow", "Action": "bedrock:InvokeModel", "NotResource": "arn:aws:bedrock:*::foundation-model/a*"})
		}, nil, []string{
			"policy ACME-GenAI-UseCaseA-AmazonTitan-InvokePolicy allows every resource but arn:aws:bedrock:*::foundation-model/a*: a wildcard reaches models the config does not list; the role reaches",
			"a model no policy names", "a model no policy names", "a model no policy names", "a model no policy names", "a model no policy names", "a model no policy names", "a model no policy names", "a model no policy names", "a model no policy names",
		}, []string{"us.anthropic.claude-3-5-sonnet-20241022-v2:0 is granted in us-east-2 but bedrock:InvokeModel is not allowed"}, "(ACME-GenAI-UseCaseA-AmazonTitan-InvokePolicy), which the config does not ask for", 45},
		{"a profile whose destinations allow InvokeModel only keeps InvokeModel", func(t *testing.T, inv *Inventory) {
			stmt(role(t, inv, acctA, roleA).Policies[1].Document, "ViaUsAnthropicClaude35Sonnet20241022V20")["Action"] = []any{"bedrock:InvokeModel"}
		}, []string{
			"usecase-a us-east-1 amazon.titan-text-premier-v1:0 invoke+stream",
			"usecase-a us-east-1 anthropic.claude-3-sonnet-20240229-v1:0 invoke+stream",
			"usecase-a us-east-1 us.anthropic.claude-3-5-sonnet-20241022-v2:0 invoke",
			"usecase-a us-west-2 amazon.titan-text-premier-v1:0 invoke+stream",
			"usecase-a us-west-2 anthropic.claude-3-sonnet-20240229-v1:0 invoke+stream",
			"usecase-a us-west-2 us.anthropic.claude-3-5-sonnet-20241022-v2:0 invoke",
		}, nil, []string{
			"us.anthropic.claude-3-5-sonnet-20241022-v2:0 is granted in us-east-1 but bedrock:InvokeModelWithResponseStream is not allowed on arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20241022-v2:0, arn:aws:bedrock:us-east-2::foundation-model/anthropic.claude-3-5-sonnet-20241022-v2:0, arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-5-sonnet-20241022-v2:0: bedrock:InvokeModelWithResponseStream calls through the profile fail",
			"us.anthropic.claude-3-5-sonnet-20241022-v2:0 is granted in us-west-2 but bedrock:InvokeModelWithResponseStream",
		}, "", 0},
		{"a global profile needs the model in the source region and the region-less ARN only", func(t *testing.T, inv *Inventory) {
			g := "global.anthropic.claude-sonnet-4-5-20250929-v1:0"
			prof := "arn:aws:bedrock:us-east-1:" + acctA + ":inference-profile/" + g
			r := role(t, inv, acctA, roleA)
			r.Policies = append(r.Policies, &Policy{Name: "Global", Document: jsonDoc(t, `{"Statement":[
				{"Effect":"Allow","Action":["bedrock:InvokeModel","bedrock:InvokeModelWithResponseStream"],"Resource":"`+prof+`"},
				{"Effect":"Allow","Action":["bedrock:InvokeModel","bedrock:InvokeModelWithResponseStream"],"Resource":"arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0","Condition":{"StringLike":{"bedrock:InferenceProfileArn":"`+prof+`"}}},
				{"Effect":"Allow","Action":["bedrock:InvokeModel","bedrock:InvokeModelWithResponseStream"],"Resource":"arn:aws:bedrock:::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0","Condition":{"StringEquals":{"aws:RequestedRegion":"unspecified"},"StringLike":{"bedrock:InferenceProfileArn":"`+prof+`"}}}]}`)})
		}, append(slices.Clone(roleAGrants[:2]), append([]string{"usecase-a us-east-1 global.anthropic.claude-sonnet-4-5-20250929-v1:0 invoke+stream"}, roleAGrants[2:]...)...),
			[]string{"can invoke global.anthropic.claude-sonnet-4-5-20250929-v1:0 in us-east-1 (Global), which the config does not ask for"}, nil, "", 0},
		{"a profile's destinations depend on the region it is called from", func(t *testing.T, inv *Inventory) {
			h := "us.anthropic.claude-3-haiku-20240307-v1:0"
			prof := "arn:aws:bedrock:us-east-2:" + acctA + ":inference-profile/" + h
			r := role(t, inv, acctA, roleA)
			r.Policies = append(r.Policies, &Policy{Name: "Haiku", Document: jsonDoc(t, `{"Statement":[
				{"Effect":"Allow","Action":["bedrock:InvokeModel","bedrock:InvokeModelWithResponseStream"],"Resource":"`+prof+`"},
				{"Effect":"Allow","Action":["bedrock:InvokeModel","bedrock:InvokeModelWithResponseStream"],"Resource":["arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0","arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"],"Condition":{"StringEquals":{"bedrock:InferenceProfileArn":"`+prof+`"}}}]}`)})
		}, roleAGrants, nil, []string{
			"us.anthropic.claude-3-haiku-20240307-v1:0 is granted in us-east-2 but bedrock:InvokeModel is not allowed on arn:aws:bedrock:us-east-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
			"us.anthropic.claude-3-haiku-20240307-v1:0 is granted in us-east-2 but bedrock:InvokeModelWithResponseStream is not allowed on arn:aws:bedrock:us-east-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
		}, "", 0},
		{"an unresolved placeholder in a model resource is an indeterminate grant", func(t *testing.T, inv *Inventory) {
			d := role(t, inv, acctA, roleA).Policies[0].Document.(map[string]any)
			d["Statement"] = append(stmts(d), map[string]any{"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": "{{Imported.ModelArn}}"})
		}, nil, []string{"allows {{Imported.ModelArn}}, known only at deployment: a wildcard reaches models the config does not list; the role reaches 45 catalog models: ai21.jamba-1-5-large-v1:0 (every region);",
			"a model no policy names", "a model no policy names", "a model no policy names", "a model no policy names", "a model no policy names", "a model no policy names", "a model no policy names", "a model no policy names", "a model no policy names",
		}, nil, "may invoke", 129},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inv, e := probeEstate(t)
			tc.plant(t, inv)
			m := Review(inv, e)
			if tc.grants != nil {
				assert.ElementsMatch(t, tc.grants, grantsOf(m, acctA, roleA), "grants")
			}
			match := func(kind string, fs []Finding, want []string) {
				var got []string
				for _, f := range fs {
					got = append(got, f.Problem)
				}
				left := slices.Clone(got)
				for _, w := range want {
					i := slices.IndexFunc(left, func(g string) bool { return strings.Contains(g, w) })
					if assert.GreaterOrEqual(t, i, 0, "%s: no finding for %q in\n%s", kind, w, strings.Join(got, "\n")) {
						left = slices.Delete(left, i, i+1)
					}
				}
				if kind == "excess" && tc.extra != "" {
					n := 0
					for _, l := range left {
						if assert.Contains(t, l, tc.extra) {
							n++
						}
					}
					assert.Equal(t, tc.extraCount, n, "extra findings")
					return
				}
				assert.Empty(t, left, "%s: findings no row expects", kind)
			}
			match("excess", m.Excess, tc.excess)
			match("missing", m.Missing, tc.missing)
		})
	}
}

// The Null probe with the matrix's own principals: every subject of the
// estate reaches the role, which the matrix lists and reports.
func TestNullSubReachesEverySubject(t *testing.T) {
	inv, e := probeEstate(t)
	st := stmt(role(t, inv, acctA, roleA).Trust, "GatewayWebIdentity")
	st["Condition"] = map[string]any{"StringEquals": map[string]any{iss + ":aud": "genai-gateway"}, "Null": map[string]any{iss + ":sub": "false"}}
	m := Review(inv, e)
	subjects := map[string]bool{}
	for _, x := range m.Entries {
		if x.Account == acctA && x.Role == roleA {
			subjects[x.Principal.Subject] = true
		}
	}
	assert.Equal(t, map[string]bool{"usecase-a": true, "usecase-b": true, "usecase-c": true, "usecase-d": true, "usecase-d-batch": true}, subjects)
	var excess []string
	for _, f := range m.Excess {
		excess = append(excess, f.Problem)
	}
	assert.Contains(t, excess, "trust admits a token of any other subject: it is broader than the principals it lists")
	assert.Contains(t, strings.Join(excess, "\n"), "sub usecase-b (aud genai-gateway) can invoke amazon.titan-text-premier-v1:0 in us-east-1")
}

const kbTrust = `{"Statement":[{"Effect":"Allow","Principal":{"Service":"bedrock.amazonaws.com"},"Action":"sts:AssumeRole",
	"Condition":{"StringEquals":{"aws:SourceAccount":"666666666666"},"ArnLike":{"aws:SourceArn":"%s"}}}]}`

// A service role trusted under aws:SourceArn is assumed by the service for
// a resource of its own in the role's account.
func TestServiceRoles(t *testing.T) {
	embed := `{"Statement":[{"Effect":"Allow","Action":["bedrock:InvokeModel"],"Resource":"arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0"}]}`
	tests := []struct {
		name, sourceArn string
		want            []string
	}{
		{"the knowledge base role of the account", "arn:aws:bedrock:us-east-1:666666666666:knowledge-base/*", []string{"bedrock.amazonaws.com us-east-1 amazon.titan-embed-text-v2:0 invoke"}},
		{"any region of the account", "arn:aws:bedrock:*:666666666666:knowledge-base/*", []string{"bedrock.amazonaws.com us-east-1 amazon.titan-embed-text-v2:0 invoke"}},
		{"one knowledge base by id is still tried", "arn:aws:bedrock:us-east-1:666666666666:knowledge-base/KB12345", []string{"bedrock.amazonaws.com us-east-1 amazon.titan-embed-text-v2:0 invoke"}},
		{"knowledge bases of another account do not reach it", "arn:aws:bedrock:us-east-1:999999999999:knowledge-base/*", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &Role{Account: "666666666666", Region: "us-east-1", Name: "kb", Arn: "arn:aws:iam::666666666666:role/kb",
				Trust: jsonDoc(t, fmt.Sprintf(kbTrust, tc.sourceArn)), Policies: []*Policy{{Name: "KnowledgeBase", Document: jsonDoc(t, embed)}}}
			m := Evaluate(&Inventory{Roles: []*Role{r}, Accounts: []string{"666666666666"}}, Options{})
			assert.Equal(t, tc.want, grantsOf(m, "666666666666", "kb"))
		})
	}
}

// A role's PermissionsBoundary is read from the templates like its managed
// policies; one the templates do not hold is unknown.
func TestBoundaryFromAssembly(t *testing.T) {
	trust := jsonDoc(t, `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::555555555555:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x"}}}]}`)
	allowAll := jsonDoc(t, `{"Statement":[{"Effect":"Allow","Action":"bedrock:InvokeModel","Resource":["`+titanE1+`","arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0"]}]}`)
	onlyTitan := jsonDoc(t, `{"Statement":[{"Effect":"Allow","Action":"bedrock:*","Resource":"`+titanE1+`"}]}`)
	stack := func(boundary string) []*assembly.Stack {
		return []*assembly.Stack{{Name: "S", Account: "111111111111", Region: "us-east-1", Partition: "aws", Resources: map[string]assembly.Resource{
			"Role":     {Type: "AWS::IAM::Role", Properties: map[string]any{"RoleName": "R", "AssumeRolePolicyDocument": trust, "PermissionsBoundary": boundary, "Policies": []any{map[string]any{"PolicyName": "P", "PolicyDocument": allowAll}}}},
			"Boundary": {Type: "AWS::IAM::ManagedPolicy", Properties: map[string]any{"ManagedPolicyName": "B", "PolicyDocument": onlyTitan}},
		}}}
	}
	m := Evaluate(FromAssembly(stack("arn:aws:iam::111111111111:policy/B"), "t"), Options{})
	assert.Equal(t, []string{"x us-east-1 amazon.titan-text-premier-v1:0 invoke"}, grantsOf(m, "111111111111", "R"))
	m = Evaluate(FromAssembly(stack("arn:aws:iam::111111111111:policy/Elsewhere"), "t"), Options{})
	assert.Equal(t, []string{"x us-east-1 amazon.nova-pro-v1:0 invoke indeterminate", "x us-east-1 amazon.titan-text-premier-v1:0 invoke indeterminate"}, grantsOf(m, "111111111111", "R"))
	_ = estate.InvokeActions
}
