package store

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestIAMToken(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", SessionToken: "session"}
	tok, err := IAMToken(context.Background(), creds, "us-east-1", "acme-genai-cache", "genai-gateway", at)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := IAMToken(context.Background(), creds, "us-east-1", "acme-genai-cache", "genai-gateway", at)
	if tok != again {
		t.Fatalf("same inputs gave two tokens:\n%s\n%s", tok, again)
	}
	if strings.Contains(tok, "://") || !strings.HasPrefix(tok, "acme-genai-cache/?") {
		t.Fatalf("token must be host/?query without a scheme, got %s", tok)
	}
	u, err := url.Parse("http://" + tok)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	for k, want := range map[string]string{
		"Action":               "connect",
		"User":                 "genai-gateway",
		"X-Amz-Algorithm":      "AWS4-HMAC-SHA256",
		"X-Amz-Credential":     "AKIDEXAMPLE/20260102/us-east-1/elasticache/aws4_request",
		"X-Amz-Date":           "20260102T030405Z",
		"X-Amz-Expires":        "900",
		"X-Amz-SignedHeaders":  "host",
		"X-Amz-Security-Token": "session",
	} {
		if got := q.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if len(q.Get("X-Amz-Signature")) != 64 {
		t.Errorf("signature %q is not a hex SHA-256 HMAC", q.Get("X-Amz-Signature"))
	}
	other, _ := IAMToken(context.Background(), creds, "us-east-1", "acme-genai-cache", "someone-else", at)
	if url.Values(mustQuery(t, other)).Get("X-Amz-Signature") == q.Get("X-Amz-Signature") {
		t.Error("the signature does not cover the user")
	}
}

func mustQuery(t *testing.T, tok string) url.Values {
	u, err := url.Parse("http://" + tok)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

func TestTokenProviderReuse(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	calls := 0
	p := &tokenProvider{o: Options{User: "u", ReplicationGroupID: "rg", Region: "us-east-1", Now: func() time.Time { return now },
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			calls++
			return aws.Credentials{AccessKeyID: "A", SecretAccessKey: "S"}, nil
		})}}
	u, t1, err := p.get(context.Background())
	if err != nil || u != "u" {
		t.Fatal(u, err)
	}
	now = now.Add(TokenReuse - time.Second)
	_, t2, _ := p.get(context.Background())
	if t1 != t2 || calls != 1 {
		t.Fatalf("token not reused within %v (calls %d)", TokenReuse, calls)
	}
	now = now.Add(2 * time.Second)
	_, t3, _ := p.get(context.Background())
	if t3 == t1 || calls != 2 {
		t.Fatalf("token not regenerated after %v (calls %d)", TokenReuse, calls)
	}
	if TokenReuse >= TokenLifetime {
		t.Fatal("tokens must be replaced before they expire")
	}
}
