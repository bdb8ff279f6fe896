package governance

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/cdktest"
	"github.com/acme/genai-estate/internal/estate"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

// Each destination choice builds exactly the resources estate counts, and
// the configuration the custom resource puts names only those destinations.
func TestInvocationLoggingVariants(t *testing.T) {
	for _, tc := range []struct {
		name    string
		logging config.Logging
	}{
		{"cloudWatch only", config.Logging{CloudWatch: &config.CloudWatchLogging{RetentionDays: 30}, TextData: true}},
		{"s3 only", config.Logging{S3: &config.S3Logging{ExpirationDays: 7}, ImageData: true}},
		{"both", config.Logging{CloudWatch: &config.CloudWatchLogging{RetentionDays: 90}, S3: &config.S3Logging{ExpirationDays: 365}, TextData: true, EmbeddingData: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
			stack := awscdk.NewStack(app, jsii.String("S"), &awscdk.StackProps{Env: &awscdk.Environment{Account: jsii.String("222222222222"), Region: jsii.String("eu-west-1")}})
			l := NewInvocationLogging(stack, "Logging", &InvocationLoggingProps{Logging: &tc.logging, Partition: "aws", Account: "222222222222", Region: "eu-west-1",
				LogGroupName: "/ACME/GenAI/bedrock/model-invocations", RoleName: "ACME-GenAI-InvocationLogging-EuWest1"})
			cw, s3 := tc.logging.CloudWatch != nil, tc.logging.S3 != nil
			assert.Equal(t, cw, l.LogGroup != nil)
			assert.Equal(t, cw, l.Role != nil)
			assert.Equal(t, s3, l.Bucket != nil)

			tpl := *assertions.Template_FromStack(stack, nil).ToJSON()
			assert.Len(t, tpl["Resources"], estate.LoggingResources(&tc.logging), "estate.LoggingResources counts what is built")

			_, hasCW := l.Call["cloudWatchConfig"]
			_, hasS3 := l.Call["s3Config"]
			assert.Equal(t, cw, hasCW)
			assert.Equal(t, s3, hasS3)
			if cw {
				_, large := l.Call["cloudWatchConfig"].(map[string]any)["largeDataDeliveryS3Config"]
				assert.Equal(t, s3, large, "large bodies go to the bucket when there is one")
			}
			for k, want := range map[string]bool{"textDataDeliveryEnabled": tc.logging.TextData, "imageDataDeliveryEnabled": tc.logging.ImageData,
				"embeddingDataDeliveryEnabled": tc.logging.EmbeddingData, "videoDataDeliveryEnabled": tc.logging.VideoData} {
				assert.Equal(t, want, l.Call[k], k)
			}

			// PassRole only when there is a role to pass; the key admits
			// exactly the services that use it.
			var policy, key map[string]any
			for _, r := range tpl["Resources"].(map[string]any) {
				r := r.(map[string]any)
				switch r["Type"] {
				case "AWS::IAM::Policy":
					policy = r["Properties"].(map[string]any)["PolicyDocument"].(map[string]any)
				case "AWS::KMS::Key":
					key = r["Properties"].(map[string]any)["KeyPolicy"].(map[string]any)
				}
			}
			require.NotNil(t, policy)
			require.NotNil(t, key)
			sids := func(doc map[string]any) map[string]bool {
				out := map[string]bool{}
				for _, s := range doc["Statement"].([]any) {
					if sid, ok := s.(map[string]any)["Sid"].(string); ok {
						out[sid] = true
					}
				}
				return out
			}
			assert.Equal(t, cw, sids(policy)["PassLogsRoleToBedrock"])
			assert.True(t, sids(policy)["InvocationLoggingConfiguration"])
			assert.Equal(t, cw, sids(key)["CloudWatchLogsEncryptsInvocationLogs"])
			assert.Equal(t, s3, sids(key)["BedrockWritesInvocationLogObjects"])
		})
	}
}
