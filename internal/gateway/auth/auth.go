// Package auth verifies the callers' bearer tokens: RS256 signatures against
// the issuer's JWKS (discovered, cached, refreshed on an unknown key id),
// the exact issuer, an accepted audience, and exp/nbf with a small skew.
// The ALB checks the same token at the edge; this is the second check, so a
// request that bypasses the ALB (or a misconfigured listener) gains nothing.
package auth

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/sync/singleflight"
)

// Skew is the clock skew tolerated on exp and nbf.
const Skew = 60 * time.Second

// MinRefreshInterval bounds JWKS refreshes caused by unknown key ids, so a
// flood of tokens with made-up kids cannot turn the gateway against the IdP.
const MinRefreshInterval = 30 * time.Second

// ErrUnauthorized wraps every verification failure.
var ErrUnauthorized = errors.New("unauthorized")

// Options configure a Verifier.
type Options struct {
	Issuer    string
	Audiences []string
	// JWKSURL is optional: without it the issuer's OIDC discovery document names it.
	JWKSURL string
	Client  *http.Client
	// MinRefresh overrides MinRefreshInterval (tests).
	MinRefresh time.Duration
	// Now overrides the clock (tests).
	Now func() time.Time
}

// Verifier checks tokens. It is safe for concurrent use.
type Verifier struct {
	opt    Options
	parser *jwt.Parser

	mu          sync.RWMutex
	jwksURL     string
	keys        map[string]*rsa.PublicKey
	lastRefresh time.Time
	sf          singleflight.Group

	// seen caches verified tokens by their SHA-256: a client-credentials
	// token is reused for its whole life, and an RSA verification is the
	// largest CPU cost of a request. Entries end at the token's expiry, or
	// after seenFor so that a key the IdP withdrew stops working soon.
	seenMu sync.RWMutex
	seen   map[[32]byte]seenToken
}

type seenToken struct {
	c          Claims
	notBefore  time.Time
	validUntil time.Time
}

// Verified-token cache bounds.
const (
	seenFor = 5 * time.Minute
	seenMax = 50000
)

// New builds a verifier and loads the keys once, so that a wrong issuer or
// JWKS URL fails at start rather than on the first request.
func New(ctx context.Context, o Options) (*Verifier, error) {
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if o.MinRefresh == 0 {
		o.MinRefresh = MinRefreshInterval
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Issuer == "" || len(o.Audiences) == 0 {
		return nil, errors.New("auth: issuer and at least one audience are required")
	}
	v := &Verifier{opt: o, jwksURL: o.JWKSURL, keys: map[string]*rsa.PublicKey{}}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{"RS256"}), // rejects none, HS* and every other alg
		jwt.WithIssuer(o.Issuer),
		jwt.WithAudience(o.Audiences...), // any one of them
		jwt.WithLeeway(Skew),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(o.Now),
	)
	if v.jwksURL == "" {
		u, err := discover(ctx, o.Client, o.Issuer)
		if err != nil {
			return nil, err
		}
		v.jwksURL = u
	}
	if err := v.refresh(ctx); err != nil {
		return nil, err
	}
	return v, nil
}

// Claims is what the gateway uses of a verified token.
type Claims struct {
	Subject  string
	Audience string // the accepted audience the token carries
	Expiry   time.Time
}

// Verify checks a compact JWT and returns its claims.
func (v *Verifier) Verify(ctx context.Context, token string) (Claims, error) {
	sum := sha256.Sum256([]byte(token))
	now := v.opt.Now()
	v.seenMu.RLock()
	st, ok := v.seen[sum]
	v.seenMu.RUnlock()
	if ok && now.Before(st.validUntil) && !now.Before(st.notBefore.Add(-Skew)) {
		return st.c, nil
	}
	c, nbf, err := v.verify(ctx, token)
	if err != nil {
		return Claims{}, err
	}
	until := c.Expiry.Add(Skew)
	if lim := now.Add(seenFor); lim.Before(until) {
		until = lim
	}
	v.seenMu.Lock()
	if v.seen == nil || len(v.seen) >= seenMax {
		v.seen = map[[32]byte]seenToken{}
	}
	v.seen[sum] = seenToken{c: c, notBefore: nbf, validUntil: until}
	v.seenMu.Unlock()
	return c, nil
}

