package access

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/estate"
)

func example(t *testing.T) (*Inventory, *estate.Estate) {
	t.Helper()
	// The planted defects edit direct grants; the example's profile grants
	// are reviewed in governance_test.go.
	data, err := os.ReadFile("../../../config/usecases.yaml")
	require.NoError(t, err)
	c, err := config.Parse("../../../config/usecases.yaml", []byte(strings.Replace(string(data), "costAttribution: profiles", "costAttribution: direct", 1)))
	require.NoError(t, err)
	e, err := estate.Build(c)
	require.NoError(t, err)
	return FromEstate(e, c.File), e
}

func role(t *testing.T, inv *Inventory, account, name string) *Role {
	for _, r := range inv.Roles {
		if r.Account == account && r.Name == name {
			return r
		}
	}
	t.Fatalf("no role %s in %s", name, account)
	return nil
}

func stmts(doc any) []any { return doc.(map[string]any)["Statement"].([]any) }

func stmt(doc any, sid string) map[string]any {
	for _, s := range stmts(doc) {
		if m := s.(map[string]any); m["Sid"] == sid {
			return m
		}
	}
	panic("no statement " + sid)
}

const (
	acctA  = "222222222222"
	acctB  = "333333333333"
	roleA  = "ACME-GenAI-UseCaseA-BedrockInvokeRole"
	vendor = "ACME-GenAI-EvalPartner-BedrockInvokeRole"
	iss    = "acme.okta.com/oauth2/default"
)

// Each row plants one defect in the example's generated documents and
// expects the matrix to report it; the first row plants none.
func TestFindings(t *testing.T) {
	tests := []struct {
		name    string
		plant   func(t *testing.T, inv *Inventory)
		excess  string // substring of the one expected excess finding
		missing string // substring of the one expected missing finding
	}{
		{"the example is exact", func(t *testing.T, inv *Inventory) {}, "", ""},
		{"a wildcard subject admits any token", func(t *testing.T, inv *Inventory) {
			st := stmt(role(t, inv, acctA, roleA).Trust, "GatewayWebIdentity")
			st["Condition"] = map[string]any{"StringEquals": map[string]any{iss + ":aud": "genai-gateway"}, "StringLike": map[string]any{iss + ":sub": "*"}}
		}, "trust admits a token of any other subject", ""},
		{"a trust without aud admits another audience", func(t *testing.T, inv *Inventory) {
			st := stmt(role(t, inv, acctA, roleA).Trust, "GatewayWebIdentity")
			delete(st["Condition"].(map[string]any)["StringEquals"].(map[string]any), iss+":aud")
		}, "a token of another audience", ""},
		{"a vendor trust without external id", func(t *testing.T, inv *Inventory) {
			delete(stmt(role(t, inv, acctB, vendor).Trust, "VendorWithExternalId"), "Condition")
		}, "without an external id", ""},
		{"a model wildcard in a resource", func(t *testing.T, inv *Inventory) {
			st := stmt(role(t, inv, acctA, roleA).Policies[0].Document, "InvokeFoundationModels")
			st["Resource"] = []any{"arn:aws:bedrock:us-east-1::foundation-model/*", "arn:aws:bedrock:us-west-2::foundation-model/amazon.titan-text-premier-v1:0", "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-premier-v1:0"}
		}, "foundation-model/*: a wildcard", ""},
		{"bedrock:* reaches beyond invoking", func(t *testing.T, inv *Inventory) {
			stmt(role(t, inv, acctA, roleA).Policies[0].Document, "InvokeFoundationModels")["Action"] = "bedrock:*"
		}, "allows bedrock:CreateModelCustomizationJob", ""},
		{"a model the config does not list", func(t *testing.T, inv *Inventory) {
			st := stmt(role(t, inv, acctA, roleA).Policies[0].Document, "InvokeFoundationModels")
			st["Resource"] = append(st["Resource"].([]any), "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0")
		}, "can invoke amazon.nova-pro-v1:0 in us-east-1", ""},
		{"a destination model callable without the profile", func(t *testing.T, inv *Inventory) {
			delete(stmt(role(t, inv, acctA, roleA).Policies[1].Document, "ViaUsAnthropicClaude35Sonnet20241022V20"), "Condition")
		}, "anthropic.claude-3-5-sonnet-20241022-v2:0 in us-east-2", ""},
		{"an explicit deny wins", func(t *testing.T, inv *Inventory) {
			d := role(t, inv, acctA, roleA).Policies[0].Document.(map[string]any)
			d["Statement"] = append(stmts(d), map[string]any{"Effect": "Deny", "Action": "bedrock:Invoke*", "Resource": "arn:aws:bedrock:us-west-2::foundation-model/amazon.titan-text-premier-v1:0"})
		}, "", "amazon.titan-text-premier-v1:0 in us-west-2, but the estate does not"},
		{"a profile without its destination models fails", func(t *testing.T, inv *Inventory) {
			d := role(t, inv, acctA, roleA).Policies[1].Document.(map[string]any)
			d["Statement"] = stmts(d)[:2]
		}, "", "calls through the profile fail"},
		{"a provider of another account never matches", func(t *testing.T, inv *Inventory) {
			stmt(role(t, inv, acctB, "ACME-GenAI-UseCaseC-BedrockInvokeRole").Trust, "GatewayWebIdentity")["Principal"] = map[string]any{"Federated": "arn:aws:iam::111111111111:oidc-provider/" + iss}
		}, "", "the config grants sub usecase-c (aud genai-gateway) amazon.titan-text-express-v1"},
		{"an AWS managed policy is not evaluated", func(t *testing.T, inv *Inventory) {
			r := role(t, inv, acctA, roleA)
			r.Policies = append(r.Policies, &Policy{Name: "AmazonBedrockFullAccess", AWSManaged: true})
		}, "AWS managed policy AmazonBedrockFullAccess", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inv, e := example(t)
			tc.plant(t, inv)
			m := Review(inv, e)
			check := func(kind string, fs []Finding, want string) {
				if want == "" {
					assert.Empty(t, fs, kind)
					return
				}
				require.NotEmpty(t, fs, kind)
				var all []string
				for _, f := range fs {
					all = append(all, f.Problem)
				}
				assert.Contains(t, strings.Join(all, "\n"), want, kind)
			}
			check("excess", m.Excess, tc.excess)
			check("missing", m.Missing, tc.missing)
		})
	}
}

