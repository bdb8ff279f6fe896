package test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func tagMap(v any) map[string]string {
	out := map[string]string{}
	list, _ := v.([]any)
	for _, x := range list {
		m := x.(map[string]any)
		out[m["Key"].(string)] = m["Value"].(string)
	}
	return out
}

// getAtt is the logical id of a Fn::GetAtt of an application profile's ARN, or "".
func getAtt(v any) string {
	m, _ := v.(map[string]any)
	ga, _ := m["Fn::GetAtt"].([]any)
	if len(ga) == 2 && ga[1] == "InferenceProfileArn" {
		return ga[0].(string)
	}
	return ""
}

// The example grants every model through tagged application inference
// profiles, one stack per account and region, with policies that name the
// profiles' generated ARNs and reach the models only through them.
func TestApplicationProfiles(t *testing.T) {
	tpls := synth(t, example, nil, nil)
	for _, tc := range []struct {
		stack    string
		profiles map[string]string // name -> model source ARN
		roles    []string
	}{
		{"ACME-GenAI-SharedModelsA-Profiles-us-east-1", map[string]string{
			"ACME-GenAI-UseCaseA-AmazonTitan_bce65679": "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-text-premier-v1:0",
			"ACME-GenAI-UseCaseA-Anthropic_db3e9623":   "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-sonnet-20240229-v1:0",
			"ACME-GenAI-UseCaseA-Anthropic_289d6999":   "arn:aws:bedrock:us-east-1:222222222222:inference-profile/us.anthropic.claude-3-5-sonnet-20241022-v2:0",
			"ACME-GenAI-UseCaseB-Meta_f4656300":        "arn:aws:bedrock:us-east-1::foundation-model/meta.llama3-70b-instruct-v1:0",
		}, []string{"UseCaseA", "UseCaseB"}},
		{"ACME-GenAI-SharedModelsA-Profiles-us-west-2", map[string]string{
			"ACME-GenAI-UseCaseA-AmazonTitan_bce65679": "arn:aws:bedrock:us-west-2::foundation-model/amazon.titan-text-premier-v1:0",
			"ACME-GenAI-UseCaseA-Anthropic_db3e9623":   "arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-sonnet-20240229-v1:0",
			"ACME-GenAI-UseCaseA-Anthropic_289d6999":   "arn:aws:bedrock:us-west-2:222222222222:inference-profile/us.anthropic.claude-3-5-sonnet-20241022-v2:0",
		}, []string{"UseCaseA"}},
		{"ACME-GenAI-SharedModelsC-Profiles-us-west-2", map[string]string{
			"ACME-GenAI-UseCaseD-Meta_07a8d83a":       "arn:aws:bedrock:us-west-2:444444444444:inference-profile/us.meta.llama3-2-11b-instruct-v1:0",
			"ACME-GenAI-Analytics-Anthropic_570fc318": "arn:aws:bedrock:us-west-2::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
			"ACME-GenAI-Analytics-Anthropic_9712e4c4": "arn:aws:bedrock:us-west-2:444444444444:inference-profile/us.anthropic.claude-3-haiku-20240307-v1:0",
		}, []string{"Analytics", "UseCaseD"}},
	} {
		t.Run(tc.stack, func(t *testing.T) {
			tpl, ok := tpls[tc.stack]
			require.True(t, ok, "no stack %s", tc.stack)
			ids := map[string]string{} // logical id -> profile name
			got := map[string]string{}
			for id, p := range byType(tpl, "AWS::Bedrock::ApplicationInferenceProfile") {
				name := p["InferenceProfileName"].(string)
				ids[id] = name
				got[name] = p["ModelSource"].(map[string]any)["CopyFrom"].(string)
				tags := tagMap(p["Tags"])
				assert.Equal(t, strings.Split(name, "-")[2], tags["genai:use-case"], name)
				assert.Equal(t, "ACME", tags["genai:org"], name)
				assert.Equal(t, "4200", tags["cost-center"], "the config's cost-allocation tags reach %s", name)
				assert.NotEmpty(t, tags["genai:model"])
			}
			require.Len(t, got, len(tc.profiles))
			for name, src := range tc.profiles {
				require.Contains(t, got, name)
				assert.Equal(t, src, got[name], name)
			}
			var roles []string
			for _, p := range byType(tpl, "AWS::IAM::ManagedPolicy") {
				attached := strs(p["Roles"])
				require.Len(t, attached, 1)
				roles = append(roles, strings.Split(attached[0], "-")[2])
				for _, raw := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
					s := raw.(map[string]any)
					switch {
					case s["Sid"] == "InvokeApplicationProfiles":
						for _, r := range s["Resource"].([]any) {
							assert.Contains(t, ids, getAtt(r), "the profile's own ARN, by GetAtt")
						}
					case strings.HasPrefix(s["Sid"].(string), "Via"):
						cond := s["Condition"].(map[string]any)["StringEquals"].(map[string]any)["bedrock:InferenceProfileArn"].([]any)
						require.Len(t, cond, 1)
						assert.Contains(t, ids, getAtt(cond[0]), "the model only through its application profile")
					}
				}
			}
			slices.Sort(roles)
			assert.Equal(t, tc.roles, roles)
			// Each role's profile ARNs are published for the gateway in its own parameter.
			params := byType(tpl, "AWS::SSM::Parameter")
			assert.Len(t, params, len(tc.roles))
			for _, p := range params {
				assert.True(t, strings.HasPrefix(p["Name"].(string), "/ACME/GenAIGateway/profiles/"))
				b, _ := json.Marshal(p["Value"])
				assert.Contains(t, string(b), "InferenceProfileArn")
			}
		})
	}
	// The model accounts' main stacks keep only roles: no direct grants.
	assert.Empty(t, byType(tpls["ACME-GenAI-SharedModelsA"], "AWS::IAM::ManagedPolicy"))
}

