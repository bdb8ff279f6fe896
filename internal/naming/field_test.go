package naming

import (
	"regexp"
	"testing"
)

// ValidField is a byte loop; it must accept exactly what FieldPattern does.
func TestValidFieldIsFieldPattern(t *testing.T) {
	re := regexp.MustCompile(FieldPattern)
	cases := []string{"", "A", "a", "Z9", "UseCase001", "9a", "a-b", "a_b", "a b", "é", "aé", "a\n", "\na", "ACME", "x0y1", "[", "`", "@", "{"}
	for c := 0; c < 256; c++ {
		cases = append(cases, string(rune(c)), "a"+string([]byte{byte(c)}), string([]byte{byte(c)})+"a")
	}
	for _, s := range cases {
		if got, want := ValidField(s), re.MatchString(s); got != want {
			t.Errorf("ValidField(%q) = %v, FieldPattern says %v", s, got, want)
		}
	}
}
