// Package server is the gateway's HTTP handler: it authenticates the caller,
// finds its use case by the token's subject, picks the role for the model it
// names, obtains that role's credentials with the caller's own token, checks
// the quota, and proxies the Bedrock runtime call, streaming the answer.
package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/acme/genai-estate/internal/gateway/auth"
	"github.com/acme/genai-estate/internal/gateway/creds"
	"github.com/acme/genai-estate/internal/gateway/quota"
	"github.com/acme/genai-estate/internal/gateway/routing"
)

// Request headers a caller may set to choose among its own routes.
const (
	HeaderAccount = "X-Genai-Account"
	HeaderRegion  = "X-Genai-Region"
)

// The Bedrock runtime operations the gateway serves, by path suffix.
var operations = map[string]bool{
	"invoke":                      false,
	"invoke-with-response-stream": true,
	"converse":                    false,
	"converse-stream":             true,
}

// signer is safe for concurrent use and caches derived signing keys.
var signer = v4.NewSigner()

// Tables gives the current routing table.
type Tables interface{ Table() *routing.Table }

// Server handles gateway requests. Build it with New.
type Server struct {
	Verifier      *auth.Verifier
	Routes        Tables
	Creds         *creds.Cache
	Profiles      *Profiles // application inference profile ARNs, for routes that must call through them
	Quota         *quota.Limiter
	Transport     http.RoundTripper
	Endpoint      func(region string) string // Bedrock runtime base URL of a region
	DefaultRegion string
	MaxBody       int64
	Timeout       time.Duration
	Log           *slog.Logger

	draining   atomic.Bool
	background sync.WaitGroup
}

// Drain makes /health fail so the load balancer stops sending new requests
// while in-flight ones finish.
func (s *Server) Drain() { s.draining.Store(true) }

