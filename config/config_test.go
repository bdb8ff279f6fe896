package config

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/genai-estate/internal/fixture"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/errors and testdata/valid")

const base = `org: ACME
layer: GenAI
identityProvider: {name: Okta, issuerUrl: "https://acme.okta.com/oauth2/default", audiences: [genai-gateway]}
central: {account: "111111111111", region: us-east-1}
modelAccounts:
  - {name: SharedModelsA, account: "222222222222", regions: [us-east-1, us-west-2]}
useCases:
  - name: UseCaseA
    subjects: [usecase-a]
    access:
      - {account: SharedModelsA, models: [anthropic.claude-3-haiku-20240307-v1:0]}
`

func TestExampleEstateLoads(t *testing.T) {
	c, err := Load("usecases.yaml")
	require.NoError(t, err)
	assert.Equal(t, "ACME", c.Org)
	assert.Len(t, c.ModelAccounts, 3)
	assert.Len(t, c.UseCases, 4)
	assert.Len(t, c.Groups, 2)
	assert.Len(t, c.Vendors, 1)
	// The example's vendor is trusted as a whole account, which validate
	// flags; its role ARN is the vendor's to give.
	require.Len(t, c.Warnings, 1, "%v", c.Warnings)
	assert.Equal(t, "vendors[0].principal", c.Warnings[0].Path)
}

// golden compares got with the file, or rewrites it under -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "no golden file: go test ./config -update")
	assert.Equal(t, string(want), got, "go test ./config -update rewrites %s", path)
}

// Each testdata/errors/<case>.yaml holds one mistake. It must give exactly
// one error (one root cause, one error), located and with a fix; the whole
// output, warnings included, is <case>.golden.
func TestErrorCases(t *testing.T) {
	files, err := filepath.Glob("testdata/errors/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			_, err := Load(file)
			require.Error(t, err)
			list, ok := err.(ErrorList)
			require.True(t, ok, "want an ErrorList, got %T", err)
			errs, _ := list.Count()
			assert.Equal(t, 1, errs, "%v", err)
			for _, e := range list {
				assert.Equal(t, file, e.File)
				assert.Positive(t, e.Line, "%v", e)
				assert.Positive(t, e.Column, "%v", e)
				assert.NotEmpty(t, e.Fix, "every diagnostic carries a fix")
				assert.NotEmpty(t, e.Kind)
			}
			golden(t, strings.TrimSuffix(file, ".yaml")+".golden", err.Error()+"\n")
		})
	}
}

// The kind of an error tells tools what it is (-o json); the goldens hold
// the text only, so the kinds of the validator's checks are pinned here.
func TestErrorKinds(t *testing.T) {
	tests := []struct{ file, path, kind string }{
		{"central-provider-of-another-issuer", "central.oidcProviderArn", KindUnknown},
		{"gateway-image-not-pinned", "central.gateway.image", KindPattern},
		{"gateway-explicit-zero-cpu", "central.gateway.cpu", KindEnum},
		{"gateway-memory-for-cpu", "central.gateway.memoryMb", KindEnum},
		{"gateway-ttl-too-long", "central.gateway.credentialTtlSeconds", KindRange},
		{"gateway-certificate-in-another-region", "central.gateway.certificateArn", KindInvalid},
		{"guardrail-profile-as-arn", "useCases[0].guardrail.profile", KindPattern},
		{"guardrail-profile-differs", "useCases[1].guardrail.profile", KindInvalid},
		{"enforced-guardrail-draft", "modelAccounts[0].enforcedGuardrails[0].version", KindPattern},
		{"enforced-guardrail-region-not-in-account", "modelAccounts[0].enforcedGuardrails[0].region", KindReference},
		{"enforced-guardrail-twice-in-a-region", "modelAccounts[0].enforcedGuardrails[1].region", KindDuplicate},
		{"logging-without-destination", "logging", KindRequired},
		{"rag-cors-wildcard", "rag.api.corsOrigins[0]", KindPattern},
		{"rag-log-retention-not-offered", "rag.lambda.logRetentionDays", KindEnum},
		{"rag-unknown-model", "rag.llmModel", KindReference},
		{"rag-vector-dimension-mismatch", "rag.vectorDimension", KindEnum},
		{"rag-without-image", "rag.image", KindRequired},
		{"name-with-hyphen", "useCases[0].name", KindPattern},
		{"short-account", "modelAccounts[0].account", KindPattern},
		{"unquoted-account", "central.account", KindType},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			_, err := Load("testdata/errors/" + tc.file + ".yaml")
			var list ErrorList
			require.ErrorAs(t, err, &list)
			var got []string
			for _, e := range list {
				if !e.IsWarning() {
					got = append(got, e.Path+" "+e.Kind)
				}
			}
			assert.Equal(t, []string{tc.path + " " + tc.kind}, got)
		})
	}
}

