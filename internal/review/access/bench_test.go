package access

import (
	"testing"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/estate"
	"github.com/acme/genai-estate/internal/fixture"
)

// go test ./access -run XXX -bench . -benchmem : the whole matrix of a large
// estate (20 accounts, 400 use cases, 40 domains: about 2,040 roles), no node process.
func BenchmarkReviewLargeEstate(b *testing.B) {
	c, err := config.Parse("large.yaml", fixture.Large(20, 400))
	if err != nil {
		b.Fatal(err)
	}
	e, err := estate.Build(c)
	if err != nil {
		b.Fatal(err)
	}
	inv := FromEstate(e, "large.yaml")
	b.ResetTimer()
	for b.Loop() {
		m := Review(inv, e)
		if len(m.Excess)+len(m.Missing) > 0 {
			b.Fatalf("unexpected findings: %v %v", m.Excess, m.Missing)
		}
	}
}
