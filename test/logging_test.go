package test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/estate"
)

// sdkCall decodes one of a custom resource's Create/Update/Delete
// properties: a JSON string, or an Fn::Join whose tokens become "<token>".
func sdkCall(t *testing.T, v any) map[string]any {
	t.Helper()
	s, ok := v.(string)
	if !ok {
		parts := v.(map[string]any)["Fn::Join"].([]any)[1].([]any)
		var b strings.Builder
		for _, p := range parts {
			if str, ok := p.(string); ok {
				b.WriteString(str)
			} else {
				b.WriteString("<token>")
			}
		}
		s = b.String()
	}
	var out map[string]any
	require.NoError(t, json.Unmarshal([]byte(s), &out), s)
	return out
}

// The example logs invocations in every model account and granted region:
// each of its governance stacks puts the logging configuration through a
// custom resource with the exact calls and a least-privilege policy, and
// holds exactly the resources the plan counted.
func TestInvocationLogging(t *testing.T) {
	tpls := synth(t, example, nil, nil)
	data, err := os.ReadFile(example)
	require.NoError(t, err)
	c, err := config.Parse(example, data)
	require.NoError(t, err)
	e, err := estate.Build(c)
	require.NoError(t, err)
	sets := 0
	for _, a := range e.Accounts {
		for _, set := range a.Profiles {
			sets++
			require.NotNil(t, set.Logging, set.Stack)
			tpl := tpls[set.Stack]
			require.NotNil(t, tpl, set.Stack)
			// The plan also counts CDK's metadata resource, which templates
			// read through assertions leave out.
			assert.Len(t, tpl["Resources"], set.Resources()-1, "%s: the plan counts every resource", set.Stack)

			crs := byType(tpl, "Custom::BedrockModelInvocationLogging")
			require.Len(t, crs, 1, set.Stack)
			for _, cr := range crs {
				for _, k := range []string{"Create", "Update"} {
					call := sdkCall(t, cr[k])
					assert.Equal(t, "bedrock", call["service"])
					assert.Equal(t, "PutModelInvocationLoggingConfiguration", call["action"])
					lc := call["parameters"].(map[string]any)["loggingConfig"].(map[string]any)
					assert.Equal(t, true, lc["textDataDeliveryEnabled"])
					for _, off := range []string{"imageDataDeliveryEnabled", "embeddingDataDeliveryEnabled", "videoDataDeliveryEnabled"} {
						assert.Equal(t, false, lc[off], off)
					}
					cw := lc["cloudWatchConfig"].(map[string]any)
					assert.Equal(t, "/ACME/GenAI/bedrock/model-invocations", cw["logGroupName"])
					assert.Equal(t, "<token>", cw["roleArn"])
					assert.Equal(t, map[string]any{"bucketName": "<token>", "keyPrefix": estate.InvocationLogPrefix}, cw["largeDataDeliveryS3Config"])
					assert.Equal(t, map[string]any{"bucketName": "<token>", "keyPrefix": estate.InvocationLogPrefix}, lc["s3Config"])
				}
				del := sdkCall(t, cr["Delete"])
				assert.Equal(t, "DeleteModelInvocationLoggingConfiguration", del["action"])
				assert.Nil(t, del["parameters"])
				assert.Equal(t, false, cr["InstallLatestAwsSdk"])
			}

			// The custom resource's policy: the two calls, and passing
			// exactly Bedrock's logging role, to Bedrock only.
			var crPolicy map[string]any
			for id, p := range byType(tpl, "AWS::IAM::Policy") {
				if strings.Contains(id, "InvocationLoggingConfigurationCustomResourcePolicy") {
					crPolicy = p
				}
			}
			require.NotNil(t, crPolicy, set.Stack)
			st := crPolicy["PolicyDocument"].(map[string]any)["Statement"].([]any)
			require.Len(t, st, 2)
			logging, pass := st[0].(map[string]any), st[1].(map[string]any)
			assert.ElementsMatch(t, estate.LoggingActions, strs(logging["Action"]))
			assert.Equal(t, "*", logging["Resource"], "these actions support no resource types")
			assert.Equal(t, "iam:PassRole", pass["Action"])
			assert.Equal(t, map[string]any{"StringEquals": map[string]any{"iam:PassedToService": "bedrock.amazonaws.com"}}, pass["Condition"])
			roleID := pass["Resource"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)

			// That role is Bedrock's, limited to this account and region,
			// and writes only Bedrock's stream of the log group.
			role := byType(tpl, "AWS::IAM::Role")[roleID]
			require.NotNil(t, role)
			trust := role["AssumeRolePolicyDocument"].(map[string]any)["Statement"].([]any)[0].(map[string]any)
			assert.Equal(t, map[string]any{"Service": "bedrock.amazonaws.com"}, trust["Principal"])
			assert.Equal(t, map[string]any{
				"StringEquals": map[string]any{"aws:SourceAccount": a.Account},
				"ArnLike":      map[string]any{"aws:SourceArn": "arn:aws:bedrock:" + set.Region + ":" + a.Account + ":*"},
			}, trust["Condition"])
			write := role["Policies"].([]any)[0].(map[string]any)["PolicyDocument"].(map[string]any)["Statement"].([]any)[0].(map[string]any)
			assert.Equal(t, "arn:aws:logs:"+set.Region+":"+a.Account+":log-group:/ACME/GenAI/bedrock/model-invocations:log-stream:aws/bedrock/modelinvocations", write["Resource"])

			// Stateful and encrypted: the log group and the buckets are
			// retained, the log group and the log bucket use the key.
			for _, lg := range byType(tpl, "AWS::Logs::LogGroup") {
				assert.NotNil(t, lg["RetentionInDays"])
			}
			groups := byType(tpl, "AWS::Logs::LogGroup")
			assert.Len(t, groups, 2, "the invocation logs and the custom resource's own logs")
			assert.Len(t, byType(tpl, "AWS::KMS::Key"), 1)
			assert.Len(t, byType(tpl, "AWS::S3::Bucket"), 2)
		}
	}
	assert.Equal(t, 4, sets, "every model account and granted region of the example")
}

