package gwtest

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/acme/genai-estate/internal/estate"
	"github.com/acme/genai-estate/internal/review/iameval"
)

// STSCall is one AssumeRoleWithWebIdentity the fake STS decided.
type STSCall struct {
	RoleArn, Subject, SessionName string
	Allowed                       bool
}

// STS is a fake STS that decides AssumeRoleWithWebIdentity the way STS does:
// it validates the token against the IdP (signature, expiry), then evaluates
// the requested role's trust policy, as synthesized from the estate plan,
// with the project's IAM evaluator, for the provider of the role's own
// account and the token's aud and sub.
type STS struct {
	*httptest.Server
	idp   *IdP
	roles map[string]stsRole // by ARN

	mu      sync.Mutex
	calls   []STSCall
	issued  map[string]Issued // by access key id
	counter atomic.Int64
}

type stsRole struct {
	account, partition string
	trust              any // generic JSON, as in a template
}

// Issued is a set of credentials the fake STS handed out.
type Issued struct {
	RoleArn, Secret, SessionToken, Subject string
}

// NewSTS serves the roles of the estate plan.
func NewSTS(tb testing.TB, idp *IdP, e *estate.Estate) *STS {
	s := &STS{idp: idp, roles: map[string]stsRole{}, issued: map[string]Issued{}}
	for _, a := range e.Accounts {
		for _, r := range a.Roles {
			b, err := json.Marshal(r.Trust)
			if err != nil {
				tb.Fatal(err)
			}
			var doc any
			_ = json.Unmarshal(b, &doc)
			s.roles[fmt.Sprintf("arn:%s:iam::%s:role/%s", a.Partition, a.Account, r.Name)] = stsRole{a.Account, a.Partition, doc}
		}
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.Close)
	return s
}

// Calls returns the decisions so far.
func (s *STS) Calls() []STSCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]STSCall(nil), s.calls...)
}

// Lookup returns what an access key id was issued for.
func (s *STS) Lookup(akid string) (Issued, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.issued[akid]
	return i, ok
}

func (s *STS) serve(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	if r.Form.Get("Action") != "AssumeRoleWithWebIdentity" {
		stsError(w, 400, "InvalidAction", "unsupported action")
		return
	}
	roleArn, tok := r.Form.Get("RoleArn"), r.Form.Get("WebIdentityToken")
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(tok, &claims, func(*jwt.Token) (any, error) { return &s.idp.Key.PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(s.idp.Issuer), jwt.WithExpirationRequired())
	if err != nil {
		stsError(w, 400, "InvalidIdentityToken", "token rejected: "+err.Error())
		return
	}
	role, ok := s.roles[roleArn]
	allowed := false
	if ok {
		iss := strings.TrimPrefix(strings.TrimPrefix(s.idp.Issuer, "https://"), "http://")
		req := iameval.Request{
			Action:    "sts:AssumeRoleWithWebIdentity",
			Resource:  roleArn,
			Principal: map[string]string{"Federated": fmt.Sprintf("arn:%s:iam::%s:oidc-provider/%s", role.partition, role.account, iss)},
			Context:   map[string][]string{iss + ":aud": claims.Audience, iss + ":sub": {claims.Subject}},
		}
		d, _ := iameval.Evaluate(role.trust, req)
		allowed = d == iameval.Allow
	}
	s.mu.Lock()
	s.calls = append(s.calls, STSCall{RoleArn: roleArn, Subject: claims.Subject, SessionName: r.Form.Get("RoleSessionName"), Allowed: allowed})
	s.mu.Unlock()
	if !allowed {
		stsError(w, 403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
		return
	}
	n := s.counter.Add(1)
	akid := fmt.Sprintf("ASIAFAKE%08d", n)
	is := Issued{RoleArn: roleArn, Secret: "secret-" + akid, SessionToken: "session-" + akid, Subject: claims.Subject}
	s.mu.Lock()
	s.issued[akid] = is
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>`+
		`<Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey><SessionToken>%s</SessionToken><Expiration>%s</Expiration></Credentials>`+
		`<SubjectFromWebIdentityToken>%s</SubjectFromWebIdentityToken><AssumedRoleUser><Arn>%s/%s</Arn><AssumedRoleId>AROAFAKE:%s</AssumedRoleId></AssumedRoleUser>`+
		`</AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>req-%d</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>`,
		akid, is.Secret, is.SessionToken, time.Now().Add(time.Hour).UTC().Format(time.RFC3339), xmlEscape(claims.Subject),
		roleArn, xmlEscape(r.Form.Get("RoleSessionName")), xmlEscape(r.Form.Get("RoleSessionName")), n)
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func stsError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>x</RequestId></ErrorResponse>`, code, xmlEscape(msg))
}

// NewSSM serves GetParametersByPath over the given parameters (name -> value).
func NewSSM(tb testing.TB, params map[string]string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") != "AmazonSSM.GetParametersByPath" || !strings.Contains(r.Header.Get("Authorization"), "/ssm/aws4_request") {
			w.WriteHeader(400)
			return
		}
		var in struct{ Path string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		type p struct{ Name, Value, Type string }
		out := struct{ Parameters []p }{Parameters: []p{}}
		for n, v := range params {
			if strings.HasPrefix(n, strings.TrimSuffix(in.Path, "/")+"/") {
				out.Parameters = append(out.Parameters, p{n, v, "String"})
			}
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(out)
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// BedrockCall is one call the fake Bedrock accepted.
type BedrockCall struct {
	RoleArn, Subject, Region, Model, Op string
	Header                              http.Header
}

// Bedrock is a fake bedrock-runtime. It accepts only requests signed (SigV4,
// service bedrock) with credentials the fake STS issued, and checks the
// signature itself.
type Bedrock struct {
	*httptest.Server
	sts *STS
	// Gate, when set, holds streams after their first event until closed.
	Gate chan struct{}

	mu    sync.Mutex
	calls []BedrockCall
}

// NewBedrock starts the fake.
func NewBedrock(tb testing.TB, sts *STS) *Bedrock {
	b := &Bedrock{sts: sts}
	b.Server = httptest.NewServer(http.HandlerFunc(b.serve))
	tb.Cleanup(b.Close)
	return b
}

// Calls returns the accepted calls.
func (b *Bedrock) Calls() []BedrockCall {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]BedrockCall(nil), b.calls...)
}

func (b *Bedrock) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	issued, region, err := b.verify(r, body)
	if err != nil {
		w.Header().Set("X-Amzn-ErrorType", "UnrecognizedClientException")
		w.WriteHeader(403)
		fmt.Fprintf(w, `{"message":%q}`, err.Error())
		return
	}
	rest := strings.TrimPrefix(r.URL.EscapedPath(), "/model/")
	i := strings.LastIndex(rest, "/")
	model, _ := url.PathUnescape(rest[:i])
	op := rest[i+1:]
	b.mu.Lock()
	b.calls = append(b.calls, BedrockCall{RoleArn: issued.RoleArn, Subject: issued.Subject, Region: region, Model: model, Op: op, Header: r.Header.Clone()})
	b.mu.Unlock()
	switch op {
	case "converse":
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"output":{"message":{"role":"assistant","content":[{"text":"hello"}]}},"stopReason":"end_turn","usage":{"inputTokens":11,"outputTokens":7,"totalTokens":18},"metrics":{"latencyMs":3}}`)
	case "invoke":
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-Bedrock-Input-Token-Count", "13")
		w.Header().Set("X-Amzn-Bedrock-Output-Token-Count", "5")
		_, _ = io.WriteString(w, `{"completion":"hello"}`)
	case "converse-stream":
		b.stream(w, []eventstream.Message{
			event("messageStart", `{"role":"assistant"}`),
			event("contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"hel"}}`),
			event("contentBlockDelta", `{"contentBlockIndex":0,"delta":{"text":"lo"}}`),
			event("contentBlockStop", `{"contentBlockIndex":0}`),
			event("messageStop", `{"stopReason":"end_turn"}`),
			event("metadata", `{"usage":{"inputTokens":21,"outputTokens":9,"totalTokens":30},"metrics":{"latencyMs":5}}`),
		})
	case "invoke-with-response-stream":
		chunk := func(s string) eventstream.Message {
			p, _ := json.Marshal(map[string][]byte{"bytes": []byte(s)})
			return event("chunk", string(p))
		}
		b.stream(w, []eventstream.Message{
			chunk(`{"type":"content_block_delta","delta":{"text":"hel"}}`),
			chunk(`{"type":"content_block_delta","delta":{"text":"lo"}}`),
			chunk(`{"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":17,"outputTokenCount":4}}`),
		})
	default:
		w.WriteHeader(404)
	}
}