// Each testdata/valid/<case>.yaml loads; its warnings are <case>.golden.
func TestValidCases(t *testing.T) {
	files, err := filepath.Glob("testdata/valid/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml"), func(t *testing.T) {
			c, err := Load(file)
			require.NoError(t, err)
			var b strings.Builder
			for _, w := range c.Warnings {
				assert.True(t, w.IsWarning())
				assert.Positive(t, w.Line)
				b.WriteString(w.Error() + "\n")
			}
			golden(t, strings.TrimSuffix(file, ".yaml")+".golden", b.String())
		})
	}
}

// Merge keys apply as YAML defines them: keys written beside <<: win, and
// everything else comes from the anchor.
func TestMergeKeys(t *testing.T) {
	c, err := Load("testdata/valid/merge-keys.yaml")
	require.NoError(t, err)
	require.Len(t, c.UseCases, 3)
	a, b, cc := c.UseCases[0], c.UseCases[1], c.UseCases[2]
	assert.Equal(t, []string{"usecase-b"}, b.Subjects)
	assert.Equal(t, MultiModel, b.PolicyLayout, "from the anchor")
	assert.Equal(t, a.Access, b.Access, "from the anchor")
	assert.Equal(t, 60, b.Quota.RequestsPerMinute)
	assert.Equal(t, PerProvider, cc.PolicyLayout, "written beside <<: wins")
	assert.Equal(t, []string{"us-west-2"}, cc.Access[0].Regions)
	assert.Equal(t, a.Access[0].Models, cc.Access[0].Models)
}

// An explicit value is never replaced by the default; an absent one is.
func TestDefaultsOnlyWhereUnset(t *testing.T) {
	gw := strings.Replace(base, `central: {account: "111111111111", region: us-east-1}`,
		`central: {account: "111111111111", region: us-east-1, gateway: {image: "111111111111.dkr.ecr.us-east-1.amazonaws.com/gw:1", certificateArn: "arn:aws:acm:us-east-1:111111111111:certificate/abc-123", cpu: 2048, memoryMb: 4096, minCount: 0, desiredCount: 0}}`, 1)
	c, err := Parse("estate.yaml", []byte(gw))
	require.NoError(t, err)
	g := c.Central.Gateway
	assert.Equal(t, 2048, g.CPU)
	assert.Equal(t, 0, g.MinCount, "an explicit 0 stays 0")
	assert.Equal(t, 0, g.DesiredCount)
	assert.Equal(t, 10, g.MaxCount, "default")
	assert.Equal(t, 900, g.CredentialTTLSeconds, "default")
	assert.Equal(t, "/health", g.HealthCheckPath, "default")
}

// Every declared default satisfies its own field's declaration, so that
// SetDefaults can never produce what the loader would reject.
func TestDefaultsAreValid(t *testing.T) {
	n := 0
	var check func(t reflect.Type, path string)
	seen := map[reflect.Type]bool{}
	check = func(ty reflect.Type, path string) {
		for ty.Kind() == reflect.Pointer || ty.Kind() == reflect.Slice || ty.Kind() == reflect.Map {
			ty = ty.Elem()
		}
		if ty.Kind() != reflect.Struct || seen[ty] {
			return
		}
		seen[ty] = true
		for _, d := range declsOf(ty) {
			f := ty.Field(d.index)
			if d.hasDef {
				n++
				r := &Reporter{Pos: map[string]Pos{}}
				v := reflect.New(f.Type).Elem()
				setDefault(v, d.def)
				each(v, []byte(d.name), func(x reflect.Value, _ []byte) {
					if isNumber(x.Type()) {
						num := x.Convert(reflect.TypeFor[float64]()).Float()
						assert.False(t, d.min != nil && num < *d.min || d.max != nil && num > *d.max, "%s.%s: default %s outside its range", path, d.name, d.def)
						if d.enum != nil {
							assert.Contains(t, d.enum, d.def, "%s.%s", path, d.name)
						}
					}
					if x.Kind() == reflect.String && d.pattern != nil {
						assert.Regexp(t, d.pattern.re, x.String(), "%s.%s", path, d.name)
					}
				})
				assert.Empty(t, r.List)
			}
			check(f.Type, path+"."+d.name)
		}
	}
	check(reflect.TypeFor[Config](), "")
	assert.Positive(t, n, "some defaults are declared")
}