// Logging off (no logging key), an account's governance stack keeps only
// its profiles; with costAttribution: direct and logging on, each granted
// region still gets one, holding only the logging resources.
func TestLoggingStacks(t *testing.T) {
	data, err := os.ReadFile(example)
	require.NoError(t, err)
	off := []byte(strings.Replace(string(data), "logging:\n  cloudWatch: {retentionDays: 90}\n  s3: {expirationDays: 365}\n  textData: true\n", "", 1))
	require.NotEqual(t, string(data), string(off))
	for name, tpl := range synth(t, example, off, nil) {
		if strings.Contains(name, "-Profiles-") {
			assert.Empty(t, byType(tpl, "Custom::BedrockModelInvocationLogging"), name)
		}
	}
	direct := []byte(strings.Replace(string(data), "costAttribution: profiles", "costAttribution: direct", 1))
	n := 0
	for name, tpl := range synth(t, example, direct, nil) {
		if !strings.Contains(name, "-Profiles-") {
			continue
		}
		n++
		assert.Empty(t, byType(tpl, "AWS::Bedrock::ApplicationInferenceProfile"), name)
		assert.Len(t, byType(tpl, "Custom::BedrockModelInvocationLogging"), 1, name)
		assert.Len(t, tpl["Resources"], estate.LoggingResources(&config.Logging{CloudWatch: &config.CloudWatchLogging{}, S3: &config.S3Logging{}}), name)
	}
	assert.Equal(t, 4, n)
}

// An enforced guardrail in the config becomes the account's
// AWS::Bedrock::EnforcedGuardrailConfiguration in that region, and a policy
// letting every role granted there apply it; cdk-nag and the checks stay clean.
func TestEnforcedGuardrailInTemplate(t *testing.T) {
	data, err := os.ReadFile(example)
	require.NoError(t, err)
	const b = "  - name: SharedModelsB\n    account: \"333333333333\"\n    regions: [us-east-1]\n"
	require.Contains(t, string(data), b)
	edited := []byte(strings.Replace(string(data), b, b+"    enforcedGuardrails: [{region: us-east-1, id: gr0abc123def, version: \"2\"}]\n", 1))
	built := build(t, example, edited, nil)
	var tpl map[string]any
	for _, s := range built.Profiles {
		if *s.StackName() == "ACME-GenAI-SharedModelsB-Profiles-us-east-1" {
			tpl = template(s.Stack)
			ann := assertions.Annotations_FromStack(s.Stack)
			assert.Empty(t, *ann.FindError(jsii.String("*"), assertions.Match_AnyValue()))
			assert.Empty(t, *ann.FindWarning(jsii.String("*"), assertions.Match_AnyValue()))
		}
	}
	require.NotNil(t, tpl)
	cfgs := byType(tpl, "AWS::Bedrock::EnforcedGuardrailConfiguration")
	require.Len(t, cfgs, 1)
	for _, c := range cfgs {
		assert.Equal(t, "arn:aws:bedrock:us-east-1:333333333333:guardrail/gr0abc123def", c["GuardrailIdentifier"])
		assert.Equal(t, "2", c["GuardrailVersion"])
	}
	found := false
	for _, p := range byType(tpl, "AWS::IAM::ManagedPolicy") {
		if p["ManagedPolicyName"] != "ACME-GenAI-EnforcedGuardrail-UsEast1-ApplyPolicy" {
			continue
		}
		found = true
		assert.ElementsMatch(t, []string{"ACME-GenAI-EvalPartner-BedrockInvokeRole", "ACME-GenAI-Marketing-BedrockInvokeRole", "ACME-GenAI-UseCaseA-BedrockInvokeRole", "ACME-GenAI-UseCaseC-BedrockInvokeRole"}, strs(p["Roles"]))
	}
	assert.True(t, found)
}
