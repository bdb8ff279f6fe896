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
	}
	for _, tc := range tests {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}
