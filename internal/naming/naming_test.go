package naming

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The seeds' own examples, each with the fields it must parse to.
func TestSeedExamplesParse(t *testing.T) {
	roles := []struct {
		name string
		want Role
	}{
		{"ACME-GenAI-UseCaseA-BedrockInvokeRole", Role{"ACME", "GenAI", "UseCaseA", "BedrockInvoke"}},
		{"ACME-GenAI-Marketing-BedrockInvokeRole", Role{"ACME", "GenAI", "Marketing", "BedrockInvoke"}},
		{"ACME-GenAIGateway-Analytics-ModelAccessRole", Role{"ACME", "GenAIGateway", "Analytics", "ModelAccess"}},
	}
	for _, tc := range roles {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRole(tc.name)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.name, got.String())
		})
	}
	policies := []struct {
		name string
		want Policy
	}{
		{"ACME-GenAI-UseCaseA-Anthropic-InvokePolicy", Policy{"ACME", "GenAI", "UseCaseA", "Anthropic", "Invoke", 0}},
		{"ACME-GenAI-UseCaseA-AmazonTitan-InvokePolicy", Policy{"ACME", "GenAI", "UseCaseA", "AmazonTitan", "Invoke", 0}},
		{"ACME-GenAI-Analytics-MultiModel-InvokePolicy", Policy{"ACME", "GenAI", "Analytics", "MultiModel", "Invoke", 0}},
		{"ACME-GenAI-Analytics-Meta-InvokePolicy-3", Policy{"ACME", "GenAI", "Analytics", "Meta", "Invoke", 3}},
	}
	for _, tc := range policies {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePolicy(tc.name)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.name, got.String())
		})
	}
	tp, err := ParseTrustPolicy("ACME-GenAI-Marketing-TrustPolicy")
	require.NoError(t, err)
	assert.Equal(t, TrustPolicy{"ACME", "GenAI", "Marketing"}, tp)
	idp, err := ParseIdP("ACME-IdP-AzureAD")
	require.NoError(t, err)
	assert.Equal(t, IdP{"ACME", "AzureAD"}, idp)
	tr, err := ParseTaskRole("ACME-GenAIGateway-TaskRole")
	require.NoError(t, err)
	assert.Equal(t, TaskRole{"ACME"}, tr)
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		kind, name string
		parse      func(string) error
	}{
		{"role", "ACME-GenAI-Use_Case-BedrockInvokeRole", func(s string) error { _, err := ParseRole(s); return err }},
		{"role", "ACME-GenAI-UseCaseA-BedrockInvoke", func(s string) error { _, err := ParseRole(s); return err }},
		{"role", "ACME-GenAI-UseCaseA-Role", func(s string) error { _, err := ParseRole(s); return err }},
		{"role", "ACME-GenAIGateway-TaskRole", func(s string) error { _, err := ParseRole(s); return err }},
		{"policy", "ACME-GenAI-UseCaseA-Anthropic-InvokePolicy-1", func(s string) error { _, err := ParsePolicy(s); return err }},
		{"policy", "ACME-GenAI-UseCaseA-Anthropic-InvokePolicy-02", func(s string) error { _, err := ParsePolicy(s); return err }},
		{"policy", "ACME-GenAI-UseCaseA-InvokePolicy", func(s string) error { _, err := ParsePolicy(s); return err }},
		{"trust", "ACME-GenAI-UseCaseA-Trust", func(s string) error { _, err := ParseTrustPolicy(s); return err }},
		{"idp", "ACME-OIDC-Okta", func(s string) error { _, err := ParseIdP(s); return err }},
		{"task", "ACME-GenAI-TaskRole", func(s string) error { _, err := ParseTaskRole(s); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.kind+"/"+tc.name, func(t *testing.T) {
			assert.Error(t, tc.parse(tc.name))
		})
	}
}

func TestLengthLimits(t *testing.T) {
	long := "UseCase" + strings.Repeat("X", 40)
	err := Role{"ACME", "GenAI", long, "BedrockInvoke"}.Validate()
	var le *LengthError
	require.True(t, errors.As(err, &le), "want a LengthError, got %v", err)
	assert.Equal(t, MaxRoleName, le.Limit)
	assert.Equal(t, len("ACME-GenAI-"+long+"-BedrockInvokeRole")-64, le.Over())
	assert.Contains(t, err.Error(), "over IAM's limit of 64")

	// Exactly at the limit is fine.
	subject := "U" + strings.Repeat("x", 64-len("ACME-GenAI--BedrockInvokeRole")-1)
	require.NoError(t, Role{"ACME", "GenAI", subject, "BedrockInvoke"}.Validate())

	err = Policy{"ACME", "GenAI", "U" + strings.Repeat("x", 120), "Anthropic", "Invoke", 0}.Validate()
	require.True(t, errors.As(err, &le))
	assert.Equal(t, MaxPolicyName, le.Limit)
}

func FuzzRoleRoundTrip(f *testing.F) {
	f.Add("ACME", "GenAI", "UseCaseA", "BedrockInvoke")
	f.Add("A", "B", "C", "RoleRole")
	f.Fuzz(func(t *testing.T, org, layer, subject, capability string) {
		r := Role{org, layer, subject, capability}
		if r.Validate() == nil {
			got, err := ParseRole(r.String())
			if err != nil || got != r {
				t.Fatalf("parse(format(%#v)) = %#v, %v", r, got, err)
			}
		}
		// Any string that parses must format back to itself.
		s := org + "-" + layer + "-" + subject + "-" + capability
		if p, err := ParseRole(s); err == nil && p.String() != s {
			t.Fatalf("format(parse(%q)) = %q", s, p.String())
		}
	})
}

func FuzzPolicyRoundTrip(f *testing.F) {
	f.Add("ACME", "GenAI", "UseCaseA", "Anthropic", "Invoke", 0)
	f.Add("ACME", "GenAI", "Analytics", "MultiModel", "Invoke", 7)
	f.Fuzz(func(t *testing.T, org, layer, subject, provider, typ string, part int) {
		p := Policy{org, layer, subject, provider, typ, part}
		if p.Validate() == nil {
			got, err := ParsePolicy(p.String())
			if p.Part == 0 || p.Part == 1 {
				p.Part = 0
			}
			if err != nil || got != p {
				t.Fatalf("parse(format(%#v)) = %#v, %v", p, got, err)
			}
		}
		s := org + "-" + layer + "-" + subject + "-" + provider + "-" + typ
		if q, err := ParsePolicy(s); err == nil && q.String() != s {
			t.Fatalf("format(parse(%q)) = %q", s, q.String())
		}
	})
}

func FuzzOtherPatternsRoundTrip(f *testing.F) {
	f.Add("ACME", "GenAI", "Marketing")
	f.Fuzz(func(t *testing.T, org, layer, subject string) {
		tp := TrustPolicy{org, layer, subject}
		if tp.Validate() == nil {
			got, err := ParseTrustPolicy(tp.String())
			if err != nil || got != tp {
				t.Fatalf("trust: %#v -> %#v, %v", tp, got, err)
			}
		}
		idp := IdP{org, subject}
		if idp.Validate() == nil {
			got, err := ParseIdP(idp.String())
			if err != nil || got != idp {
				t.Fatalf("idp: %#v -> %#v, %v", idp, got, err)
			}
		}
		tr := TaskRole{org}
		if tr.Validate() == nil {
			got, err := ParseTaskRole(tr.String())
			if err != nil || got != tr {
				t.Fatalf("task role: %#v -> %#v, %v", tr, got, err)
			}
		}
	})
}