// record is one request's log line. It never holds tokens, credentials or
// prompt text.
type record struct {
	useCase, sub, model, account, region, op, cache string
	status                                          int
	tokens                                          usage
	errText                                         string
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/health" {
		if s.draining.Load() || s.Routes.Table() == nil {
			http.Error(w, `{"status":"unavailable"}`, http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"ok"}`)
		return
	}
	start := time.Now()
	rec := &record{}
	s.serve(w, r, rec)
	attrs := []slog.Attr{
		slog.String("method", r.Method), slog.String("op", rec.op), slog.Int("status", rec.status),
		slog.String("useCase", rec.useCase), slog.String("sub", rec.sub), slog.String("model", rec.model),
		slog.String("account", rec.account), slog.String("region", rec.region), slog.String("cache", rec.cache),
		slog.Int64("inputTokens", rec.tokens.in), slog.Int64("outputTokens", rec.tokens.out),
		slog.Float64("latencyMs", float64(time.Since(start).Microseconds())/1000),
	}
	if rec.errText != "" {
		attrs = append(attrs, slog.String("error", rec.errText))
	}
	s.Log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, rec *record) {
	fail := func(status int, errType, msg string, extra map[string]any) {
		rec.status, rec.errText = status, msg
		writeError(w, status, errType, msg, extra)
	}
	model, op, ok := parsePath(r.URL.EscapedPath())
	if !ok {
		fail(http.StatusNotFound, "UnknownOperationException", "not a Bedrock runtime path: use /model/{modelId}/{invoke|invoke-with-response-stream|converse|converse-stream}", nil)
		return
	}
	rec.model, rec.op = model, op
	if r.Method != http.MethodPost {
		fail(http.StatusMethodNotAllowed, "ValidationException", "use POST", nil)
		return
	}
	token, ok := bearer(r.Header.Get("Authorization"))
	if !ok {
		fail(http.StatusUnauthorized, "UnauthorizedException", "send the use case's IdP access token as Authorization: Bearer <JWT>", nil)
		return
	}
	claims, err := s.Verifier.Verify(r.Context(), token)
	if err != nil {
		fail(http.StatusUnauthorized, "UnauthorizedException", "token rejected", nil)
		rec.errText = err.Error()
		return
	}
	rec.sub = claims.Subject
	doc, ok := s.Routes.Table().Lookup(claims.Subject)
	if !ok {
		fail(http.StatusForbidden, "AccessDeniedException", "the token's subject is not a registered use case", nil)
		return
	}
	rec.useCase = doc.UseCase
	target, err := routing.Resolve(doc, routing.Request{Model: model, Account: r.Header.Get(HeaderAccount), Region: r.Header.Get(HeaderRegion)}, s.DefaultRegion)
	if err != nil {
		var de *routing.DeniedError
		errors.As(err, &de)
		fail(http.StatusForbidden, "AccessDeniedException", err.Error(), map[string]any{"useCase": doc.UseCase, "allowed": de.Allowed})
		return
	}
	rec.account, rec.region = target.AccountName, target.Region

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.MaxBody))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			fail(http.StatusRequestEntityTooLarge, "ValidationException", "request body over "+strconv.FormatInt(s.MaxBody, 10)+" bytes", nil)
			return
		}
		fail(http.StatusBadRequest, "ValidationException", "could not read the request body", nil)
		return
	}
	if ct := r.Header.Get("Content-Type"); (ct == "" || strings.Contains(ct, "json")) && !json.Valid(body) {
		fail(http.StatusBadRequest, "ValidationException", "request body is not valid JSON", nil)
		return
	}

	// The route's guardrail, before quota and credentials are spent: a body
	// it cannot be put into is the caller's error.
	guard := http.Header{}
	if body, err = applyGuardrail(target.Guardrail, op, guard, body); err != nil {
		fail(http.StatusBadRequest, "ValidationException", err.Error(), nil)
		return
	}

	if d := s.Quota.Allow(r.Context(), target.UseCase, target.Quota); !d.Allowed {
		secs := int(d.RetryAfter / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
		fail(http.StatusTooManyRequests, "ThrottlingException", "quota of use case "+target.UseCase+" exhausted for this minute", nil)
		return
	}

	cr, src, err := s.Creds.Get(r.Context(), target.RoleArn, creds.Caller{UseCase: target.UseCase, Subject: claims.Subject, Audience: claims.Audience}, token)
	rec.cache = string(src)
	if err != nil {
		var de *creds.DeniedError
		if errors.As(err, &de) {
			fail(http.StatusForbidden, "AccessDeniedException", "STS refused the use case's role for this token", nil)
			rec.errText = de.Error()
			return
		}
		fail(http.StatusBadGateway, "ServiceUnavailableException", "could not obtain credentials", nil)
		rec.errText = err.Error()
		return
	}
	if target.Profile != "" {
		// The role may invoke the model only through its profile: without
		// the ARN the call would be refused, so none is made.
		arn, err := s.Profiles.Arn(r.Context(), cr, target.RoleArn, target.Region, target.ProfileArns, target.GrantedModel)
		if err != nil {
			fail(http.StatusBadGateway, "ServiceUnavailableException", "could not read the application inference profile of "+target.GrantedModel+" for use case "+target.UseCase+" in "+target.AccountName+" "+target.Region, nil)
			rec.errText = err.Error()
			return
		}
		target.Model = arn
	}
	s.forward(w, r, rec, target, op, body, guard, cr)
}

// forward sends the call with the caller's Bedrock headers, then guard's
// (which replace any of the caller's with the same name).
func (s *Server) forward(w http.ResponseWriter, r *http.Request, rec *record, t routing.Target, op string, body []byte, guard http.Header, cr creds.Creds) {
	ctx, cancel := context.WithTimeout(r.Context(), s.Timeout)
	defer cancel()
	base, err := url.Parse(s.Endpoint(t.Region))
	if err != nil {
		rec.status = http.StatusInternalServerError
		writeError(w, rec.status, "InternalServerException", "bad Bedrock endpoint", nil)
		return
	}
	u := *base
	u.Path = strings.TrimSuffix(base.Path, "/") + "/model/" + t.Model + "/" + op
	u.RawPath = strings.TrimSuffix(base.EscapedPath(), "/") + "/model/" + escapeSegment(t.Model) + "/" + op
	hdr := http.Header{}
	for k, v := range r.Header {
		if k == "Content-Type" || k == "Accept" || strings.HasPrefix(k, "X-Amzn-Bedrock-") {
			hdr[k] = v
		}
	}
	for k, v := range guard {
		hdr[k] = v
	}
	out, _ := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	out.Header = hdr
	if out.Header.Get("Content-Type") == "" {
		out.Header.Set("Content-Type", "application/json")
	}
	sum := sha256.Sum256(body)
	if err := signer.SignHTTP(ctx, cr.AWS(), out, hex.EncodeToString(sum[:]), "bedrock", t.Region, time.Now()); err != nil {
		rec.status = http.StatusInternalServerError
		writeError(w, rec.status, "InternalServerException", "could not sign the request", nil)
		return
	}
	resp, err := s.Transport.RoundTrip(out)
	if err != nil {
		rec.status, rec.errText = http.StatusBadGateway, err.Error()
		if errors.Is(err, context.DeadlineExceeded) {
			rec.status = http.StatusGatewayTimeout
		}
		writeError(w, rec.status, "ServiceUnavailableException", "Bedrock did not answer", nil)
		return
	}
	defer resp.Body.Close()
	h := w.Header()
	for k, v := range resp.Header {
		switch k {
		case "Connection", "Keep-Alive", "Transfer-Encoding", "Trailer", "Upgrade":
			continue
		}
		h[k] = v
	}
	rec.status = resp.StatusCode
	w.WriteHeader(resp.StatusCode)

	stream := operations[op]
	var tap io.Writer
	var su *streamUsage
	var cw *capWriter
	switch {
	case resp.StatusCode != http.StatusOK:
	case stream:
		su = &streamUsage{}
		tap = su
	case op == "converse":
		cw = &capWriter{max: 4 << 20}
		tap = cw
	}
	flusher, _ := w.(http.Flusher)
	buf := make([]byte, 32<<10)
	for {
		n, rerr := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				rec.errText = "client went away: " + werr.Error()
				break
			}
			if stream && flusher != nil {
				flusher.Flush()
			}
			if tap != nil {
				_, _ = tap.Write(buf[:n])
			}
		}
		if rerr != nil {
			if rerr != io.EOF {
				rec.errText = "upstream: " + rerr.Error()
			}
			break
		}
	}
	rec.tokens = headerUsage(resp.Header)
	switch {
	case su != nil && su.u.total() > 0:
		rec.tokens = su.u
	case cw != nil:
		if u := bodyUsage(cw.buf.Bytes()); u.total() > 0 {
			rec.tokens = u
		}
	}
	// Counted after the call, off the caller's path (Serve waits for these
	// on shutdown): a single call may overshoot the minute's token quota;
	// the next one is then refused.
	n := rec.tokens.total()
	bctx := context.WithoutCancel(r.Context())
	s.background.Go(func() { s.Quota.AddTokens(bctx, t.UseCase, t.Quota, n) })
}

// parsePath splits /model/{modelId}/{op}; the model id arrives URL-escaped
// (an ARN's slash as %2F) and is returned unescaped.
func parsePath(p string) (model, op string, ok bool) {
	rest, found := strings.CutPrefix(p, "/model/")
	if !found {
		return "", "", false
	}
	i := strings.LastIndex(rest, "/")
	if i <= 0 {
		return "", "", false
	}
	op = rest[i+1:]
	if _, known := operations[op]; !known {
		return "", "", false
	}
	m, err := url.PathUnescape(rest[:i])
	if err != nil || m == "" || strings.Contains(rest[:i], "/") {
		return "", "", false
	}
	return m, op, true
}

// escapeSegment escapes everything but RFC 3986 unreserved characters, as
// the AWS SDKs do for the model id in the path.
func escapeSegment(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
	}
	return b.String()
}

func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// writeError answers in the shape the AWS SDKs decode for rest-json
// services: the error type in X-Amzn-ErrorType, a JSON body with message.
func writeError(w http.ResponseWriter, status int, errType, msg string, extra map[string]any) {
	body := map[string]any{"message": msg}
	for k, v := range extra {
		body[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", errType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
