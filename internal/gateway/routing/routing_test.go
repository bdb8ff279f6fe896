package routing_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/estate"
	"github.com/acme/genai-estate/internal/gateway/routing"
)

// pagedSSM serves the example estate's parameters one per page.
type pagedSSM struct{ params []estate.Parameter }

func (p pagedSSM) GetParametersByPath(_ context.Context, in *ssm.GetParametersByPathInput, _ ...func(*ssm.Options)) (*ssm.GetParametersByPathOutput, error) {
	i := 0
	if in.NextToken != nil {
		_ = json.Unmarshal([]byte(*in.NextToken), &i)
	}
	out := &ssm.GetParametersByPathOutput{Parameters: []ssmtypes.Parameter{{Name: aws.String(p.params[i].Name), Value: aws.String(p.params[i].Value)}}}
	if i+1 < len(p.params) {
		b, _ := json.Marshal(i + 1)
		out.NextToken = aws.String(string(b))
	}
	return out, nil
}

func exampleTable(t *testing.T) *routing.Table {
	c, err := config.Load("../../../config/usecases.yaml")
	if err != nil {
		t.Fatal(err)
	}
	e, err := estate.Build(c)
	if err != nil {
		t.Fatal(err)
	}
	l := &routing.Loader{Client: pagedSSM{e.Routing}, Path: estate.RoutingPath(c)}
	if err := l.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if l.Table().UseCases() != len(e.Routing) {
		t.Fatalf("loaded %d of %d documents", l.Table().UseCases(), len(e.Routing))
	}
	return l.Table()
}

