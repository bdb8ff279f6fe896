package quota_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/gateway/gwtest"
	"github.com/acme/genai-estate/internal/gateway/quota"
	"github.com/acme/genai-estate/internal/gateway/store"
)

func TestLimiter(t *testing.T) {
	rs := gwtest.StartRedis(t)
	ctx := context.Background()
	// Mid-minute, so a window does not roll over during the test.
	now := time.Date(2026, 1, 2, 3, 4, 20, 0, time.UTC)
	clock := func() time.Time { return now }
	newLimiter := func() *quota.Limiter {
		c := store.New(store.Options{Endpoint: "127.0.0.1", Port: rs.Port})
		t.Cleanup(func() { c.Close() })
		return &quota.Limiter{Redis: c, Breaker: &store.Breaker{}, Now: clock}
	}
	cases := []struct {
		name     string
		useCase  string
		q        config.Quota
		tokens   int64 // reported after each admitted request
		requests int
		admitted int
	}{
		{"no quota", "free", config.Quota{}, 0, 50, 50},
		{"requests per minute", "rpm", config.Quota{RequestsPerMinute: 5}, 0, 8, 5},
		{"tokens per minute", "tpm", config.Quota{TokensPerMinute: 1000}, 400, 5, 3},
		{"both", "both", config.Quota{RequestsPerMinute: 10, TokensPerMinute: 100}, 60, 5, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Two tasks share the counters.
			tasks := []*quota.Limiter{newLimiter(), newLimiter()}
			got := 0
			for i := range c.requests {
				l := tasks[i%2]
				d := l.Allow(ctx, c.useCase, c.q)
				if d.Allowed {
					got++
					l.AddTokens(ctx, c.useCase, c.q, c.tokens)
				} else if d.RetryAfter != 40*time.Second {
					t.Fatalf("Retry-After %v, want 40s (to the next minute)", d.RetryAfter)
				}
			}
			if got != c.admitted {
				t.Fatalf("admitted %d of %d, want %d", got, c.requests, c.admitted)
			}
		})
	}

	t.Run("atomic under concurrency", func(t *testing.T) {
		l := newLimiter()
		var mu sync.Mutex
		got := 0
		var wg sync.WaitGroup
		for range 100 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if l.Allow(ctx, "conc", config.Quota{RequestsPerMinute: 37}).Allowed {
					mu.Lock()
					got++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if got != 37 {
			t.Fatalf("admitted %d, want exactly 37", got)
		}
	})

	t.Run("next minute resets", func(t *testing.T) {
		l := newLimiter()
		q := config.Quota{RequestsPerMinute: 1}
		if !l.Allow(ctx, "reset", q).Allowed || l.Allow(ctx, "reset", q).Allowed {
			t.Fatal("first must pass, second must not")
		}
		now = now.Add(time.Minute)
		defer func() { now = now.Add(-time.Minute) }()
		if !l.Allow(ctx, "reset", q).Allowed {
			t.Fatal("new minute still refused")
		}
	})

	t.Run("store down fails open to a per-task limit", func(t *testing.T) {
		rs2 := gwtest.StartRedis(t)
		c := store.New(store.Options{Endpoint: "127.0.0.1", Port: rs2.Port})
		defer c.Close()
		l := &quota.Limiter{Redis: c, Breaker: &store.Breaker{}, Now: clock}
		rs2.Stop()
		q := config.Quota{RequestsPerMinute: 3}
		got := 0
		for range 5 {
			d := l.Allow(ctx, "down", q)
			if d.Shared {
				t.Fatal("decided by a dead store")
			}
			if d.Allowed {
				got++
			}
		}
		if got != 3 || l.FailOpen() == 0 {
			t.Fatalf("admitted %d (want 3 by the local limit), fail-open count %d", got, l.FailOpen())
		}
	})
}
