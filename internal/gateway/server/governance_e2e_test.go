package server_test

import (
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/acme/genai-estate/internal/estate"
	"github.com/acme/genai-estate/internal/gateway/server"
)

// The example estate attributes cost through application profiles and puts
// guardrail gr7k2m9x4p1q version 3 on UseCaseB's own role: each of the four
// operations reaches Bedrock through UseCaseB's profile with that guardrail,
// whatever guardrail the caller sent, signed after the rewrite (the fake
// Bedrock checks the signature over the body it receives).
func TestGatewayGovernance(t *testing.T) {
	r := newRig(t, false, nil)
	tokB := r.idp.Token(t, "usecase-b", audience)
	roleB := r.roleArn("SharedModelsA", "UseCaseB")
	const model = "meta.llama3-70b-instruct-v1:0"
	wantGR := estate.GuardrailArn("aws", "us-east-1", "222222222222", "gr7k2m9x4p1q")
	profile := r.appProfile(t, "SharedModelsA", "UseCaseB", "us-east-1", model)
	wantPath := "/model/" + strings.NewReplacer(":", "%3A", "/", "%2F").Replace(profile) + "/"

	evil := map[string]string{server.HeaderGuardrailID: "evilguardrail", server.HeaderGuardrailVersion: "DRAFT"}
	cases := []struct {
		op, body string
		hdr      map[string]string
		inBody   bool
		trace    string
	}{
		{"invoke", `{"prompt":"x"}`, nil, false, ""},
		{"invoke-with-response-stream", `{"prompt":"x"}`, evil, false, ""},
		{"converse", `{"messages":[]}`, nil, true, ""},
		{"converse-stream", `{"messages":[],"guardrailConfig":{"guardrailIdentifier":"evilguardrail","guardrailVersion":"DRAFT","trace":"enabled"}}`, nil, true, `"enabled"`},
	}
	for _, c := range cases {
		t.Run(c.op, func(t *testing.T) {
			resp := r.raw(t, tokB, "/model/"+model+"/"+c.op, c.body, c.hdr)
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, b)
			}
			calls := r.bedrock.Calls()
			last := calls[len(calls)-1]
			if last.Op != c.op || last.RoleArn != roleB || last.Model != profile || last.Path != wantPath+c.op {
				t.Fatalf("Bedrock saw op %s role %s model %s path %s; want model %s path %s", last.Op, last.RoleArn, last.Model, last.Path, profile, wantPath+c.op)
			}
			if !c.inBody {
				if got := last.Header.Values(server.HeaderGuardrailID); len(got) != 1 || got[0] != wantGR || last.Header.Get(server.HeaderGuardrailVersion) != "3" {
					t.Fatalf("guardrail headers %v %v", got, last.Header.Values(server.HeaderGuardrailVersion))
				}
				return
			}
			var doc struct {
				GuardrailConfig map[string]json.RawMessage `json:"guardrailConfig"`
			}
			if err := json.Unmarshal(last.Body, &doc); err != nil {
				t.Fatal(err)
			}
			g := doc.GuardrailConfig
			if string(g["guardrailIdentifier"]) != `"`+wantGR+`"` || string(g["guardrailVersion"]) != `"3"` || string(g["trace"]) != c.trace && !(c.trace == "" && g["trace"] == nil) {
				t.Fatalf("guardrailConfig %s", last.Body)
			}
		})
	}

	t.Run("Converse body the guardrail cannot be put into: 400, no call", func(t *testing.T) {
		before := len(r.bedrock.Calls())
		resp := r.raw(t, tokB, "/model/"+model+"/converse", `["not","an","object"]`, nil)
		if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-ErrorType") != "ValidationException" || len(r.bedrock.Calls()) != before {
			t.Fatalf("status %d, %d Bedrock calls", resp.StatusCode, len(r.bedrock.Calls())-before)
		}
	})

	t.Run("profile ARNs read once with the assumed role", func(t *testing.T) {
		var n int
		for _, c := range r.ssm.Calls() {
			is, ok := r.sts.Lookup(c.AccessKey)
			if !ok || is.RoleArn != roleB || c.RoleArn != roleB || c.Region != "us-east-1" || !c.Allowed || !strings.HasSuffix(c.Name, "/UseCaseB") {
				t.Fatalf("SSM call %+v (key issued for %+v)", c, is)
			}
			n++
		}
		if n != 1 {
			t.Fatalf("%d GetParameter calls for four requests, want 1 (cached)", n)
		}
	})

	t.Run("unreadable profile ARNs: 502, no Bedrock call", func(t *testing.T) {
		tokC := r.idp.Token(t, "usecase-c", audience)
		before := len(r.bedrock.Calls())
		r.ssm.Fail.Store(true)
		resp := r.raw(t, tokC, "/model/amazon.titan-text-express-v1/converse", `{}`, nil)
		b, _ := io.ReadAll(resp.Body)
		var e struct{ Message string }
		_ = json.Unmarshal(b, &e)
		if resp.StatusCode != 502 || resp.Header.Get("X-Amzn-ErrorType") != "ServiceUnavailableException" || !strings.Contains(e.Message, "application inference profile of amazon.titan-text-express-v1") {
			t.Fatalf("status %d %s", resp.StatusCode, b)
		}
		if len(r.bedrock.Calls()) != before {
			t.Fatal("Bedrock was called without the profile")
		}
		r.waitLog(t, `"status":502,"useCase":"UseCaseC"`)
		if !strings.Contains(r.logs.String(), "ParameterNotFound") {
			t.Fatalf("the log does not say why:\n%s", r.logs.String())
		}
		// A failure is not cached: once SSM answers, the call goes through.
		r.ssm.Fail.Store(false)
		if resp := r.raw(t, tokC, "/model/amazon.titan-text-express-v1/converse", `{}`, nil); resp.StatusCode != 200 {
			t.Fatalf("after recovery: status %d", resp.StatusCode)
		}
	})
}
