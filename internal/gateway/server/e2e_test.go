package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	brtypes "github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/golang-jwt/jwt/v5"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/estate"
	"github.com/acme/genai-estate/internal/gateway/env"
	"github.com/acme/genai-estate/internal/gateway/gwtest"
	"github.com/acme/genai-estate/internal/gateway/server"
)

const (
	issuer   = "https://acme.okta.com/oauth2/default" // the example estate's IdP
	audience = "genai-gateway"
	maxBody  = 64 << 10
)

// syncBuf collects the JSON log lines.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

type rig struct {
	gw      *httptest.Server
	srv     *server.Server
	idp     *gwtest.IdP
	sts     *gwtest.STS
	bedrock *gwtest.Bedrock
	ssm     *gwtest.SSM
	redis   *gwtest.Redis
	estate  *estate.Estate
	logs    *syncBuf
}

// newRig wires the gateway exactly as main does (server.FromEnv from the
// environment contract), against fakes of the IdP, STS, SSM and Bedrock and
// a real redis-server, with the example estate's routing data.
func newRig(tb testing.TB, quiet bool, quotas map[string]config.Quota) *rig {
	c, err := config.Load("../../../config/usecases.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	e, err := estate.Build(c)
	if err != nil {
		tb.Fatal(err)
	}
	params := map[string]string{}
	for _, p := range e.Routing {
		v := p.Value
		if q, ok := quotas[p.UseCase]; ok {
			var d estate.Routing
			_ = json.Unmarshal([]byte(v), &d)
			d.Quota = q
			b, _ := json.Marshal(d)
			v = string(b)
		}
		params[p.Name] = v
	}
	r := &rig{estate: e, logs: &syncBuf{}}
	r.redis = gwtest.StartRedis(tb)
	r.idp = gwtest.NewIdP(tb, issuer)
	r.sts = gwtest.NewSTS(tb, r.idp, e)
	r.bedrock = gwtest.NewBedrock(tb, r.sts)
	r.ssm = gwtest.NewSSM(tb, params, r.sts, e)
	ssm := r.ssm
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIDTASKROLE", "AWS_SECRET_ACCESS_KEY": "task-secret", "AWS_SESSION_TOKEN": "",
		"AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull, "AWS_EC2_METADATA_DISABLED": "true", "AWS_PROFILE": "",
		env.AWSRegion:                      "us-east-1",
		"AWS_ENDPOINT_URL_STS":             r.sts.URL,
		"AWS_ENDPOINT_URL_SSM":             ssm.URL,
		"AWS_ENDPOINT_URL_BEDROCK_RUNTIME": r.bedrock.URL,
		env.RoutingParameterPath:           estate.RoutingPath(c),
		env.IdPIssuerURL:                   issuer,
		env.IdPAudience:                    "other-app-we-accept," + audience,
		env.IdPJWKSURL:                     r.idp.JWKSURL(),
		env.CacheEndpoint:                  "127.0.0.1",
		env.CachePort:                      strconv.Itoa(r.redis.Port),
		env.CacheTLS:                       "false",
		env.CacheIAMAuth:                   "false",
		env.CredentialTTLSeconds:           "900",
		env.RequestTimeoutSeconds:          "30",
		env.MaxBodyBytes:                   strconv.Itoa(maxBody),
	} {
		tb.Setenv(k, v)
	}
	cfg, err := env.Load(os.LookupEnv)
	if err != nil {
		tb.Fatal(err)
	}
	var out io.Writer = r.logs
	if quiet {
		out = io.Discard
	}
	ctx, cancel := context.WithCancel(context.Background())
	tb.Cleanup(cancel)
	s, closeFn, err := server.FromEnv(ctx, cfg, slog.New(slog.NewJSONHandler(out, nil)))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(closeFn)
	r.srv = s
	// TLS: the SDK sends a bearer token only over HTTPS (the ALB terminates it in production).
	r.gw = httptest.NewTLSServer(s)
	tb.Cleanup(r.gw.Close)
	return r
}

// sdk is a stock bedrock-runtime client pointed at the gateway with the
// token in AWS_BEARER_TOKEN_BEDROCK, as a use case would configure it.
func (r *rig) sdk(tb testing.TB, token string) *bedrockruntime.Client {
	tb.Setenv("AWS_BEARER_TOKEN_BEDROCK", token)
	return bedrockruntime.New(bedrockruntime.Options{Region: "us-east-1", BaseEndpoint: aws.String(r.gw.URL), RetryMaxAttempts: 1, HTTPClient: r.gw.Client()})
}

