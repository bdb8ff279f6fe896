// Package quota enforces each use case's requestsPerMinute and
// tokensPerMinute across all gateway tasks, with fixed one-minute windows
// counted atomically in Valkey.
//
// When Valkey is unreachable the limiter fails open to a per-task counter
// with the same limits: a quota is a cost and fairness control, not a
// security boundary (the role's policy is), so losing the shared store must
// not stop every tenant's traffic. The local counter still bounds a runaway
// caller to the limit times the number of tasks for the length of the outage,
// which is logged and counted.
package quota

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/gateway/store"
)

const keyPrefix = "gw:quota:"

// admit checks both windows and counts the request only when it is admitted,
// so refused retries do not extend a caller's lock-out.
// KEYS: requests, tokens; ARGV: rpm, tpm, ttl seconds. Returns 1 or 0.
var admit = redis.NewScript(`
local r = tonumber(redis.call('GET', KEYS[1]) or '0')
local t = tonumber(redis.call('GET', KEYS[2]) or '0')
local rpm, tpm = tonumber(ARGV[1]), tonumber(ARGV[2])
if (rpm > 0 and r >= rpm) or (tpm > 0 and t >= tpm) then return 0 end
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return 1
`)

// Limiter is safe for concurrent use.
type Limiter struct {
	Redis   *redis.Client // nil: per-task counting only
	Breaker *store.Breaker
	Log     *slog.Logger
	Now     func() time.Time

	mu    sync.Mutex
	local map[string]*window

	failOpen atomic.Int64
}

type window struct {
	minute           int64
	requests, tokens int64
}

// Decision is the outcome of Allow.
type Decision struct {
	Allowed    bool
	RetryAfter time.Duration // until the window resets, when refused
	Shared     bool          // decided by the shared store
}

// FailOpen counts decisions made locally because Valkey was down.
func (l *Limiter) FailOpen() int64 { return l.failOpen.Load() }

func (l *Limiter) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

func keys(useCase string, minute int64) (string, string) {
	m := strconv.FormatInt(minute, 10)
	return keyPrefix + useCase + ":r:" + m, keyPrefix + useCase + ":t:" + m
}

// Allow admits one request of the use case, or says when to retry. A use
// case without a quota is always admitted.
func (l *Limiter) Allow(ctx context.Context, useCase string, q config.Quota) Decision {
	if q.RequestsPerMinute <= 0 && q.TokensPerMinute <= 0 {
		return Decision{Allowed: true}
	}
	now := l.now()
	minute := now.Unix() / 60
	retry := time.Duration(60-now.Unix()%60) * time.Second
	if l.Redis != nil {
		rk, tk := keys(useCase, minute)
		var ok int64
		err := l.Breaker.Do(func() error {
			var err error
			ok, err = admit.Run(ctx, l.Redis, []string{rk, tk}, q.RequestsPerMinute, q.TokensPerMinute, 120).Int64()
			return err
		})
		if err == nil {
			return Decision{Allowed: ok == 1, RetryAfter: retry, Shared: true}
		}
		l.outage("allow", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.window(useCase, minute)
	if (q.RequestsPerMinute > 0 && w.requests >= int64(q.RequestsPerMinute)) || (q.TokensPerMinute > 0 && w.tokens >= int64(q.TokensPerMinute)) {
		return Decision{Allowed: false, RetryAfter: retry}
	}
	w.requests++
	return Decision{Allowed: true}
}

// AddTokens counts the tokens Bedrock reported for a request.
func (l *Limiter) AddTokens(ctx context.Context, useCase string, q config.Quota, n int64) {
	if q.TokensPerMinute <= 0 || n <= 0 {
		return
	}
	minute := l.now().Unix() / 60
	if l.Redis != nil {
		_, tk := keys(useCase, minute)
		err := l.Breaker.Do(func() error {
			p := l.Redis.Pipeline()
			p.IncrBy(ctx, tk, n)
			p.Expire(ctx, tk, 120*time.Second)
			_, err := p.Exec(ctx)
			return err
		})
		if err == nil {
			return
		}
		l.outage("tokens", err)
	}
	l.mu.Lock()
	l.window(useCase, minute).tokens += n
	l.mu.Unlock()
}

func (l *Limiter) window(useCase string, minute int64) *window {
	if l.local == nil {
		l.local = map[string]*window{}
	}
	w := l.local[useCase]
	if w == nil || w.minute != minute {
		w = &window{minute: minute}
		l.local[useCase] = w
	}
	return w
}

func (l *Limiter) outage(op string, err error) {
	l.failOpen.Add(1)
	if l.Log != nil && !errors.Is(err, store.ErrOpen) {
		l.Log.Warn("quota store unavailable, counting per task", "op", op, "error", err.Error(), "failOpen", l.failOpen.Load())
	}
}
