package auth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/acme/genai-estate/internal/gateway/auth"
	"github.com/acme/genai-estate/internal/gateway/gwtest"
)

func TestVerify(t *testing.T) {
	idp := gwtest.NewIdP(t, "")
	v, err := auth.New(context.Background(), auth.Options{Issuer: idp.Issuer, Audiences: []string{"genai-gateway", "other-aud"}})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	pub, _ := x509.MarshalPKIXPublicKey(&idp.Key.PublicKey)
	now := time.Now()
	sign := func(m jwt.SigningMethod, key any, mod func(jwt.MapClaims)) string {
		c := idp.Claims("usecase-a", "genai-gateway")
		if mod != nil {
			mod(c)
		}
		tok := jwt.NewWithClaims(m, c)
		tok.Header["kid"] = idp.KID
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	cases := []struct {
		name, token string
		ok          bool
	}{
		{"valid", idp.Token(t, "usecase-a", "genai-gateway"), true},
		{"second accepted audience", idp.Token(t, "usecase-a", "other-aud"), true},
		{"audience list with one accepted", sign(jwt.SigningMethodRS256, idp.Key, func(c jwt.MapClaims) { c["aud"] = []string{"x", "genai-gateway"} }), true},
		{"expired within skew", sign(jwt.SigningMethodRS256, idp.Key, func(c jwt.MapClaims) { c["exp"] = now.Add(-30 * time.Second).Unix() }), true},
		{"expired", sign(jwt.SigningMethodRS256, idp.Key, func(c jwt.MapClaims) { c["exp"] = now.Add(-2 * time.Minute).Unix() }), false},
		{"no exp", sign(jwt.SigningMethodRS256, idp.Key, func(c jwt.MapClaims) { delete(c, "exp") }), false},
		{"not yet valid", sign(jwt.SigningMethodRS256, idp.Key, func(c jwt.MapClaims) { c["nbf"] = now.Add(5 * time.Minute).Unix() }), false},
		{"wrong audience", idp.Token(t, "usecase-a", "someone-else"), false},
		{"wrong issuer", sign(jwt.SigningMethodRS256, idp.Key, func(c jwt.MapClaims) { c["iss"] = idp.Issuer + "/" }), false},
		{"no subject", sign(jwt.SigningMethodRS256, idp.Key, func(c jwt.MapClaims) { delete(c, "sub") }), false},
		{"bad signature", sign(jwt.SigningMethodRS256, other, nil), false},
		{"alg none", sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, nil), false},
		{"HS256 keyed with the public key", sign(jwt.SigningMethodHS256, pub, nil), false},
		{"RS512", sign(jwt.SigningMethodRS512, idp.Key, nil), false},
		{"garbage", "not.a.jwt", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl, err := v.Verify(context.Background(), c.token)
			if c.ok {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				if cl.Subject != "usecase-a" || cl.Audience == "" {
					t.Fatalf("claims %+v", cl)
				}
				return
			}
			if !errors.Is(err, auth.ErrUnauthorized) {
				t.Fatalf("accepted (err %v)", err)
			}
		})
	}
}

func TestVerifiedTokenCacheHonoursExpiry(t *testing.T) {
	idp := gwtest.NewIdP(t, "")
	clock := time.Now()
	v, err := auth.New(context.Background(), auth.Options{Issuer: idp.Issuer, Audiences: []string{"a"}, Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	c := idp.Claims("s", "a")
	c["exp"] = clock.Add(3 * time.Minute).Unix()
	tok := idp.Sign(t, c)
	for range 2 {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	clock = clock.Add(3*time.Minute + auth.Skew + time.Second)
	if _, err := v.Verify(context.Background(), tok); err == nil {
		t.Fatal("a cached token was accepted after it expired")
	}
}

func TestKeyRotation(t *testing.T) {
	idp := gwtest.NewIdP(t, "")
	clock := time.Now()
	v, err := auth.New(context.Background(), auth.Options{Issuer: idp.Issuer, Audiences: []string{"a"}, JWKSURL: idp.JWKSURL(),
		MinRefresh: time.Minute, Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	if idp.JWKSHits.Load() != 1 {
		t.Fatalf("JWKS read %d times at start", idp.JWKSHits.Load())
	}
	idp.Rotate(t, "k2")
	tok := idp.Token(t, "s", "a")
	// Within the refresh interval the new kid is not fetched: unknown kids
	// cannot make the gateway hammer the IdP.
	if _, err := v.Verify(context.Background(), tok); err == nil {
		t.Fatal("new kid accepted without a refresh")
	}
	clock = clock.Add(2 * time.Minute)
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	if _, err := v.Verify(context.Background(), tok); err != nil || idp.JWKSHits.Load() != 2 {
		t.Fatalf("JWKS read %d times, want 2 (err %v)", idp.JWKSHits.Load(), err)
	}
}

func TestDiscoveryIssuerMismatch(t *testing.T) {
	idp := gwtest.NewIdP(t, "https://elsewhere.example.com")
	if _, err := auth.New(context.Background(), auth.Options{Issuer: idp.URL, Audiences: []string{"a"}}); err == nil {
		t.Fatal("a discovery document naming another issuer was accepted")
	}
}
