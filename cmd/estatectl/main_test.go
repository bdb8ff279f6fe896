package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/fixture"
)

func TestRun(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	data, err := os.ReadFile("../../config/usecases.yaml")
	assert.NoError(t, err)
	assert.NoError(t, os.WriteFile(bad, []byte(strings.Replace(string(data), "layer: GenAI", "layr: GenAI", 1)), 0o644))
	line := strings.Count(string(data[:bytes.Index(data, []byte("layer: GenAI"))]), "\n") + 1
	gain := filepath.Join(t.TempDir(), "gain.yaml")
	assert.NoError(t, os.WriteFile(gain, []byte(strings.Replace(string(data), "models: [meta.llama3-70b-instruct-v1:0]", "models: [meta.llama3-70b-instruct-v1:0, meta.llama3-8b-instruct-v1:0]", 1)), 0o644))
	const example = "../../config/usecases.yaml"
	const warn = "../../config/testdata/valid/gateway-open-to-the-internet.yaml"

	tests := []struct {
		name     string
		args     []string
		code     int
		out, err string
	}{
		{"example is valid", []string{"validate", "-c", "../../config/usecases.yaml"}, 0, "ok: 3 model accounts, 8 roles, ", "warning: vendors[0].principal"},
		{"located error", []string{"validate", "-c", bad}, 1, "", bad + ":" + strconv.Itoa(line) + ":1: layr: unknown field \"layr\"\n    fix: did you mean \"layer\"?"},
		{"missing file", []string{"validate", "-c", "nope.yaml"}, 1, "", "nope.yaml"},
		{"schema", []string{"schema"}, 0, `"additionalProperties": false`, ""},
		{"no command", nil, 2, "", "usage:"},
		{"unknown command", []string{"vaildate"}, 2, "", `unknown command "vaildate"`},
		{"stray argument", []string{"validate", "x.yaml"}, 2, "", "usage:"},
		{"matrix of a config's plan", []string{"matrix", example}, 0, "Nothing grants more than the config asks for.", ""},
		{"matrix as JSON", []string{"matrix", "-json", example}, 0, `"subject": "usecase-d-batch"`, ""},
		{"matrix without cdk.out", []string{"matrix", "-c", example, "no-such-dir"}, 1, "", "npx cdk synth"},
		{"matrix of an invalid config", []string{"matrix", bad}, 1, "", "did you mean \"layer\"?"},
		{"matrix fail-on needs a known condition", []string{"matrix", "-fail-on", "everything", example}, 2, "", `unknown condition "everything"`},
		{"plan of no change", []string{"plan", "-base", example, "-head", example, "-fail-on", "broadening,replacement"}, 0, "**0 grants gained, 0 lost; no role or policy changes**", ""},
		{"plan of a gained model", []string{"plan", "-base", example, "-head", gain}, 0, "| sub usecase-b (aud genai-gateway) | UseCaseB | SharedModelsA (222222222222) | us-east-1 | `meta.llama3-8b-instruct-v1:0` |", ""},
		{"plan fails on broadening when asked", []string{"plan", "-base", example, "-head", gain, "-fail-on", "broadening"}, 3, "1 grant gained", "broadening: 1 grants gained"},
		{"plan does not fail on a replacement it did not find", []string{"plan", "-base", example, "-head", gain, "-fail-on", "replacement"}, 0, "", ""},
		{"plan as JSON", []string{"plan", "-json", "-base", example, "-head", gain}, 0, `"model": "meta.llama3-8b-instruct-v1:0"`, ""},
		{"plan -o json", []string{"plan", "-o", "json", "-base", example, "-head", gain}, 0, `"model": "meta.llama3-8b-instruct-v1:0"`, ""},
		{"plan rejects an unknown format", []string{"plan", "-o", "yaml", "-base", example, "-head", gain}, 2, "", `-o "yaml": use text or json`},
		{"plan needs both sides", []string{"plan", "-base", example}, 2, "", "plan needs -base and -head"},
		{"diagram", []string{"diagram", example}, 0, "```mermaid\nflowchart LR\n", ""},
		{"diagram detail is checked", []string{"diagram", "-detail", "some", example}, 2, "", `"some" is not auto, full or summary`},
		{"-h", []string{"-h"}, 0, "usage:", ""},
		{"--help", []string{"--help"}, 0, "usage:", ""},
		{"help", []string{"help"}, 0, "usage:", ""},
		{"help of a command", []string{"validate", "--help"}, 0, "usage:", ""},
		{"--version", []string{"--version"}, 0, "estatectl ", ""},
		{"version", []string{"version"}, 0, "(go1.", ""},
		{"flags after the argument", []string{"matrix", example, "-json"}, 0, `"subject": "usecase-d-batch"`, ""},
		{"matrix -o json", []string{"matrix", "-o", "json", example}, 0, `"subject": "usecase-d-batch"`, ""},
		{"-o is checked", []string{"validate", "-o", "yaml", "-c", example}, 2, "", `-o "yaml": use text or json`},
		{"validate as JSON", []string{"validate", "-json", "-c", example}, 0, `"valid": true`, ""},
		{"validate -o json of an invalid config", []string{"validate", "-c", bad, "-o", "json"}, 1, `"kind": "unknown"`, ""},
		{"warnings do not fail validate", []string{"validate", "-c", warn}, 0, "ok: 1 model accounts, 1 roles, 1 managed policies (2 warnings)", "warning: central.gateway.allowPlainHttp"},
		{"warnings in JSON", []string{"validate", "-json", "-c", warn}, 0, `"severity": "warning"`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			assert.Equal(t, tc.code, run(tc.args, &out, &errb))
			assert.Contains(t, out.String(), tc.out)
			assert.Contains(t, errb.String(), tc.err)
		})
	}
}

