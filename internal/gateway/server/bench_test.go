package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/acme/genai-estate/config"
)

const benchModel = "/model/amazon.titan-text-express-v1/converse"

// benchRig is the end-to-end rig with UseCaseC given a quota too large to
// reach, so every request pays the quota round trips to Valkey, and a
// plain-HTTP listener (the ALB terminates TLS in production).
func benchRig(b *testing.B) (*rig, *httptest.Server, string) {
	r := newRig(b, true, map[string]config.Quota{"UseCaseC": {RequestsPerMinute: 1 << 30, TokensPerMinute: 1 << 40}})
	plain := httptest.NewServer(r.srv)
	b.Cleanup(plain.Close)
	return r, plain, r.idp.Token(b, "usecase-c", audience)
}

func post(b *testing.B, c *http.Client, req func() *http.Request) time.Duration {
	start := time.Now()
	resp, err := c.Do(req())
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("status %d", resp.StatusCode)
	}
	return time.Since(start)
}

// BenchmarkCacheHitLatency measures what the gateway adds to a small
// non-streaming call once credentials are cached: each iteration times one
// call through the gateway and the same signed call straight to the fake
// Bedrock; the difference of the percentiles is the gateway's share (token
// verification, routing, quota and token counting in Valkey, signing, proxying).
func BenchmarkCacheHitLatency(b *testing.B) {
	r, plain, tok := benchRig(b)
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	body := `{"messages":[{"role":"user","content":[{"text":"hi"}]}]}`
	viaGateway := func() *http.Request {
		req, _ := http.NewRequest(http.MethodPost, plain.URL+benchModel, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		return req
	}
	post(b, c, viaGateway) // warm: STS once, then cached
	// Replay the gateway's own signed request to Bedrock as the baseline.
	calls := r.bedrock.Calls()
	// (to the path it signed: the role's application profile ARN).
	signed, path := calls[len(calls)-1].Header, calls[len(calls)-1].Path
	direct := func() *http.Request {
		req, _ := http.NewRequest(http.MethodPost, r.bedrock.URL+path, strings.NewReader(body))
		req.Header = signed.Clone()
		return req
	}
	post(b, c, direct)
	gw := make([]time.Duration, 0, b.N)
	dir := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		gw = append(gw, post(b, c, viaGateway))
		dir = append(dir, post(b, c, direct))
	}
	b.StopTimer()
	pct := func(d []time.Duration, p float64) float64 {
		slices.Sort(d)
		return float64(d[min(len(d)-1, int(float64(len(d))*p))].Microseconds())
	}
	b.ReportMetric(pct(gw, 0.50), "gw-p50-µs")
	b.ReportMetric(pct(gw, 0.99), "gw-p99-µs")
	b.ReportMetric(pct(dir, 0.50), "direct-p50-µs")
	b.ReportMetric(pct(dir, 0.99), "direct-p99-µs")
	b.ReportMetric(pct(gw, 0.50)-pct(dir, 0.50), "added-p50-µs")
	b.ReportMetric(pct(gw, 0.99)-pct(dir, 0.99), "added-p99-µs")
	if r.srv.Creds.Stats().STSCalls != 1 {
		b.Fatalf("STS called %d times, want 1", r.srv.Creds.Stats().STSCalls)
	}
}

// BenchmarkThroughput drives the gateway with parallel small non-streaming
// calls. Client, gateway, fake Bedrock and Valkey share the machine's cores,
// so requests/s per core is a lower bound for the gateway alone.
func BenchmarkThroughput(b *testing.B) {
	_, plain, tok := benchRig(b)
	body := `{"messages":[{"role":"user","content":[{"text":"hi"}]}]}`
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	var n atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			post(b, c, func() *http.Request {
				req, _ := http.NewRequest(http.MethodPost, plain.URL+benchModel, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+tok)
				return req
			})
			n.Add(1)
		}
	})
	rps := float64(n.Load()) / time.Since(start).Seconds()
	b.ReportMetric(rps, "req/s")
	b.ReportMetric(rps/float64(runtime.GOMAXPROCS(0)), "req/s/core")
	// Per second of CPU this process used (client, gateway and fake Bedrock;
	// redis-server not included): robust to other load on the machine.
	b.ReportMetric(float64(n.Load())/(cpuTime()-cpu0).Seconds(), "req/cpu-s")
}

// BenchmarkHandler is the gateway alone: ServeHTTP called in process on a
// cache hit, with Bedrock answered by an in-process RoundTripper, Valkey
// real. req/cpu-s is requests per second of one core's CPU time.
func BenchmarkHandler(b *testing.B) {
	r, _, tok := benchRig(b)
	r.srv.Transport = cannedBedrock{}
	body := `{"messages":[{"role":"user","content":[{"text":"hi"}]}]}`
	serve := func() {
		req := httptest.NewRequest(http.MethodPost, benchModel, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		r.srv.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	serve()
	var n atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	cpu0 := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			serve()
			n.Add(1)
		}
	})
	b.ReportMetric(float64(n.Load())/(cpuTime()-cpu0).Seconds(), "req/cpu-s")
}

type cannedBedrock struct{}

func (cannedBedrock) RoundTrip(req *http.Request) (*http.Response, error) {
	_, _ = io.Copy(io.Discard, req.Body)
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Request: req,
		Body: io.NopCloser(strings.NewReader(`{"output":{"message":{"role":"assistant","content":[{"text":"hello"}]}},"stopReason":"end_turn","usage":{"inputTokens":11,"outputTokens":7,"totalTokens":18}}`))}, nil
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
