package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/acme/genai-estate/internal/estate"
	"github.com/acme/genai-estate/internal/gateway/creds"
)

// Headers InvokeModel and InvokeModelWithResponseStream take a guardrail in.
const (
	HeaderGuardrailID      = "X-Amzn-Bedrock-GuardrailIdentifier"
	HeaderGuardrailVersion = "X-Amzn-Bedrock-GuardrailVersion"
)

// errBadBody is a Converse body the guardrail cannot be put into.
var errBadBody = errors.New("a Converse request body must be a JSON object")

// applyGuardrail puts the route's guardrail on a call, replacing whatever the
// caller sent: the role's policy denies calls without exactly this one. The
// ARN is passed (Bedrock accepts id or ARN) because it is what the policy's
// bedrock:GuardrailIdentifier condition names.
func applyGuardrail(g *estate.RouteGuardrail, op string, h http.Header, body []byte) ([]byte, error) {
	if g == nil {
		return body, nil
	}
	id := g.Arn
	if id == "" {
		id = g.ID
	}
	switch op {
	case "invoke", "invoke-with-response-stream":
		h.Set(HeaderGuardrailID, id)
		h.Set(HeaderGuardrailVersion, g.Version)
		return body, nil
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil || doc == nil {
		return nil, errBadBody
	}
	cfg := map[string]json.RawMessage{}
	if old, ok := doc["guardrailConfig"]; ok {
		var prev map[string]json.RawMessage
		if json.Unmarshal(old, &prev) == nil {
			if tr, ok := prev["trace"]; ok {
				cfg["trace"] = tr // the caller may ask for the trace, not for another guardrail
			}
		}
	}
	cfg["guardrailIdentifier"], _ = json.Marshal(id)
	cfg["guardrailVersion"], _ = json.Marshal(g.Version)
	doc["guardrailConfig"], _ = json.Marshal(cfg)
	return json.Marshal(doc)
}

// ProfileFetcher reads an SSM parameter's value in a region with a role's
// credentials.
type ProfileFetcher func(ctx context.Context, cr creds.Creds, region, name string) (string, error)

// Profiles caches, per role and region, the application inference profile
// ARNs the model account publishes (model id -> ARN). The ARNs are generated
// at deploy time, so they are read at run time with the role itself, which
// may read exactly its own parameter.
type Profiles struct {
	Fetch ProfileFetcher
	TTL   time.Duration

	mu sync.Mutex
	m  map[string]profileEntry
	sf singleflight.Group // one read per key however many calls miss at once
}

type profileEntry struct {
	arns map[string]string
	at   time.Time
}

// DefaultProfileTTL bounds how long a replaced profile's ARN is used.
const DefaultProfileTTL = 10 * time.Minute

// Arn is the profile ARN of a model for a role and region. A model missing
// from a cached value refetches once: its profile may be new.
func (p *Profiles) Arn(ctx context.Context, cr creds.Creds, roleArn, region, param, model string) (string, error) {
	key := roleArn + "\x00" + region + "\x00" + param
	ttl := p.TTL
	if ttl <= 0 {
		ttl = DefaultProfileTTL
	}
	p.mu.Lock()
	e, ok := p.m[key]
	p.mu.Unlock()
	if ok && time.Since(e.at) < ttl {
		if arn := e.arns[model]; arn != "" {
			return arn, nil
		}
	}
	got, err, _ := p.sf.Do(key, func() (any, error) {
		v, err := p.Fetch(ctx, cr, region, param)
		if err != nil {
			return nil, fmt.Errorf("read profile ARNs %s in %s: %w", param, region, err)
		}
		var arns map[string]string
		if err := json.Unmarshal([]byte(v), &arns); err != nil {
			return nil, fmt.Errorf("profile ARNs %s in %s are not a JSON object of model id to ARN: %w", param, region, err)
		}
		p.mu.Lock()
		if p.m == nil {
			p.m = map[string]profileEntry{}
		}
		p.m[key] = profileEntry{arns: arns, at: time.Now()}
		p.mu.Unlock()
		return arns, nil
	})
	if err != nil {
		return "", err
	}
	arn := got.(map[string]string)[model]
	if arn == "" {
		return "", fmt.Errorf("profile ARNs %s in %s have no entry for %s", param, region, model)
	}
	return arn, nil
}