func TestResolve(t *testing.T) {
	tab := exampleTable(t)
	cases := []struct {
		name, sub               string
		req                     routing.Request
		account, region, roleOf string // want; roleOf "" means denied
	}{
		{"default region", "usecase-a", routing.Request{Model: "anthropic.claude-3-sonnet-20240229-v1:0"}, "SharedModelsA", "us-east-1", "UseCaseA"},
		{"region header", "usecase-a", routing.Request{Model: "anthropic.claude-3-sonnet-20240229-v1:0", Region: "us-west-2"}, "SharedModelsA", "us-west-2", "UseCaseA"},
		{"account by id", "usecase-a", routing.Request{Model: "anthropic.claude-3-haiku-20240307-v1:0", Account: "333333333333"}, "SharedModelsB", "us-east-1", "UseCaseA"},
		{"group route by name", "usecase-a", routing.Request{Model: "anthropic.claude-3-haiku-20240307-v1:0", Account: "SharedModelsC"}, "SharedModelsC", "us-west-2", "Analytics"},
		{"only region offering it", "usecase-d", routing.Request{Model: "us.meta.llama3-2-11b-instruct-v1:0"}, "SharedModelsC", "us-west-2", "UseCaseD"},
		{"second subject of a use case", "usecase-d-batch", routing.Request{Model: "us.meta.llama3-2-11b-instruct-v1:0"}, "SharedModelsC", "us-west-2", "UseCaseD"},
		{"own role before group", "usecase-c", routing.Request{Model: "amazon.titan-text-express-v1"}, "SharedModelsB", "us-east-1", "UseCaseC"},
		{"group-only model", "usecase-c", routing.Request{Model: "meta.llama3-8b-instruct-v1:0"}, "SharedModelsB", "us-east-1", "Marketing"},
		{"profile ARN", "usecase-a", routing.Request{Model: "arn:aws:bedrock:us-west-2:222222222222:inference-profile/us.anthropic.claude-3-5-sonnet-20241022-v2:0"}, "SharedModelsA", "us-west-2", "UseCaseA"},
		{"foundation-model ARN", "usecase-b", routing.Request{Model: "arn:aws:bedrock:us-east-1::foundation-model/meta.llama3-70b-instruct-v1:0"}, "SharedModelsA", "us-east-1", "UseCaseB"},
		{"another use case's model", "usecase-b", routing.Request{Model: "anthropic.claude-3-sonnet-20240229-v1:0"}, "", "", ""},
		{"granted model, wrong region", "usecase-b", routing.Request{Model: "meta.llama3-70b-instruct-v1:0", Region: "us-west-2"}, "", "", ""},
		{"granted model, wrong account", "usecase-b", routing.Request{Model: "meta.llama3-70b-instruct-v1:0", Account: "SharedModelsB"}, "", "", ""},
		{"ARN in another account", "usecase-b", routing.Request{Model: "arn:aws:bedrock:us-east-1:999999999999:inference-profile/meta.llama3-70b-instruct-v1:0"}, "", "", ""},
		{"ARN against region header", "usecase-a", routing.Request{Model: "arn:aws:bedrock:us-west-2:222222222222:inference-profile/us.anthropic.claude-3-5-sonnet-20241022-v2:0", Region: "us-east-1"}, "", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, ok := tab.Lookup(c.sub)
			if !ok {
				t.Fatalf("subject %s not found", c.sub)
			}
			got, err := routing.Resolve(d, c.req, "us-east-1")
			if c.roleOf == "" {
				var de *routing.DeniedError
				if !errors.As(err, &de) || len(de.Allowed) == 0 {
					t.Fatalf("want a denial listing the grants, got %+v %v", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.AccountName != c.account || got.Region != c.region || got.Model != c.req.Model {
				t.Fatalf("got %+v", got)
			}
			for _, rt := range d.Routes {
				if rt.RoleArn == got.RoleArn && (rt.Via == "useCase") != (c.roleOf == d.UseCase) {
					t.Fatalf("picked %s (via %s), want the role of %s", got.RoleArn, rt.Via, c.roleOf)
				}
			}
		})
	}
	if _, ok := tab.Lookup("nobody"); ok {
		t.Fatal("unknown subject found")
	}
}

func TestSharedSubjectRejected(t *testing.T) {
	_, err := routing.NewTable([]estate.Routing{{UseCase: "A", Subjects: []string{"s"}}, {UseCase: "B", Subjects: []string{"s"}}})
	if err == nil {
		t.Fatal("a subject in two use cases was accepted")
	}
}

// The example estate attributes cost through profiles, and UseCaseB's own
// role carries a guardrail: the target names both, keyed by the granted id
// even when the caller named the model by ARN.
func TestResolveGovernance(t *testing.T) {
	tab := exampleTable(t)
	cases := []struct {
		name, sub      string
		req            routing.Request
		grant          string
		guardrail      bool
		wantProfileFor bool
	}{
		{"profile, no guardrail", "usecase-a", routing.Request{Model: "anthropic.claude-3-sonnet-20240229-v1:0"}, "anthropic.claude-3-sonnet-20240229-v1:0", false, true},
		{"profile by ARN", "usecase-a", routing.Request{Model: "arn:aws:bedrock:us-west-2:222222222222:inference-profile/us.anthropic.claude-3-5-sonnet-20241022-v2:0"}, "us.anthropic.claude-3-5-sonnet-20241022-v2:0", false, true},
		{"guardrail and profile", "usecase-b", routing.Request{Model: "meta.llama3-70b-instruct-v1:0"}, "meta.llama3-70b-instruct-v1:0", true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, _ := tab.Lookup(c.sub)
			got, err := routing.Resolve(d, c.req, "us-east-1")
			if err != nil {
				t.Fatal(err)
			}
			if got.GrantedModel != c.grant {
				t.Fatalf("granted model %q, want %q", got.GrantedModel, c.grant)
			}
			if (got.Guardrail != nil) != c.guardrail || (c.guardrail && (got.Guardrail.Arn == "" || got.Guardrail.Version != "3")) {
				t.Fatalf("guardrail %+v, want present=%v", got.Guardrail, c.guardrail)
			}
			if (got.Profile != "" && got.ProfileArns != "") != c.wantProfileFor {
				t.Fatalf("profile %q in %q, want present=%v", got.Profile, got.ProfileArns, c.wantProfileFor)
			}
		})
	}
}
