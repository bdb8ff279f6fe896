package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acme/genai-estate/internal/estate"
	"github.com/acme/genai-estate/internal/gateway/creds"
)

func TestApplyGuardrail(t *testing.T) {
	g := &estate.RouteGuardrail{ID: "gr1", Version: "3", Arn: "arn:aws:bedrock:us-east-1:222222222222:guardrail/gr1"}
	cases := []struct {
		name, op, body string
		g              *estate.RouteGuardrail
		hdr            http.Header
		wantCfg        string // guardrailConfig in the body; "" means none
		wantHdr        bool
		wantErr        bool
	}{
		{"invoke: headers", "invoke", `{"prompt":"x"}`, g, http.Header{}, "", true, false},
		{"invoke stream: caller's header replaced", "invoke-with-response-stream", `{}`, g,
			http.Header{HeaderGuardrailID: {"evil"}, HeaderGuardrailVersion: {"DRAFT"}}, "", true, false},
		{"converse: added", "converse", `{"messages":[]}`, g, http.Header{},
			`{"guardrailIdentifier":"arn:aws:bedrock:us-east-1:222222222222:guardrail/gr1","guardrailVersion":"3"}`, false, false},
		{"converse stream: caller's replaced, trace kept", "converse-stream", `{"guardrailConfig":{"guardrailIdentifier":"evil","guardrailVersion":"1","trace":"enabled","streamProcessingMode":"async"}}`, g, http.Header{},
			`{"guardrailIdentifier":"arn:aws:bedrock:us-east-1:222222222222:guardrail/gr1","guardrailVersion":"3","trace":"enabled"}`, false, false},
		{"converse: body not an object", "converse", `[1]`, g, http.Header{}, "", false, true},
		{"converse: null body", "converse", `null`, g, http.Header{}, "", false, true},
		{"no guardrail: untouched", "converse", `{"guardrailConfig":{"guardrailIdentifier":"mine","guardrailVersion":"1"}}`, nil, http.Header{},
			`{"guardrailIdentifier":"mine","guardrailVersion":"1"}`, false, false},
		{"id only", "invoke", `{}`, &estate.RouteGuardrail{ID: "gr2", Version: "1"}, http.Header{}, "", true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := applyGuardrail(c.g, c.op, c.hdr, []byte(c.body))
			if c.wantErr {
				if !errors.Is(err, errBadBody) {
					t.Fatalf("want errBadBody, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.wantHdr {
				wantID := c.g.Arn
				if wantID == "" {
					wantID = c.g.ID
				}
				if got := c.hdr.Values(HeaderGuardrailID); len(got) != 1 || got[0] != wantID || c.hdr.Get(HeaderGuardrailVersion) != c.g.Version {
					t.Fatalf("headers %v", c.hdr)
				}
				if string(out) != c.body {
					t.Fatalf("invoke body changed: %s", out)
				}
				return
			}
			var doc map[string]json.RawMessage
			if err := json.Unmarshal(out, &doc); err != nil {
				t.Fatal(err)
			}
			if string(doc["guardrailConfig"]) != c.wantCfg {
				t.Fatalf("guardrailConfig %s, want %s", doc["guardrailConfig"], c.wantCfg)
			}
			if len(c.hdr) != 0 {
				t.Fatalf("Converse got headers %v", c.hdr)
			}
		})
	}
}

func TestProfilesCache(t *testing.T) {
	type step struct {
		role, model string
		after       time.Duration // clock moved back by this before the step
		want        string        // "" means an error
		fetches     int           // total so far
	}
	cases := []struct {
		name   string
		values []string // successive parameter values; "!" fails
		steps  []step
	}{
		{"cached per role and region", []string{`{"m1":"arn1","m2":"arn2"}`, `{"m1":"arn1b"}`}, []step{
			{"r1", "m1", 0, "arn1", 1}, {"r1", "m2", 0, "arn2", 1}, {"r2", "m1", 0, "arn1b", 2}}},
		{"refetch on a missing model", []string{`{"m1":"arn1"}`, `{"m1":"arn1","m2":"arn2"}`}, []step{
			{"r1", "m1", 0, "arn1", 1}, {"r1", "m2", 0, "arn2", 2}, {"r1", "m2", 0, "arn2", 2}}},
		{"refetch after the TTL", []string{`{"m1":"old"}`, `{"m1":"new"}`}, []step{
			{"r1", "m1", 0, "old", 1}, {"r1", "m1", 11 * time.Minute, "new", 2}}},
		{"read failure is an error", []string{"!"}, []step{{"r1", "m1", 0, "", 1}}},
		{"not JSON is an error", []string{`arn1`}, []step{{"r1", "m1", 0, "", 1}}},
		{"model absent after refetch", []string{`{"m1":"arn1"}`, `{"m1":"arn1"}`}, []step{
			{"r1", "m1", 0, "arn1", 1}, {"r1", "m9", 0, "", 2}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := 0
			var sawKey string
			p := &Profiles{TTL: 10 * time.Minute, Fetch: func(_ context.Context, cr creds.Creds, region, name string) (string, error) {
				v := c.values[min(n, len(c.values)-1)]
				n++
				sawKey = cr.AccessKeyID
				if region != "eu-west-1" || name != "/P/profiles/U" {
					t.Fatalf("fetched %s in %s", name, region)
				}
				if v == "!" {
					return "", errors.New("AccessDenied")
				}
				return v, nil
			}}
			for i, s := range c.steps {
				if s.after > 0 {
					p.mu.Lock()
					for k, e := range p.m {
						e.at = e.at.Add(-s.after)
						p.m[k] = e
					}
					p.mu.Unlock()
				}
				got, err := p.Arn(context.Background(), creds.Creds{AccessKeyID: "AK" + s.role}, s.role, "eu-west-1", "/P/profiles/U", s.model)
				if (err != nil) != (s.want == "") || got != s.want {
					t.Fatalf("step %d: got %q, %v; want %q", i, got, err, s.want)
				}
				if n != s.fetches {
					t.Fatalf("step %d: %d fetches, want %d", i, n, s.fetches)
				}
				if sawKey != "AK"+s.role && n > 0 && s.fetches > 0 && i == 0 {
					t.Fatalf("fetched with %s, want the role's credentials", sawKey)
				}
			}
		})
	}
}

// Calls that miss at once share one read.
func TestProfilesConcurrentMiss(t *testing.T) {
	var n atomic.Int32
	release := make(chan struct{})
	p := &Profiles{Fetch: func(context.Context, creds.Creds, string, string) (string, error) {
		n.Add(1)
		<-release
		return `{"m":"arn"}`, nil
	}}
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Go(func() {
			if arn, err := p.Arn(context.Background(), creds.Creds{}, "r", "us-east-1", "/p", "m"); err != nil || arn != "arn" {
				errs <- errors.Join(err, errors.New("got "+arn))
			}
		})
	}
	time.Sleep(50 * time.Millisecond) // let them all miss
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := n.Load(); got != 1 {
		t.Fatalf("%d reads for 50 concurrent misses, want 1", got)
	}
}