func TestEntriesNamePrincipalsAndAccounts(t *testing.T) {
	inv, e := example(t)
	m := Review(inv, e)
	require.NotEmpty(t, m.Entries)
	for _, x := range m.Entries {
		assert.NotEmpty(t, x.Principal.Name, x.Key())
		assert.NotEmpty(t, x.AccountName, x.Key())
		assert.NotEmpty(t, x.Policies, x.Key())
		assert.Equal(t, estate.InvokeActions, x.Actions, x.Key())
	}
	var md strings.Builder
	m.Markdown(&md)
	assert.Contains(t, md.String(), "| `usecase-a` | `genai-gateway` | UseCaseA | SharedModelsA (222222222222) | `ACME-GenAI-UseCaseA-BedrockInvokeRole` | us-east-1 |")
	assert.Contains(t, md.String(), "Nothing grants more than the config asks for.")
}

// Without a config, the templates alone still give the matrix, and probes
// still find over-broad trusts.
func TestEvaluateWithoutConfig(t *testing.T) {
	inv, _ := example(t)
	m := Evaluate(inv, Options{})
	assert.Len(t, m.Entries, 25, "24 subject grants and 1 vendor grant")
	assert.Empty(t, m.Excess)
	assert.Equal(t, "", m.Entries[0].Principal.Name)
}

// A cdk.out synthesized for some accounts is compared in those accounts only.
func TestAccountsNotRead(t *testing.T) {
	inv, e := example(t)
	var kept []*Role
	for _, r := range inv.Roles {
		if r.Account == acctA {
			kept = append(kept, r)
		}
	}
	inv.Roles, inv.Accounts = kept, []string{acctA}
	m := Review(inv, e)
	assert.Empty(t, m.Missing)
	assert.Equal(t, []string{"SharedModelsB (333333333333)", "SharedModelsC (444444444444)"}, m.NotRead)
	var md strings.Builder
	m.Markdown(&md)
	assert.Contains(t, md.String(), "Not compared, as no stack of theirs was read: SharedModelsB (333333333333), SharedModelsC (444444444444).")
	assert.Contains(t, md.String(), "2 principals, 2 roles, 7 grants; 0 beyond the config, 0 missing.")
}