func event(typ, payload string) eventstream.Message {
	return eventstream.Message{Headers: eventstream.Headers{
		{Name: ":message-type", Value: eventstream.StringValue("event")},
		{Name: ":event-type", Value: eventstream.StringValue(typ)},
		{Name: ":content-type", Value: eventstream.StringValue("application/json")},
	}, Payload: []byte(payload)}
}

func (b *Bedrock) stream(w http.ResponseWriter, msgs []eventstream.Message) {
	w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
	w.WriteHeader(200)
	enc := eventstream.NewEncoder()
	for i, m := range msgs {
		_ = enc.Encode(w, m)
		w.(http.Flusher).Flush()
		if i == 0 && b.Gate != nil {
			select {
			case <-b.Gate:
			case <-time.After(10 * time.Second):
			}
		}
	}
}

// verify recomputes the SigV4 signature over the signed headers with the
// secret the fake STS issued for the access key.
func (b *Bedrock) verify(r *http.Request, body []byte) (Issued, string, error) {
	authz := r.Header.Get("Authorization")
	cred := between(authz, "Credential=", ",")
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[3] != "bedrock" {
		return Issued{}, "", fmt.Errorf("not a SigV4 bedrock signature: %q", authz)
	}
	issued, ok := b.sts.Lookup(parts[0])
	if !ok {
		return Issued{}, "", fmt.Errorf("unknown access key %s", parts[0])
	}
	if r.Header.Get("X-Amz-Security-Token") != issued.SessionToken {
		return Issued{}, "", fmt.Errorf("session token does not match the access key")
	}
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return Issued{}, "", err
	}
	u := &url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
	re, _ := http.NewRequest(r.Method, u.String(), nil)
	re.ContentLength = r.ContentLength
	for _, h := range strings.Split(between(authz, "SignedHeaders=", ","), ";") {
		if h != "host" && h != "content-length" {
			re.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	re.Header.Del("Authorization")
	if err := v4.NewSigner().SignHTTP(r.Context(), aws.Credentials{AccessKeyID: parts[0], SecretAccessKey: issued.Secret, SessionToken: issued.SessionToken},
		re, sha256Hex(body), "bedrock", parts[2], at); err != nil {
		return Issued{}, "", err
	}
	if got, want := between(authz+",", "Signature=", ","), between(re.Header.Get("Authorization")+",", "Signature=", ","); got != want || got == "" {
		return Issued{}, "", fmt.Errorf("signature mismatch")
	}
	return issued, parts[2], nil
}

func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	s = s[i+len(start):]
	if j := strings.Index(s, end); j >= 0 {
		return s[:j]
	}
	return s
}
