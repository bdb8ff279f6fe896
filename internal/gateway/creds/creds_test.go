package creds_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/redis/go-redis/v9"

	"github.com/acme/genai-estate/internal/gateway/creds"
	"github.com/acme/genai-estate/internal/gateway/gwtest"
	"github.com/acme/genai-estate/internal/gateway/store"
)

// fakeSTS hands out numbered credentials valid for an hour.
type fakeSTS struct {
	calls atomic.Int64
	delay time.Duration
	ttl   time.Duration
}

func (f *fakeSTS) AssumeRoleWithWebIdentity(ctx context.Context, in *sts.AssumeRoleWithWebIdentityInput, _ ...func(*sts.Options)) (*sts.AssumeRoleWithWebIdentityOutput, error) {
	n := f.calls.Add(1)
	time.Sleep(f.delay)
	if aws.ToString(in.WebIdentityToken) == "bad" {
		return nil, errors.New("boom")
	}
	ttl := f.ttl
	if ttl == 0 {
		ttl = time.Hour
	}
	return &sts.AssumeRoleWithWebIdentityOutput{Credentials: &ststypes.Credentials{
		AccessKeyId: aws.String(fmt.Sprintf("ASIA%d", n)), SecretAccessKey: aws.String("s"), SessionToken: aws.String("t"),
		Expiration: aws.Time(time.Now().Add(ttl)),
	}}, nil
}

func TestSessionName(t *testing.T) {
	for in, want := range map[string]string{
		"UseCaseA":                "gw.UseCaseA",
		"has space/and:colon":     "gw.has-space-and-colon",
		string(make([]byte, 100)): "gw." + string(repeat('-', 61)),
		"ok+=,.@-_chars":          "gw.ok+=,.@-_chars",
	} {
		if got := creds.SessionName(in); got != want || len(got) > 64 {
			t.Errorf("SessionName(%q) = %q, want %q", in, got, want)
		}
	}
}

func repeat(b byte, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}

func TestCache(t *testing.T) {
	rs := gwtest.StartRedis(t)
	newClient := func() *redis.Client {
		c := store.New(store.Options{Endpoint: "127.0.0.1", Port: rs.Port})
		t.Cleanup(func() { c.Close() })
		return c
	}
	ctx := context.Background()
	const role = "arn:aws:iam::222222222222:role/ACME-GenAI-UseCaseA-BedrockInvokeRole"

	t.Run("local then shared across tasks", func(t *testing.T) {
		f := &fakeSTS{}
		task1 := &creds.Cache{STS: f, Redis: newClient(), Breaker: &store.Breaker{}}
		task2 := &creds.Cache{STS: f, Redis: newClient(), Breaker: &store.Breaker{}}
		c1, src, err := task1.Get(ctx, role, creds.Caller{UseCase: "UseCaseA", Subject: "sub-1", Audience: "aud"}, "tok")
		if err != nil || src != creds.STS {
			t.Fatalf("first: %v %v", src, err)
		}
		if _, src, _ := task1.Get(ctx, role, creds.Caller{UseCase: "UseCaseA", Subject: "sub-1", Audience: "aud"}, "tok"); src != creds.Local {
			t.Fatalf("second on the same task from %s, want local", src)
		}
		c2, src, _ := task2.Get(ctx, role, creds.Caller{UseCase: "UseCaseA", Subject: "sub-1", Audience: "aud"}, "tok")
		if src != creds.Shared || c2.AccessKeyID != c1.AccessKeyID {
			t.Fatalf("other task got %s from %s, want %s from valkey", c2.AccessKeyID, src, c1.AccessKeyID)
		}
		if _, src, _ := task2.Get(ctx, role, creds.Caller{UseCase: "UseCaseA", Subject: "sub-2", Audience: "aud"}, "tok"); src != creds.STS {
			t.Fatalf("another subject shares credentials (%s)", src)
		}
		if _, src, _ := task2.Get(ctx, role, creds.Caller{UseCase: "UseCaseA", Subject: "sub-1", Audience: "other-aud"}, "tok"); src != creds.STS {
			t.Fatalf("another audience shares credentials (%s)", src)
		}
		if f.calls.Load() != 3 {
			t.Fatalf("STS called %d times, want 3", f.calls.Load())
		}
		ttl := newClient().TTL(ctx, creds.Key(role, "sub-1", "aud")).Val()
		if ttl <= 50*time.Minute || ttl > time.Hour-creds.RefreshMargin {
			t.Fatalf("valkey TTL %v, want expiry minus %v", ttl, creds.RefreshMargin)
		}
	})

	t.Run("concurrent misses make one STS call", func(t *testing.T) {
		f := &fakeSTS{delay: 50 * time.Millisecond}
		c := &creds.Cache{STS: f, Redis: newClient(), Breaker: &store.Breaker{}}
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, _, err := c.Get(ctx, role, creds.Caller{UseCase: "UseCaseA", Subject: "sub-sf", Audience: "aud"}, "tok"); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if f.calls.Load() != 1 {
			t.Fatalf("STS called %d times, want 1", f.calls.Load())
		}
	})

	t.Run("near expiry is refetched", func(t *testing.T) {
		f := &fakeSTS{ttl: creds.RefreshMargin + time.Second}
		now := time.Now()
		c := &creds.Cache{STS: f, Now: func() time.Time { return now }}
		c.Get(ctx, role, creds.Caller{UseCase: "UseCaseA", Subject: "sub-exp", Audience: "aud"}, "tok")
		now = now.Add(2 * time.Second)
		if _, src, _ := c.Get(ctx, role, creds.Caller{UseCase: "UseCaseA", Subject: "sub-exp", Audience: "aud"}, "tok"); src != creds.STS {
			t.Fatalf("credentials within %v of expiry served from %s", creds.RefreshMargin, src)
		}
	})

	t.Run("outage degrades to STS", func(t *testing.T) {
		rs2 := gwtest.StartRedis(t)
		cl := store.New(store.Options{Endpoint: "127.0.0.1", Port: rs2.Port})
		defer cl.Close()
		f := &fakeSTS{}
		c := &creds.Cache{STS: f, Redis: cl, Breaker: &store.Breaker{}}
		if _, _, err := c.Get(ctx, role, creds.Caller{UseCase: "UseCaseA", Subject: "sub-o", Audience: "aud"}, "tok"); err != nil {
			t.Fatal(err)
		}
		rs2.Stop()
		for i, sub := range []string{"sub-o2", "sub-o3"} {
			if _, src, err := c.Get(ctx, role, creds.Caller{UseCase: "UseCaseA", Subject: sub, Audience: "aud"}, "tok"); err != nil || src != creds.STS {
				t.Fatalf("call %d during outage: %s %v", i, src, err)
			}
		}
		if c.Stats().CacheErrors == 0 {
			t.Fatal("outage not counted")
		}
	})

	t.Run("STS error is returned", func(t *testing.T) {
		c := &creds.Cache{STS: &fakeSTS{}}
		if _, _, err := c.Get(ctx, role, creds.Caller{UseCase: "UseCaseA", Subject: "sub-bad", Audience: "aud"}, "bad"); err == nil {
			t.Fatal("no error")
		}
	})
}
