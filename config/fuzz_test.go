package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/estate"
)

// FuzzLoad feeds arbitrary bytes through everything validate does: load,
// validate and plan. It fails on a panic, on a run over a few seconds, and
// on a diagnostic without a location. Seeds: every config under testdata
// and the example, plus testdata/fuzz/FuzzLoad.
//
//	go test ./config -run XXX -fuzz FuzzLoad -fuzztime 30s
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/*.yaml")
	seeds = append(seeds, "usecases.yaml")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		c, err := config.Parse("fuzz.yaml", data)
		if err == nil {
			_, err = estate.Build(c)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("took %v on %d bytes", d, len(data))
		}
		if err == nil {
			return
		}
		var list config.ErrorList
		if !errors.As(err, &list) {
			t.Fatalf("not an ErrorList: %T %v", err, err)
		}
		if errs, _ := list.Count(); errs == 0 {
			t.Fatalf("an error without errors: %v", err)
		}
		for _, e := range list {
			if e.File != "fuzz.yaml" || e.Line < 1 || e.Column < 1 || e.Problem == "" || e.Fix == "" {
				t.Fatalf("diagnostic without location or fix: %#v", e)
			}
		}
	})
}
