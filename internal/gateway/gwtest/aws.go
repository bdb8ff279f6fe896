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

// SSMCall is one GetParameter the fake SSM answered or refused.
type SSMCall struct {
	AccessKey, RoleArn, Region, Name string
	Allowed                          bool
}

// SSM is a fake SSM. GetParametersByPath serves the routing parameters
// (signed by the gateway's task role); GetParameter serves the estate plan's
// profile-ARN parameters, each in its own account and region, only to
// credentials the fake STS issued for the role that parameter belongs to
// (the role's policy grants ssm:GetParameter on exactly it). The signature
// is checked.
type SSM struct {
	*httptest.Server
	sts *STS
	// Fail, when set, makes every GetParameter fail as a missing parameter.
	Fail atomic.Bool

	profiles map[string]ssmParam // account|region|name

	mu    sync.Mutex
	calls []SSMCall
}

type ssmParam struct{ value, roleArn string }

// NewSSM serves the routing parameters (name -> value) and, when sts and e
// are given, the profile ARNs of e's plan.
func NewSSM(tb testing.TB, params map[string]string, sts *STS, e *estate.Estate) *SSM {
	s := &SSM{sts: sts, profiles: map[string]ssmParam{}}
	if e != nil {
		for _, a := range e.Accounts {
			for _, set := range a.Profiles {
				for _, pr := range set.Roles {
					s.profiles[a.Account+"|"+set.Region+"|"+pr.Parameter] = ssmParam{pr.ParameterValue, fmt.Sprintf("arn:%s:iam::%s:role/%s", a.Partition, a.Account, pr.Role.Name)}
				}
			}
		}
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.Header.Get("X-Amz-Target") {
		case "AmazonSSM.GetParameter":
			s.getParameter(w, r, body)
			return
		case "AmazonSSM.GetParametersByPath":
		default:
			w.WriteHeader(400)
			return
		}
		if !strings.Contains(r.Header.Get("Authorization"), "/ssm/aws4_request") {
			w.WriteHeader(400)
			return
		}
		var in struct{ Path string }
		_ = json.Unmarshal(body, &in)
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
	tb.Cleanup(s.Close)
	return s
}

// Calls returns the GetParameter calls so far.
func (s *SSM) Calls() []SSMCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SSMCall(nil), s.calls...)
}

func (s *SSM) getParameter(w http.ResponseWriter, r *http.Request, body []byte) {
	fail := func(status int, typ, msg string) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"__type":%q,"message":%q}`, typ, msg)
	}
	if s.sts == nil {
		fail(400, "ParameterNotFound", "no profile parameters served")
		return
	}
	issued, akid, region, err := verifySigV4(s.sts, r, body, "ssm")
	if err != nil {
		fail(400, "UnrecognizedClientException", err.Error())
		return
	}
	var in struct{ Name string }
	_ = json.Unmarshal(body, &in)
	account := strings.Split(issued.RoleArn, ":")[4]
	p, found := s.profiles[account+"|"+region+"|"+in.Name]
	allowed := found && p.roleArn == issued.RoleArn && !s.Fail.Load()
	s.mu.Lock()
	s.calls = append(s.calls, SSMCall{AccessKey: akid, RoleArn: issued.RoleArn, Region: region, Name: in.Name, Allowed: allowed})
	s.mu.Unlock()
	switch {
	case s.Fail.Load() || !found:
		fail(400, "ParameterNotFound", "parameter "+in.Name+" not found")
	case !allowed:
		fail(400, "AccessDeniedException", issued.RoleArn+" is not authorized to perform ssm:GetParameter on "+in.Name)
	default:
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(map[string]any{"Parameter": map[string]any{"Name": in.Name, "Value": p.value, "Type": "String", "Version": 1}})
	}
}

// BedrockCall is one call the fake Bedrock accepted.
type BedrockCall struct {
	RoleArn, Subject, Region, Model, Op string
	Path                                string // as sent, escaped
	Header                              http.Header
	Body                                []byte
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
	issued, _, region, err := verifySigV4(b.sts, r, body, "bedrock")
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
	b.calls = append(b.calls, BedrockCall{RoleArn: issued.RoleArn, Subject: issued.Subject, Region: region, Model: model, Op: op, Path: r.URL.EscapedPath(), Header: r.Header.Clone(), Body: body})
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

// verifySigV4 recomputes the SigV4 signature over the signed headers with
// the secret the fake STS issued for the access key; it returns what the key
// was issued for, the key and the signed region.
func verifySigV4(sts *STS, r *http.Request, body []byte, service string) (Issued, string, string, error) {
	authz := r.Header.Get("Authorization")
	cred := between(authz, "Credential=", ",")
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[3] != service {
		return Issued{}, "", "", fmt.Errorf("not a SigV4 %s signature: %q", service, authz)
	}
	issued, ok := sts.Lookup(parts[0])
	if !ok {
		return Issued{}, "", "", fmt.Errorf("unknown access key %s", parts[0])
	}
	if r.Header.Get("X-Amz-Security-Token") != issued.SessionToken {
		return Issued{}, "", "", fmt.Errorf("session token does not match the access key")
	}
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return Issued{}, "", "", err
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
		re, sha256Hex(body), service, parts[2], at); err != nil {
		return Issued{}, "", "", err
	}
	if got, want := between(authz+",", "Signature=", ","), between(re.Header.Get("Authorization")+",", "Signature=", ","); got != want || got == "" {
		return Issued{}, "", "", fmt.Errorf("signature mismatch")
	}
	return issued, parts[0], parts[2], nil
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
