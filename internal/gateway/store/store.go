// Package store connects to the shared Valkey (ElastiCache) cache: TLS and
// ElastiCache IAM authentication in production, plain TCP for local runs,
// and a breaker so that an outage costs one fast failure, not a timeout per
// request.
package store

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/redis/go-redis/v9"
)

// IAM auth token lifetime (ElastiCache accepts at most 15 minutes), and how
// long a generated token is reused for new connections before a fresh one.
const (
	TokenLifetime = 15 * time.Minute
	TokenReuse    = 10 * time.Minute
	// ElastiCache closes IAM-authenticated connections after 12 hours.
	connMaxLifetime = 11 * time.Hour
)

// emptySHA256 is the payload hash of a request without a body.
var emptySHA256 = hex.EncodeToString(sha256.New().Sum(nil))

// IAMToken is the ElastiCache IAM auth token: a SigV4-presigned GET of
// http://<replicationGroupID>/?Action=connect&User=<user> for the service
// "elasticache", valid 900 s, with the scheme stripped.
func IAMToken(ctx context.Context, creds aws.Credentials, region, replicationGroupID, user string, at time.Time) (string, error) {
	q := url.Values{"Action": {"connect"}, "User": {user}, "X-Amz-Expires": {strconv.Itoa(int(TokenLifetime / time.Second))}}
	req, err := http.NewRequest(http.MethodGet, "http://"+replicationGroupID+"/?"+q.Encode(), nil)
	if err != nil {
		return "", err
	}
	signed, _, err := v4.NewSigner().PresignHTTP(ctx, creds, req, emptySHA256, "elasticache", region, at)
	if err != nil {
		return "", fmt.Errorf("store: presign IAM token: %w", err)
	}
	return strings.TrimPrefix(signed, "http://"), nil
}

// Options say how to reach the cache.
type Options struct {
	Endpoint           string
	Port               int
	TLS                bool
	IAMAuth            bool
	User               string
	ReplicationGroupID string
	Region             string
	Credentials        aws.CredentialsProvider // the task role, for IAM auth
	Now                func() time.Time
}

// New returns a client. Timeouts are short: the cache is an optimisation,
// and the callers fall back to STS or a local limiter when it is slow.
func New(o Options) *redis.Client {
	if o.Now == nil {
		o.Now = time.Now
	}
	ro := &redis.Options{
		Addr:            net.JoinHostPort(o.Endpoint, strconv.Itoa(o.Port)),
		DialTimeout:     500 * time.Millisecond,
		ReadTimeout:     300 * time.Millisecond,
		WriteTimeout:    300 * time.Millisecond,
		PoolSize:        64,
		MinIdleConns:    2,
		ConnMaxLifetime: connMaxLifetime,
		MaxRetries:      1,
		Protocol:        2,
	}
	if o.TLS {
		ro.TLSConfig = &tls.Config{ServerName: o.Endpoint, MinVersion: tls.VersionTLS12}
	}
	if o.IAMAuth {
		tp := &tokenProvider{o: o}
		ro.CredentialsProviderContext = tp.get
	} else if o.User != "" {
		ro.Username = o.User
	}
	return redis.NewClient(ro)
}

// tokenProvider is go-redis's credentials hook: called for every new
// connection, it reuses a token for TokenReuse and regenerates it before
// the 15-minute life ends.
type tokenProvider struct {
	o     Options
	mu    sync.Mutex
	token string
	made  time.Time
}

func (p *tokenProvider) get(ctx context.Context) (string, string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.o.Now()
	if p.token != "" && now.Sub(p.made) < TokenReuse {
		return p.o.User, p.token, nil
	}
	creds, err := p.o.Credentials.Retrieve(ctx)
	if err != nil {
		return "", "", fmt.Errorf("store: task credentials: %w", err)
	}
	t, err := IAMToken(ctx, creds, p.o.Region, p.o.ReplicationGroupID, p.o.User, now)
	if err != nil {
		return "", "", err
	}
	p.token, p.made = t, now
	return p.o.User, t, nil
}

// ErrOpen is returned while the breaker is open.
var ErrOpen = errors.New("store: cache marked down")

// Breaker skips the cache for a short while after a failure.
type Breaker struct {
	Cooldown  time.Duration
	downUntil atomic.Int64
	failures  atomic.Int64
}

// Do runs fn unless the breaker is open; a failure opens it. redis.Nil
// (a miss) is not a failure.
func (b *Breaker) Do(fn func() error) error {
	if b == nil {
		return fn()
	}
	if time.Now().UnixNano() < b.downUntil.Load() {
		return ErrOpen
	}
	err := fn()
	if err != nil && !errors.Is(err, redis.Nil) {
		b.failures.Add(1)
		cd := b.Cooldown
		if cd == 0 {
			cd = 2 * time.Second
		}
		b.downUntil.Store(time.Now().Add(cd).UnixNano())
	}
	return err
}

// Failures counts cache errors since start.
func (b *Breaker) Failures() int64 {
	if b == nil {
		return 0
	}
	return b.failures.Load()
}
