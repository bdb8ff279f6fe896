package field

import "testing"

func TestPathString(t *testing.T) {
	tests := []struct {
		p    *Path
		want string
	}{
		{nil, ""},
		{NewPath("org"), "org"},
		{NewPath("central").Child("gateway").Child("cpu"), "central.gateway.cpu"},
		{NewPath("central", "gateway", "cpu"), "central.gateway.cpu"},
		{NewPath("useCases").Index(2).Child("access").Index(0).Child("models").Index(1), "useCases[2].access[0].models[1]"},
		{NewPath("tags").Key("aws:owner"), "tags.aws:owner"},
		{NewPath("useCases").Index(3).Parent(), "useCases"},
		{(*Path)(nil).Index(12), "[12]"},
		{NewPath("useCases").Index(19999).Child("quota", "tokensPerMinute"), "useCases[19999].quota.tokensPerMinute"},
		{NewPath("tags").Key(""), "tags."},
		{NewPath("a").Index(-1).Index(0), "a[-1][0]"},
	}
	for _, tc := range tests {
		if got := tc.p.String(); got != tc.want || tc.p.Len() != len(tc.want) {
			t.Errorf("got %q (length %d), want %q", got, tc.p.Len(), tc.want)
		}
		if got := string(tc.p.AppendTo([]byte("x"))); got != "x"+tc.want {
			t.Errorf("AppendTo: got %q, want %q", got, "x"+tc.want)
		}
	}
}