// raw posts to the gateway without the SDK.
func (r *rig) raw(tb testing.TB, token, path, body string, hdr map[string]string) *http.Response {
	req, _ := http.NewRequest(http.MethodPost, r.gw.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := r.gw.Client().Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { resp.Body.Close() })
	return resp
}

// waitLog waits for a log line: the request line is written after the
// answer has reached the caller.
func (r *rig) waitLog(tb testing.TB, want string) {
	tb.Helper()
	for i := 0; !strings.Contains(r.logs.String(), want); i++ {
		if i == 200 {
			tb.Fatalf("no log line with %s in:\n%s", want, r.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (r *rig) roleArn(account, subject string) string {
	for _, a := range r.estate.Accounts {
		if a.Name != account {
			continue
		}
		for _, ro := range a.Roles {
			if ro.Name.Subject == subject {
				return fmt.Sprintf("arn:%s:iam::%s:role/%s", a.Partition, a.Account, ro.Name)
			}
		}
	}
	return ""
}

// appProfile is the application inference profile ARN the estate plan
// publishes for a role's model (the fake SSM serves the plan's values).
func (r *rig) appProfile(tb testing.TB, account, subject, region, model string) string {
	tb.Helper()
	for _, a := range r.estate.Accounts {
		for _, set := range a.Profiles {
			for _, pr := range set.Roles {
				for _, p := range pr.Profiles {
					if a.Name == account && set.Region == region && pr.Role.Name.Subject == subject && p.Model == model {
						return p.Placeholder
					}
				}
			}
		}
	}
	tb.Fatalf("no application profile of %s %s in %s %s", subject, model, account, region)
	return ""
}

func (r *rig) stsCalls(roleArn, sub string) (n int) {
	for _, c := range r.sts.Calls() {
		if c.RoleArn == roleArn && c.Subject == sub {
			n++
		}
	}
	return n
}

func converseIn(model string) *bedrockruntime.ConverseInput {
	return &bedrockruntime.ConverseInput{ModelId: aws.String(model), Messages: []brtypes.Message{{
		Role: brtypes.ConversationRoleUser, Content: []brtypes.ContentBlock{&brtypes.ContentBlockMemberText{Value: "secret prompt text"}}}}}
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestGatewayEndToEnd(t *testing.T) {
	// UseCaseD's quota is tightened to be reachable in a test.
	r := newRig(t, false, map[string]config.Quota{"UseCaseD": {RequestsPerMinute: 2}})
	ctx := context.Background()
	tokA := r.idp.Token(t, "usecase-a", audience)
	tokB := r.idp.Token(t, "usecase-b", audience)
	roleA := r.roleArn("SharedModelsA", "UseCaseA")
	roleB := r.roleArn("SharedModelsA", "UseCaseB")
	if roleA == "" || roleB == "" {
		t.Fatal("example estate lacks the expected roles")
	}

	t.Run("allowed model through a stock SDK, second call from cache", func(t *testing.T) {
		c := r.sdk(t, tokA)
		for i := range 2 {
			out, err := c.Converse(ctx, converseIn("anthropic.claude-3-sonnet-20240229-v1:0"))
			if err != nil {
				t.Fatalf("call %d: %v", i, err)
			}
			msg := out.Output.(*brtypes.ConverseOutputMemberMessage).Value
			if txt := msg.Content[0].(*brtypes.ContentBlockMemberText).Value; txt != "hello" || aws.ToInt32(out.Usage.InputTokens) != 11 {
				t.Fatalf("answer %q usage %+v", txt, out.Usage)
			}
		}
		if n := r.stsCalls(roleA, "usecase-a"); n != 1 {
			t.Fatalf("STS called %d times for two calls, want 1 (second from cache)", n)
		}
		last := r.bedrock.Calls()[len(r.bedrock.Calls())-1]
		// costAttribution profiles: the role may call the model only through its application profile.
		if last.RoleArn != roleA || last.Region != "us-east-1" || last.Model != r.appProfile(t, "SharedModelsA", "UseCaseA", "us-east-1", "anthropic.claude-3-sonnet-20240229-v1:0") || last.Subject != "usecase-a" {
			t.Fatalf("bedrock saw %+v", last)
		}
		for _, c := range r.sts.Calls() {
			if c.SessionName != "gw.UseCaseA" && c.Subject == "usecase-a" {
				t.Fatalf("session name %q does not name the use case", c.SessionName)
			}
		}
	})

	t.Run("invoke counts tokens from headers", func(t *testing.T) {
		c := r.sdk(t, tokA)
		out, err := c.InvokeModel(ctx, &bedrockruntime.InvokeModelInput{ModelId: aws.String("amazon.titan-text-premier-v1:0"), ContentType: aws.String("application/json"), Body: []byte(`{"inputText":"hi"}`)})
		if err != nil {
			t.Fatal(err)
		}
		if string(out.Body) != `{"completion":"hello"}` {
			t.Fatalf("body %s", out.Body)
		}
		r.waitLog(t, `"model":"amazon.titan-text-premier-v1:0","account":"SharedModelsA","region":"us-east-1","cache":"local","inputTokens":13,"outputTokens":5`)
	})

	t.Run("streams through the SDK", func(t *testing.T) {
		c := r.sdk(t, tokA)
		out, err := c.ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{ModelId: aws.String("anthropic.claude-3-sonnet-20240229-v1:0"), Messages: converseIn("").Messages})
		if err != nil {
			t.Fatal(err)
		}
		var text string
		var usage *brtypes.TokenUsage
		for ev := range out.GetStream().Events() {
			switch v := ev.(type) {
			case *brtypes.ConverseStreamOutputMemberContentBlockDelta:
				text += v.Value.Delta.(*brtypes.ContentBlockDeltaMemberText).Value
			case *brtypes.ConverseStreamOutputMemberMetadata:
				usage = v.Value.Usage
			}
		}
		if err := out.GetStream().Err(); err != nil || text != "hello" || usage == nil {
			t.Fatalf("text %q usage %v err %v", text, usage, err)
		}
		r.waitLog(t, `"op":"converse-stream","status":200,"useCase":"UseCaseA"`)
		r.waitLog(t, `"inputTokens":21,"outputTokens":9`)
		if _, err := c.InvokeModelWithResponseStream(ctx, &bedrockruntime.InvokeModelWithResponseStreamInput{ModelId: aws.String("anthropic.claude-3-sonnet-20240229-v1:0"), Body: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("streaming is not buffered", func(t *testing.T) {
		r.bedrock.Gate = make(chan struct{})
		defer func() { r.bedrock.Gate = nil }()
		resp := r.raw(t, tokA, "/model/anthropic.claude-3-sonnet-20240229-v1%3A0/invoke-with-response-stream", `{"prompt":"x"}`, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		dec := eventstream.NewDecoder()
		first := make(chan error, 1)
		go func() { _, err := dec.Decode(resp.Body, nil); first <- err }()
		select {
		case err := <-first:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("first event did not arrive while Bedrock was still streaming: the gateway buffers")
		}
		close(r.bedrock.Gate)
		n := 1
		for {
			if _, err := dec.Decode(resp.Body, nil); err != nil {
				break
			}
			n++
		}
		if n != 3 {
			t.Fatalf("got %d events, want 3", n)
		}
	})

	t.Run("account and region headers, inference profile ARN", func(t *testing.T) {
		resp := r.raw(t, tokA, "/model/anthropic.claude-3-sonnet-20240229-v1:0/converse", `{}`, map[string]string{server.HeaderRegion: "us-west-2"})
		last := r.bedrock.Calls()[len(r.bedrock.Calls())-1]
		if resp.StatusCode != 200 || last.Region != "us-west-2" {
			t.Fatalf("status %d region %s", resp.StatusCode, last.Region)
		}
		resp = r.raw(t, tokA, "/model/anthropic.claude-3-haiku-20240307-v1:0/converse", `{}`, map[string]string{server.HeaderAccount: "333333333333"})
		last = r.bedrock.Calls()[len(r.bedrock.Calls())-1]
		if resp.StatusCode != 200 || last.RoleArn != r.roleArn("SharedModelsB", "UseCaseA") {
			t.Fatalf("status %d role %s", resp.StatusCode, last.RoleArn)
		}
		resp = r.raw(t, tokA, "/model/anthropic.claude-3-haiku-20240307-v1:0/converse", `{}`, map[string]string{server.HeaderAccount: "SharedModelsC"})
		last = r.bedrock.Calls()[len(r.bedrock.Calls())-1]
		if resp.StatusCode != 200 || last.RoleArn != r.roleArn("SharedModelsC", "Analytics") || last.Region != "us-west-2" {
			t.Fatalf("group route: status %d role %s region %s", resp.StatusCode, last.RoleArn, last.Region)
		}
		profile := "arn:aws:bedrock:us-east-1:222222222222:inference-profile/us.anthropic.claude-3-5-sonnet-20241022-v2:0"
		if _, err := r.sdk(t, tokA).Converse(ctx, converseIn(profile)); err != nil {
			t.Fatal(err)
		}
		if last = r.bedrock.Calls()[len(r.bedrock.Calls())-1]; last.Model != r.appProfile(t, "SharedModelsA", "UseCaseA", "us-east-1", "us.anthropic.claude-3-5-sonnet-20241022-v2:0") || last.RoleArn != roleA {
			t.Fatalf("profile call reached Bedrock as %+v", last)
		}
	})

	t.Run("model outside the grant is 403 with the allowed models", func(t *testing.T) {
		before := len(r.sts.Calls())
		resp := r.raw(t, tokB, "/model/anthropic.claude-3-sonnet-20240229-v1:0/converse", `{}`, nil)
		var body struct {
			Allowed []struct {
				Account string
				Models  []string
			}
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		if resp.StatusCode != 403 || resp.Header.Get("X-Amzn-ErrorType") != "AccessDeniedException" {
			t.Fatalf("status %d", resp.StatusCode)
		}
		found := false
		for _, a := range body.Allowed {
			found = found || (a.Account == "SharedModelsA" && len(a.Models) == 1 && a.Models[0] == "meta.llama3-70b-instruct-v1:0")
		}
		if !found {
			t.Fatalf("403 does not list B's grants: %+v", body)
		}
		if len(r.sts.Calls()) != before {
			t.Fatal("the gateway asked STS for a role outside the caller's routing")
		}
		_, err := r.sdk(t, tokB).Converse(ctx, converseIn("anthropic.claude-3-sonnet-20240229-v1:0"))
		if apiCode(err) != "AccessDeniedException" {
			t.Fatalf("SDK error %v", err)
		}
		// No header can point B at A's account for A's model either.
		resp = r.raw(t, tokB, "/model/anthropic.claude-3-sonnet-20240229-v1:0/converse", `{}`, map[string]string{server.HeaderAccount: "SharedModelsA", "X-Genai-Role": roleA})
		if resp.StatusCode != 403 || r.stsCalls(roleA, "usecase-b") != 0 {
			t.Fatalf("status %d, STS calls of B for A's role %d", resp.StatusCode, r.stsCalls(roleA, "usecase-b"))
		}
	})

	t.Run("STS itself refuses B's token for A's role", func(t *testing.T) {
		c := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(r.sts.URL), Credentials: aws.AnonymousCredentials{}})
		_, err := c.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(roleA), RoleSessionName: aws.String("x"), WebIdentityToken: aws.String(tokB)})
		if apiCode(err) != "AccessDenied" {
			t.Fatalf("B's token for A's role: %v", err)
		}
		if _, err := c.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(roleB), RoleSessionName: aws.String("x"), WebIdentityToken: aws.String(tokB)}); err != nil {
			t.Fatalf("B's token for B's role: %v", err)
		}
		// The audience is part of the trust too.
		other := r.idp.Token(t, "usecase-a", "other-app-we-accept")
		if _, err := c.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(roleA), RoleSessionName: aws.String("x"), WebIdentityToken: aws.String(other)}); apiCode(err) != "AccessDenied" {
			t.Fatalf("token of another audience: %v", err)
		}
		// Which the gateway passes on as 403, not as its own failure.
		resp := r.raw(t, other, "/model/anthropic.claude-3-sonnet-20240229-v1:0/converse", `{}`, nil)
		if resp.StatusCode != 403 {
			t.Fatalf("STS denial answered %d", resp.StatusCode)
		}
	})

	t.Run("unknown subject is 403", func(t *testing.T) {
		resp := r.raw(t, r.idp.Token(t, "nobody", audience), "/model/anthropic.claude-3-sonnet-20240229-v1:0/converse", `{}`, nil)
		if resp.StatusCode != 403 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})

	t.Run("bad tokens are 401", func(t *testing.T) {
		expired := r.idp.Claims("usecase-a", audience)
		expired["exp"] = time.Now().Add(-10 * time.Minute).Unix()
		forged := gwtest.NewIdP(t, issuer) // same issuer and kid, another key
		none := jwt.NewWithClaims(jwt.SigningMethodNone, r.idp.Claims("usecase-a", audience))
		noneTok, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
		cases := map[string]string{
			"expired":        r.idp.Sign(t, expired),
			"wrong audience": r.idp.Token(t, "usecase-a", "not-the-gateway"),
			"bad signature":  forged.Token(t, "usecase-a", audience),
			"alg none":       noneTok,
			"missing":        "",
		}
		for name, tok := range cases {
			resp := r.raw(t, tok, "/model/anthropic.claude-3-sonnet-20240229-v1:0/converse", `{}`, nil)
			if resp.StatusCode != 401 {
				t.Errorf("%s: status %d", name, resp.StatusCode)
			}
		}
	})

	t.Run("malformed JSON is 400, oversized body 413", func(t *testing.T) {
		if resp := r.raw(t, tokA, "/model/anthropic.claude-3-sonnet-20240229-v1:0/converse", `{"messages":[`, nil); resp.StatusCode != 400 {
			t.Fatalf("malformed: %d", resp.StatusCode)
		}
		big := `{"x":"` + strings.Repeat("a", maxBody) + `"}`
		if resp := r.raw(t, tokA, "/model/anthropic.claude-3-sonnet-20240229-v1:0/converse", big, nil); resp.StatusCode != 413 {
			t.Fatalf("oversized: %d", resp.StatusCode)
		}
	})

	t.Run("quota exceeded is 429 with Retry-After", func(t *testing.T) {
		tokD := r.idp.Token(t, "usecase-d", audience)
		var limited *http.Response
		for range 5 { // quota 2/min; at most one window rollover in between
			resp := r.raw(t, tokD, "/model/us.meta.llama3-2-11b-instruct-v1:0/converse", `{}`, nil)
			if resp.StatusCode == 429 {
				limited = resp
				break
			}
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
		}
		if limited == nil {
			t.Fatal("never limited")
		}
		if s, _ := strconv.Atoi(limited.Header.Get("Retry-After")); s < 1 || s > 60 || limited.Header.Get("X-Amzn-ErrorType") != "ThrottlingException" {
			t.Fatalf("Retry-After %q", limited.Header.Get("Retry-After"))
		}
	})

	t.Run("Valkey killed: still served via STS", func(t *testing.T) {
		r.redis.Stop()
		tokC := r.idp.Token(t, "usecase-c", audience)
		roleC := r.roleArn("SharedModelsB", "UseCaseC") // its own role, preferred over its group's
		before := r.stsCalls(roleC, "usecase-c")
		for range 3 {
			if resp := r.raw(t, tokC, "/model/amazon.titan-text-express-v1/converse", `{}`, nil); resp.StatusCode != 200 {
				t.Fatalf("status %d with the cache down", resp.StatusCode)
			}
			// A use case with a quota is counted per task meanwhile.
			if resp := r.raw(t, tokA, "/model/anthropic.claude-3-sonnet-20240229-v1:0/converse", `{}`, nil); resp.StatusCode != 200 {
				t.Fatalf("status %d with the quota store down", resp.StatusCode)
			}
		}
		if r.stsCalls(roleC, "usecase-c") != before+1 {
			t.Fatal("credentials not obtained from STS (once, then in process) while the cache is down")
		}
		if r.srv.Creds.Stats().CacheErrors == 0 || r.srv.Quota.FailOpen() == 0 {
			t.Fatal("outage not counted")
		}
		r.waitLog(t, "credential cache unavailable")
	})

	t.Run("logs hold no tokens, credentials or prompts", func(t *testing.T) {
		logs := r.logs.String()
		for _, secret := range []string{tokA, tokB, "secret prompt text", "secret-ASIA", "session-ASIA", "Bearer ey"} {
			if strings.Contains(logs, secret) {
				t.Fatalf("log contains %q", secret[:min(len(secret), 20)])
			}
		}
		if !strings.Contains(logs, `"useCase":"UseCaseA"`) || !strings.Contains(logs, `"sub":"usecase-a"`) || !strings.Contains(logs, `"latencyMs"`) {
			t.Fatal("request log lacks fields")
		}
	})

	t.Run("health", func(t *testing.T) {
		resp, err := r.gw.Client().Get(r.gw.URL + "/health")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%v %v", resp, err)
		}
		resp.Body.Close()
		r.srv.Drain()
		resp, _ = r.gw.Client().Get(r.gw.URL + "/health")
		resp.Body.Close()
		if resp.StatusCode != 503 {
			t.Fatalf("draining gateway reports %d", resp.StatusCode)
		}
	})
}