// Every problem is reported in one run, in file order.
func TestAllErrorsInOneRun(t *testing.T) {
	bad := strings.NewReplacer("layer:", "layr:", `"111111111111"`, "111111111111", "SharedModelsA, models", "SharedModelZ, models").Replace(base)
	_, err := Parse("estate.yaml", []byte(bad))
	list := err.(ErrorList)
	var paths []string
	for _, e := range list {
		paths = append(paths, e.Path)
	}
	assert.Equal(t, []string{"layr", "central.account", "useCases[0].access[0].account"}, paths)
	assert.True(t, strings.HasPrefix(err.Error(), "3 config errors:"))
}

// Diagnostics are data: the JSON form carries every field.
func TestDiagnosticsJSON(t *testing.T) {
	_, err := Parse("estate.yaml", []byte(strings.Replace(base, "layer:", "layr:", 1)))
	var b bytes.Buffer
	require.NoError(t, err.(ErrorList).WriteJSON(&b))
	assert.JSONEq(t, `[{"severity":"error","kind":"unknown","file":"estate.yaml","line":2,"column":1,"path":"layr","message":"unknown field \"layr\"","fix":"did you mean \"layer\"?"}]`, b.String())
	b.Reset()
	require.NoError(t, ErrorList{{File: "cdk context", Problem: "p"}}.WriteJSON(&b))
	assert.JSONEq(t, `[{"severity":"error","kind":"invalid","file":"cdk context","message":"p"}]`, b.String(), "an Error built elsewhere is an error")
	b.Reset()
	require.NoError(t, ErrorList(nil).WriteJSON(&b))
	assert.Equal(t, "[]\n", b.String())
}

func TestMissingFile(t *testing.T) {
	_, err := Load("does-not-exist.yaml")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "does-not-exist.yaml")
}

func TestEffectiveLimits(t *testing.T) {
	c := &Config{Limits: Limits{ManagedPoliciesPerRole: 20}}
	got := c.EffectiveLimits(ModelAccount{Limits: Limits{TrustPolicyChars: 4096}})
	assert.Equal(t, Limits{TrustPolicyChars: 4096, ManagedPoliciesPerRole: 20, RolesPerAccount: 1000, ManagedPoliciesPerAccount: 1500, InferenceProfilesPerRegion: 1000}, got)
}

func TestDidYouMean(t *testing.T) {
	tests := []struct{ got, want string }{
		{"SharedModelA", `did you mean "SharedModelsA"?`},
		{"completely-different", "fallback"},
		{strings.Repeat("x", 10000), "fallback"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, DidYouMean(tc.got, []string{"SharedModelsA", "SharedModelsB"}, "fallback"))
	}
}

// go test ./config -run XXX -bench Parse : loading and validating scales
// linearly with the estate (plan limits are internal/estate's benchmark).
func BenchmarkParse(b *testing.B) {
	for _, n := range []int{2000, 20000} {
		b.Run(strconv.Itoa(n)+"UseCases", func(b *testing.B) {
			data := bytes.ReplaceAll(fixture.Large(n/100, n), []byte("stackShards: 4"), []byte("stackShards: 10"))
			start := cpuTime()
			for b.Loop() {
				if _, err := Parse("large.yaml", data); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N)/1e9, "cpu-s/op")
		})
	}
}

// go test ./config -run XXX -bench AliasBomb : a few kilobytes of aliases
// that would expand to a million values are rejected at once.
func BenchmarkAliasBomb(b *testing.B) {
	data, err := os.ReadFile("testdata/errors/alias-bomb.yaml")
	require.NoError(b, err)
	start := cpuTime()
	for b.Loop() {
		if _, err := Parse("bomb.yaml", data); err == nil {
			b.Fatal("accepted")
		}
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N)/1e9, "cpu-s/op")
}

func cpuTime() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}