// UseCaseB's calls must carry its guardrail version: an explicit Deny
// otherwise, and it may apply that guardrail.
func TestGuardrailInTemplate(t *testing.T) {
	tpls := synth(t, example, nil, nil)
	const gr = "arn:aws:bedrock:us-east-1:222222222222:guardrail/gr7k2m9x4p1q"
	found := map[string]bool{}
	for _, p := range byType(tpls["ACME-GenAI-SharedModelsA-Profiles-us-east-1"], "AWS::IAM::ManagedPolicy") {
		guarded := p["ManagedPolicyName"] == "ACME-GenAI-UseCaseB-UsEast1-ProfileInvokePolicy"
		for _, raw := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			s := raw.(map[string]any)
			b, _ := json.Marshal(s)
			if !guarded {
				assert.NotContains(t, string(b), "Guardrail", "UseCaseA has no guardrail")
				continue
			}
			found[s["Sid"].(string)] = true
			switch s["Sid"] {
			case "DenyWithoutGuardrail":
				assert.Equal(t, "Deny", s["Effect"])
				assert.Equal(t, map[string]any{"StringNotEquals": map[string]any{"bedrock:GuardrailIdentifier": []any{gr + ":3"}}}, s["Condition"])
			case "ApplyGuardrail":
				assert.Equal(t, []string{gr}, strs(s["Resource"]))
			case "InvokeApplicationProfiles":
				assert.Contains(t, string(b), gr+":3")
			}
		}
	}
	assert.True(t, found["DenyWithoutGuardrail"] && found["ApplyGuardrail"], "%v", found)
}

// A perimeter adds one negated Deny to every invoke policy of every model
// account, direct or through profiles, and keeps the security checks clean.
func TestPerimeterInTemplates(t *testing.T) {
	const perimeter = "perimeter: {sourceVpcEndpoints: [vpce-0a1b2c3d4e5f67890], sourceIps: [203.0.113.0/28]}\n"
	for mode, want := range map[string]int{"profiles": 9, "direct": 10} {
		t.Run(mode, func(t *testing.T) {
			data := exampleWith(t, "costAttribution: profiles\n", "costAttribution: "+mode+"\n"+perimeter)
			built := build(t, example, data, nil)
			policies := 0
			for _, s := range built.Stacks() {
				if !strings.HasPrefix(*s.StackName(), "ACME-GenAI-") {
					continue
				}
				for _, p := range byType(template(s), "AWS::IAM::ManagedPolicy") {
					policies++
					var deny map[string]any
					for _, raw := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
						if s := raw.(map[string]any); s["Sid"] == "DenyOutsidePerimeter" {
							deny = s
						}
					}
					require.NotNil(t, deny, "%s has no perimeter", p["ManagedPolicyName"])
					assert.Equal(t, map[string]any{
						"BoolIfExists":    map[string]any{"aws:ViaAWSService": []any{"false"}},
						"StringNotEquals": map[string]any{"aws:SourceVpce": []any{"vpce-0a1b2c3d4e5f67890"}},
						"NotIpAddress":    map[string]any{"aws:SourceIp": []any{"203.0.113.0/28"}},
					}, deny["Condition"])
				}
				ann := assertions.Annotations_FromStack(s)
				for _, f := range *ann.FindError(jsii.String("*"), assertions.Match_AnyValue()) {
					t.Errorf("%s: %v", *s.StackName(), f.Entry.Data)
				}
			}
			assert.Equal(t, want, policies)
		})
	}
}
