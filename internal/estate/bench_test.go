package estate

import (
	"testing"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/fixture"
)

func largeConfig(b *testing.B) *config.Config {
	c, err := config.Parse("large.yaml", fixture.Large(20, 400))
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// go test ./estate -bench . -benchmem : the whole plan of a large estate, no node process.
func BenchmarkBuildLargeEstate(b *testing.B) {
	c := largeConfig(b)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Build(c); err != nil {
			b.Fatal(err)
		}
	}
}