func (v *Verifier) verify(ctx context.Context, token string) (Claims, time.Time, error) {
	var rc jwt.RegisteredClaims
	_, err := v.parser.ParseWithClaims(token, &rc, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		return v.key(ctx, kid)
	})
	if err != nil {
		return Claims{}, time.Time{}, fmt.Errorf("%w: %v", ErrUnauthorized, err)
	}
	if rc.Subject == "" {
		return Claims{}, time.Time{}, fmt.Errorf("%w: token has no sub", ErrUnauthorized)
	}
	c := Claims{Subject: rc.Subject, Expiry: rc.ExpiresAt.Time}
	for _, a := range rc.Audience {
		for _, want := range v.opt.Audiences {
			if a == want && c.Audience == "" {
				c.Audience = a
			}
		}
	}
	var nbf time.Time
	if rc.NotBefore != nil {
		nbf = rc.NotBefore.Time
	}
	return c, nbf, nil
}

func (v *Verifier) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	if k := v.lookup(kid); k != nil {
		return k, nil
	}
	v.mu.RLock()
	recent := v.opt.Now().Sub(v.lastRefresh) < v.opt.MinRefresh
	v.mu.RUnlock()
	if !recent {
		// The IdP may have rotated its keys; fetch once for all waiting callers.
		_, err, _ := v.sf.Do("refresh", func() (any, error) { return nil, v.refresh(ctx) })
		if err != nil {
			return nil, err
		}
		if k := v.lookup(kid); k != nil {
			return k, nil
		}
	}
	return nil, fmt.Errorf("no key with kid %q in the issuer's JWKS", kid)
}

func (v *Verifier) lookup(kid string) *rsa.PublicKey {
	v.mu.RLock()
	defer v.mu.RUnlock()
	if kid == "" && len(v.keys) == 1 {
		for _, k := range v.keys {
			return k
		}
	}
	return v.keys[kid]
}

func (v *Verifier) refresh(ctx context.Context) error {
	v.mu.Lock()
	v.lastRefresh = v.opt.Now()
	v.mu.Unlock()
	var set struct {
		Keys []struct {
			Kty, Kid, Use, Alg, N, E string
		} `json:"keys"`
	}
	if err := getJSON(ctx, v.opt.Client, v.jwksURL, &set); err != nil {
		return fmt.Errorf("auth: JWKS: %w", err)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" || (k.Use != "" && k.Use != "sig") || (k.Alg != "" && k.Alg != "RS256") {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil || len(e) > 4 {
			continue
		}
		keys[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	if len(keys) == 0 {
		return fmt.Errorf("auth: JWKS at %s has no RS256 signing key", v.jwksURL)
	}
	v.mu.Lock()
	v.keys = keys
	v.mu.Unlock()
	return nil
}

// discover reads the issuer's OIDC discovery document.
func discover(ctx context.Context, c *http.Client, issuer string) (string, error) {
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	u := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	if err := getJSON(ctx, c, u, &doc); err != nil {
		return "", fmt.Errorf("auth: OIDC discovery: %w", err)
	}
	if doc.Issuer != issuer {
		return "", fmt.Errorf("auth: OIDC discovery at %s names issuer %q, want %q", u, doc.Issuer, issuer)
	}
	if doc.JWKSURI == "" {
		return "", fmt.Errorf("auth: OIDC discovery at %s has no jwks_uri", u)
	}
	return doc.JWKSURI, nil
}

func getJSON(ctx context.Context, c *http.Client, url string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out)
}
