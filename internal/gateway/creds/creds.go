// Package creds obtains a use case's temporary credentials with its caller's
// own token (sts:AssumeRoleWithWebIdentity) and caches them: in process in
// front, in Valkey across tasks, until shortly before they expire. Concurrent
// misses for one role and subject make one STS call. A cache outage degrades
// to STS and is counted; it never fails a request.
package creds

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/singleflight"

	"github.com/acme/genai-estate/internal/gateway/store"
)

// RefreshMargin: cached credentials are dropped this long before they expire,
// so a request never starts with credentials about to lapse mid-stream.
const RefreshMargin = 2 * time.Minute

// keyPrefix namespaces the credential entries in Valkey.
const keyPrefix = "gw:cred:"

// Source says where credentials came from, for the request log.
type Source string

// Sources.
const (
	Local  Source = "local"
	Shared Source = "valkey"
	STS    Source = "sts"
)

// Creds are temporary credentials of one role session.
type Creds struct {
	AccessKeyID     string    `json:"a"`
	SecretAccessKey string    `json:"s"`
	SessionToken    string    `json:"t"`
	Expires         time.Time `json:"e"`
}

// AWS converts to the SDK's type (for signing).
func (c Creds) AWS() aws.Credentials {
	return aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken, CanExpire: true, Expires: c.Expires}
}

// STSClient is the one STS call the gateway makes.
type STSClient interface {
	AssumeRoleWithWebIdentity(ctx context.Context, in *sts.AssumeRoleWithWebIdentityInput, opts ...func(*sts.Options)) (*sts.AssumeRoleWithWebIdentityOutput, error)
}

// DeniedError is STS refusing the token for the role (the role's trust does
// not admit the caller): the caller gets 403.
type DeniedError struct{ Err error }

func (e *DeniedError) Error() string { return "sts denied the role: " + e.Err.Error() }
func (e *DeniedError) Unwrap() error { return e.Err }

// Cache is safe for concurrent use.
type Cache struct {
	STS STSClient
	// Redis is optional (nil: in-process cache only).
	Redis   *redis.Client
	Breaker *store.Breaker
	TTL     time.Duration
	Log     *slog.Logger
	Now     func() time.Time

	mu    sync.RWMutex
	local map[string]Creds
	sf    singleflight.Group

	stsCalls, cacheErrors atomic.Int64
}

// Stats are counters since start.
type Stats struct{ STSCalls, CacheErrors int64 }

// Stats returns the counters.
func (c *Cache) Stats() Stats {
	return Stats{STSCalls: c.stsCalls.Load(), CacheErrors: c.cacheErrors.Load()}
}

// Key is the cache key of a role, subject and audience: the role's trust
// conditions on both claims, so a token of another accepted audience must not
// reuse credentials STS would refuse it. The key is hashed so that nothing in
// Valkey's key space names a caller; tokens are never part of it.
func Key(roleArn, subject, audience string) string {
	h := sha256.Sum256([]byte(roleArn + "\x00" + subject + "\x00" + audience))
	return keyPrefix + hex.EncodeToString(h[:])
}

var sessionChars = regexp.MustCompile(`[^\w+=,.@-]`)

// SessionName names the use case in CloudTrail: STS allows 2-64 characters
// of [\w+=,.@-].
func SessionName(useCase string) string {
	s := sessionChars.ReplaceAllString("gw."+useCase, "-")
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}

// Caller is who a token proved to be.
type Caller struct{ UseCase, Subject, Audience string }

