// Package gwtest holds the gateway's test fakes: a real redis-server started
// per test, an OIDC identity provider that mints RS256 tokens, and helpers.
package gwtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/redis/go-redis/v9"
)

// Redis is a redis-server process owned by one test.
type Redis struct {
	Addr string
	Port int
	cmd  *exec.Cmd
}

// StartRedis starts redis-server on 127.0.0.1 and a free port, stopped at
// the end of the test. Without the binary the test is skipped, except in CI
// (CI=true), where .ci/run installs it and a skip would hide a missing step.
func StartRedis(tb testing.TB) *Redis {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatal("redis-server is not installed; .ci/run installs it with apt (apt-get install -y redis-server)")
		}
		tb.Skip("redis-server is not installed (apt-get install -y redis-server); skipping the tests that need a real Valkey/Redis")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", tb.TempDir())
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	r := &Redis{Addr: fmt.Sprintf("127.0.0.1:%d", port), Port: port, cmd: cmd}
	tb.Cleanup(r.Stop)
	c := redis.NewClient(&redis.Options{Addr: r.Addr})
	defer c.Close()
	for i := 0; ; i++ {
		if c.Ping(tb.Context()).Err() == nil {
			return r
		}
		if i > 100 {
			tb.Fatalf("redis-server on %s did not answer", r.Addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop kills the server (idempotent); tests use it to simulate an outage.
func (r *Redis) Stop() {
	if r.cmd.Process != nil && r.cmd.ProcessState == nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
	}
}

// IdP is a fake OIDC issuer: discovery, JWKS and token minting.
type IdP struct {
	*httptest.Server
	Issuer string
	Key    *rsa.PrivateKey
	KID    string
	// JWKSHits counts JWKS downloads.
	JWKSHits atomic.Int64
}

// NewIdP starts an IdP. issuer is the iss it writes; empty means its own URL.
func NewIdP(tb testing.TB, issuer string) *IdP {
	tb.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	p := &IdP{Key: key, KID: "k1"}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": p.Issuer, "jwks_uri": p.URL + "/keys"})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		p.JWKSHits.Add(1)
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "use": "sig", "alg": "RS256", "kid": p.KID,
			"n": base64.RawURLEncoding.EncodeToString(p.Key.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(p.Key.E)).Bytes()),
		}}})
	})
	p.Server = httptest.NewServer(mux)
	tb.Cleanup(p.Close)
	p.Issuer = issuer
	if issuer == "" {
		p.Issuer = p.URL
	}
	return p
}

// JWKSURL is where the keys are.
func (p *IdP) JWKSURL() string { return p.URL + "/keys" }

// Claims for a token of subject and audience, valid for an hour.
func (p *IdP) Claims(sub, aud string) jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{"iss": p.Issuer, "sub": sub, "aud": aud, "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()}
}

// Token mints an RS256 token (the client-credentials grant's result).
func (p *IdP) Token(tb testing.TB, sub, aud string) string {
	return p.Sign(tb, p.Claims(sub, aud))
}

// Sign signs claims with the IdP's key.
func (p *IdP) Sign(tb testing.TB, c jwt.MapClaims) string {
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	t.Header["kid"] = p.KID
	s, err := t.SignedString(p.Key)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// Rotate replaces the signing key under a new kid.
func (p *IdP) Rotate(tb testing.TB, kid string) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		tb.Fatal(err)
	}
	p.Key, p.KID = key, kid
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
