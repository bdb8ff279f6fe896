package estate

import (
	"syscall"
	"testing"
	"time"

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
	start := cpuTime()
	for b.Loop() {
		if _, err := Build(c); err != nil {
			b.Fatal(err)
		}
	}
	// On a shared machine wall time misleads; CPU time does not.
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N)/1e9, "cpu-s/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// go test ./internal/estate -run XXX -bench Ceiling -benchtime 3x : the plan
// at the ceiling the issue measured, 1,000 accounts x 1,000 use cases.
func BenchmarkBuildCeiling(b *testing.B) {
	c, err := config.Parse("ceiling.yaml", fixture.Large(1000, 1000))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := cpuTime()
	for b.Loop() {
		if _, err := Build(c); err != nil {
			b.Fatal(err)
		}
	}
	// On a shared machine wall time misleads; CPU time does not.
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N)/1e9, "cpu-s/op")
}
