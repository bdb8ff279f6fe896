package naming

import (
	"errors"
	"strings"
	"testing"
)

func TestAppProfile(t *testing.T) {
	for _, tc := range []struct {
		name                          string
		org, layer, subject, provider string
		model                         string
		want                          string // "" when invalid
		tooLong                       bool
	}{
		{"foundation model", "ACME", "GenAI", "UseCaseA", "Anthropic", "anthropic.claude-3-sonnet-20240229-v1:0", "ACME-GenAI-UseCaseA-Anthropic_" + ModelHash("anthropic.claude-3-sonnet-20240229-v1:0"), false},
		{"system profile", "ACME", "GenAI", "Analytics", "Anthropic", "us.anthropic.claude-3-haiku-20240307-v1:0", "ACME-GenAI-Analytics-Anthropic_" + ModelHash("us.anthropic.claude-3-haiku-20240307-v1:0"), false},
		{"too long", "ACME", "GenAI", strings.Repeat("U", 40), "Anthropic", "m", "", true},
		{"bad subject", "ACME", "GenAI", "use-case", "Anthropic", "m", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := NewAppProfile(tc.org, tc.layer, tc.subject, tc.provider, tc.model)
			err := p.Validate()
			if tc.want == "" {
				var le *LengthError
				if err == nil || errors.As(err, &le) != tc.tooLong {
					t.Fatalf("Validate() = %v, want an error (length: %v)", err, tc.tooLong)
				}
				return
			}
			if err != nil || p.String() != tc.want {
				t.Fatalf("got %q, %v; want %q", p, err, tc.want)
			}
			back, err := ParseAppProfile(p.String())
			if err != nil || back != p {
				t.Fatalf("round trip: %+v, %v; want %+v", back, err, p)
			}
		})
	}
	for _, bad := range []string{"ACME-GenAI-UseCaseA-Anthropic", "ACME-GenAI-UseCaseA-Anthropic_xyz", "ACME-GenAI-Use-Case-Anthropic_0123abcd", "ACME-GenAI-UseCaseA-Anthropic_0123ABCD"} {
		if _, err := ParseAppProfile(bad); err == nil {
			t.Errorf("ParseAppProfile(%q) accepted it", bad)
		}
	}
	if h := ModelHash("anthropic.claude-3-sonnet-20240229-v1:0"); len(h) != 8 || h == ModelHash("anthropic.claude-3-haiku-20240307-v1:0") {
		t.Errorf("ModelHash %q: want 8 hex digits that differ between models", h)
	}
}
