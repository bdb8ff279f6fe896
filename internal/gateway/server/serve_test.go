package server_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"

	"github.com/acme/genai-estate/internal/gateway/server"
)

// TestDrainOnShutdown: when the stop signal comes mid-stream, the stream
// still completes, health turns 503, and Serve returns only afterwards.
func TestDrainOnShutdown(t *testing.T) {
	r := newRig(t, true, nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- server.Serve(ctx, l, r.srv, 10*time.Second) }()
	base := "http://" + l.Addr().String()

	r.bedrock.Gate = make(chan struct{})
	req, _ := http.NewRequest(http.MethodPost, base+"/model/anthropic.claude-3-sonnet-20240229-v1:0/converse-stream", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer "+r.idp.Token(t, "usecase-a", audience))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	dec := eventstream.NewDecoder()
	if _, err := dec.Decode(resp.Body, nil); err != nil {
		t.Fatal(err)
	}
	stop() // SIGTERM while the stream is open
	time.Sleep(100 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("Serve returned with a stream in flight: %v", err)
	default:
	}
	if h := r.srv; h != nil {
		rec := &statusRecorder{header: http.Header{}}
		h.ServeHTTP(rec, httptestRequest("/health"))
		if rec.status != http.StatusServiceUnavailable {
			t.Fatalf("health while draining: %d", rec.status)
		}
	}
	close(r.bedrock.Gate)
	n := 1
	for {
		if _, err := dec.Decode(resp.Body, nil); err != nil {
			break
		}
		n++
	}
	if n != 6 {
		t.Fatalf("stream cut at %d of 6 events by the shutdown", n)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after the stream ended")
	}
}

type statusRecorder struct {
	header http.Header
	status int
}

func (s *statusRecorder) Header() http.Header         { return s.header }
func (s *statusRecorder) Write(p []byte) (int, error) { return len(p), nil }
func (s *statusRecorder) WriteHeader(code int)        { s.status = code }

func httptestRequest(path string) *http.Request {
	req, _ := http.NewRequest(http.MethodGet, "http://gateway"+path, nil)
	return req
}