// The editor-facing schema must be the one generated from the Go types.
func TestSchemaIsCurrent(t *testing.T) {
	var out bytes.Buffer
	run([]string{"schema"}, &out, &out)
	checked, err := os.ReadFile("../../config/config.schema.json")
	assert.NoError(t, err)
	assert.Equal(t, string(checked), out.String(), "stale: go run ./cmd/estatectl schema > config/config.schema.json")
}

// The schema accepts the example estate and rejects what the loader rejects.
func TestSchemaValidates(t *testing.T) {
	c := jsonschema.NewCompiler()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(config.Schema()))
	require.NoError(t, err)
	require.NoError(t, c.AddResource("config.schema.json", doc))
	sch, err := c.Compile("config.schema.json")
	require.NoError(t, err)

	data, err := os.ReadFile("../../config/usecases.yaml")
	require.NoError(t, err)
	tests := []struct {
		name  string
		yaml  string
		valid bool
	}{
		{"example", string(data), true},
		{"misspelled key", strings.Replace(string(data), "layer: GenAI", "layr: GenAI", 1), false},
		{"unquoted account", strings.Replace(string(data), `account: "222222222222"`, `account: 222222222222`, 1), false},
		{"unknown region", strings.Replace(string(data), "regions: [us-east-1, us-west-2]", "regions: [us-east-1, us-wset-2]", 1), false},
		{"bad layout", strings.Replace(string(data), "policyLayout: multiModel", "policyLayout: multimodel", 1), false},
	}
	tests = append(tests, agreement(t, string(data))...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.valid {
				require.NotEqual(t, string(data), tc.yaml, "the fixture must change the example")
			}
			var v any
			require.NoError(t, yaml.Unmarshal([]byte(tc.yaml), &v))
			j, err := json.Marshal(v)
			require.NoError(t, err)
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
			require.NoError(t, err)
			err = sch.Validate(inst)
			if tc.valid {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
			// The loader agrees with the schema.
			_, err = config.Parse("estate.yaml", []byte(tc.yaml))
			assert.Equal(t, tc.valid, err == nil, "loader: %v", err)
		})
	}
}

// go test ./cmd/estatectl -bench Validate : what one editor keystroke costs.
func BenchmarkValidateExample(b *testing.B) {
	start := cpuTime()
	for b.Loop() {
		if run([]string{"validate", "-c", "../../config/usecases.yaml"}, io.Discard, io.Discard) != 0 {
			b.Fatal("invalid")
		}
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N)/1e9, "cpu-s/op")
}

// agreement: the cases where the schema and the loader once disagreed
// (issue 11). Both take them from the same struct tags now.
func agreement(t *testing.T, example string) []struct {
	name  string
	yaml  string
	valid bool
} {
	replace := func(old, new string) string {
		require.Contains(t, example, old)
		return strings.Replace(example, old, new, 1)
	}
	i := strings.Index(example, "\nuseCases:")
	j := strings.Index(example, "\ngroups:")
	require.True(t, i > 0 && j > i, "the example lists useCases before groups")
	return []struct {
		name  string
		yaml  string
		valid bool
	}{
		{"hyphen in modelAccounts[].name", strings.ReplaceAll(example, "SharedModelsA", "Shared-Models-A"), false},
		{"hyphen in identityProvider.name", replace("name: Okta", "name: Okta-Prod"), false},
		{"cpu 1000", replace("cpu: 1024", "cpu: 1000"), false},
		{"missing useCases", example[:i+1] + example[j+1:], false},
	}
}

// go test ./cmd/estatectl -run XXX -bench Large : validate scales linearly
// (the README gives the figures; the target for 20,000 use cases is 2 s).
func BenchmarkValidateLarge(b *testing.B) {
	for _, n := range []int{2000, 20000} {
		b.Run(strconv.Itoa(n)+"UseCases", func(b *testing.B) {
			// One account per 100 use cases keeps every account within its
			// role and policy quotas; 10 stacks each hold their share.
			data := strings.ReplaceAll(string(fixture.Large(n/100, n)), "stackShards: 4", "stackShards: 10")
			path := filepath.Join(b.TempDir(), "large.yaml")
			if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
				b.Fatal(err)
			}
			start := cpuTime()
			for b.Loop() {
				var errb bytes.Buffer
				if code := run([]string{"validate", "-c", path}, io.Discard, &errb); code != 0 {
					b.Fatal(errb.String())
				}
			}
			// On a shared machine wall time misleads; CPU time does not.
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N)/1e9, "cpu-s/op")
		})
	}
}

// cpuTime is the process's user and system time, in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}