// Get returns valid credentials for the role, from a cache or from STS with
// the caller's token. The token is used only for a miss and is never stored.
func (c *Cache) Get(ctx context.Context, roleArn string, caller Caller, token string) (Creds, Source, error) {
	now := c.now()
	key := Key(roleArn, caller.Subject, caller.Audience)
	c.mu.RLock()
	cr, ok := c.local[key]
	c.mu.RUnlock()
	if ok && c.fresh(cr, now) {
		return cr, Local, nil
	}
	type result struct {
		cr  Creds
		src Source
	}
	v, err, _ := c.sf.Do(key, func() (any, error) {
		// A waiting caller's cancellation must not fail the others.
		ctx := context.WithoutCancel(ctx)
		if cr, ok := c.shared(ctx, key); ok {
			c.remember(key, cr)
			return result{cr, Shared}, nil
		}
		cr, err := c.assume(ctx, roleArn, caller.UseCase, token)
		if err != nil {
			return nil, err
		}
		c.remember(key, cr)
		c.publish(ctx, key, cr)
		return result{cr, STS}, nil
	})
	if err != nil {
		return Creds{}, "", err
	}
	r := v.(result)
	return r.cr, r.src, nil
}

func (c *Cache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Cache) fresh(cr Creds, now time.Time) bool { return now.Add(RefreshMargin).Before(cr.Expires) }

func (c *Cache) remember(key string, cr Creds) {
	c.mu.Lock()
	if c.local == nil {
		c.local = map[string]Creds{}
	}
	c.local[key] = cr
	c.mu.Unlock()
}

func (c *Cache) shared(ctx context.Context, key string) (Creds, bool) {
	if c.Redis == nil {
		return Creds{}, false
	}
	var b []byte
	err := c.Breaker.Do(func() error {
		var err error
		b, err = c.Redis.Get(ctx, key).Bytes()
		return err
	})
	if errors.Is(err, redis.Nil) {
		return Creds{}, false
	}
	if err != nil {
		c.outage("get", err)
		return Creds{}, false
	}
	var cr Creds
	if json.Unmarshal(b, &cr) != nil || !c.fresh(cr, c.now()) {
		return Creds{}, false
	}
	return cr, true
}

func (c *Cache) publish(ctx context.Context, key string, cr Creds) {
	if c.Redis == nil {
		return
	}
	ttl := cr.Expires.Sub(c.now()) - RefreshMargin
	if ttl <= 0 {
		return
	}
	b, _ := json.Marshal(cr)
	if err := c.Breaker.Do(func() error { return c.Redis.Set(ctx, key, b, ttl).Err() }); err != nil {
		c.outage("set", err)
	}
}

func (c *Cache) outage(op string, err error) {
	c.cacheErrors.Add(1)
	if c.Log != nil && !errors.Is(err, store.ErrOpen) {
		c.Log.Warn("credential cache unavailable, using STS", "op", op, "error", err.Error(), "cacheErrors", c.cacheErrors.Load())
	}
}

func (c *Cache) assume(ctx context.Context, roleArn, useCase, token string) (Creds, error) {
	c.stsCalls.Add(1)
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	in := &sts.AssumeRoleWithWebIdentityInput{
		RoleArn:          aws.String(roleArn),
		RoleSessionName:  aws.String(SessionName(useCase)),
		WebIdentityToken: aws.String(token),
	}
	if c.TTL > 0 {
		in.DurationSeconds = aws.Int32(int32(c.TTL / time.Second))
	}
	out, err := c.STS.AssumeRoleWithWebIdentity(ctx, in)
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			switch ae.ErrorCode() {
			case "AccessDenied", "AccessDeniedException", "InvalidIdentityToken", "ExpiredTokenException", "IDPRejectedClaim":
				return Creds{}, &DeniedError{Err: fmt.Errorf("%s: %s", ae.ErrorCode(), ae.ErrorMessage())}
			}
		}
		return Creds{}, fmt.Errorf("sts: %w", err)
	}
	if out.Credentials == nil {
		return Creds{}, errors.New("sts: no credentials in the answer")
	}
	return Creds{
		AccessKeyID:     aws.ToString(out.Credentials.AccessKeyId),
		SecretAccessKey: aws.ToString(out.Credentials.SecretAccessKey),
		SessionToken:    aws.ToString(out.Credentials.SessionToken),
		Expires:         aws.ToTime(out.Credentials.Expiration),
	}, nil
}
