package checks

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticache"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/genai-estate/internal/cdktest"
	"github.com/acme/genai-estate/internal/estate"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

func doc(statement map[string]any) map[string]any {
	return map[string]any{"Version": "2012-10-17", "Statement": []any{statement}}
}

var (
	goodWebIdentity = map[string]any{"Effect": "Allow", "Principal": map[string]any{"Federated": "arn:aws:iam::1:oidc-provider/idp"},
		"Action": "sts:AssumeRoleWithWebIdentity", "Condition": map[string]any{"StringEquals": map[string]any{"idp:aud": "gw", "idp:sub": []any{"a"}}}}
	audOnly = map[string]any{"Effect": "Allow", "Principal": map[string]any{"Federated": "arn:aws:iam::1:oidc-provider/idp"},
		"Action": "sts:AssumeRoleWithWebIdentity", "Condition": map[string]any{"StringEquals": map[string]any{"idp:aud": "gw"}}}
	subOnly = map[string]any{"Effect": "Allow", "Principal": map[string]any{"Federated": "arn:aws:iam::1:oidc-provider/idp"},
		"Action": "sts:AssumeRoleWithWebIdentity", "Condition": map[string]any{"StringEquals": map[string]any{"idp:sub": "a"}}}
	vendorNoExtID = map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::999999999999:root"}, "Action": "sts:AssumeRole"}
	vendorExtID   = map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::999999999999:root"}, "Action": "sts:AssumeRole",
		"Condition": map[string]any{"StringEquals": map[string]any{"sts:ExternalId": "x1"}}}
	anyone      = map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": "*"}, "Action": "sts:AssumeRole"}
	service     = map[string]any{"Effect": "Allow", "Principal": map[string]any{"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}
	exactInvoke = map[string]any{"Effect": "Allow", "Action": []any{"bedrock:InvokeModel"}, "Resource": []any{"arn:aws:bedrock:us-east-1::foundation-model/m"}}
	starAction  = map[string]any{"Effect": "Allow", "Action": []any{"bedrock:*"}, "Resource": []any{"arn:aws:bedrock:us-east-1::foundation-model/m"}}
	starModel   = map[string]any{"Effect": "Allow", "Action": []any{"bedrock:InvokeModel"}, "Resource": []any{"arn:aws:bedrock:us-east-1::foundation-model/anthropic.*"}}
	runtimeAct  = map[string]any{"Effect": "Allow", "Action": []any{"bedrock-runtime:InvokeModel"}, "Resource": []any{"arn:aws:bedrock:us-east-1::foundation-model/m"}}
	otherStar   = map[string]any{"Effect": "Allow", "Action": []any{"logs:PutLogEvents"}, "Resource": []any{"*"}}
	loggingCfg  = map[string]any{"Effect": "Allow", "Action": []any{"bedrock:PutModelInvocationLoggingConfiguration", "bedrock:DeleteModelInvocationLoggingConfiguration"}, "Resource": "*"}
	loggingPlus = map[string]any{"Effect": "Allow", "Action": []any{"bedrock:PutModelInvocationLoggingConfiguration", "bedrock:InvokeModel"}, "Resource": "*"}
)

func TestRules(t *testing.T) {
	tests := []struct {
		name  string
		got   []Violation
		wants string // "" means no finding
		rule  Rule
	}{
		{"web identity with aud and sub", Trust(doc(goodWebIdentity)), "", Rule{}},
		{"web identity without sub", Trust(doc(audOnly)), "<issuer>:sub", TrustSubject},
		{"web identity without aud", Trust(doc(subOnly)), "<issuer>:aud", TrustAudience},
		{"vendor without external id", Trust(doc(vendorNoExtID)), "sts:ExternalId", TrustExternalID},
		{"vendor with external id", Trust(doc(vendorExtID)), "", Rule{}},
		{"any principal", Trust(doc(anyone)), "any principal", TrustAnyPrincipal},
		{"service principal", Trust(doc(service)), "", Rule{}},
		{"exact invoke", Permissions(doc(exactInvoke)), "", Rule{}},
		{"wildcard bedrock action", Permissions(doc(starAction)), "wildcard Bedrock action", BedrockAction},
		{"wildcard model", Permissions(doc(starModel)), "wildcard Bedrock resource", BedrockResource},
		{"bedrock-runtime prefix", Permissions(doc(runtimeAct)), "no bedrock-runtime: prefix", BedrockPrefix},
		{"non-bedrock wildcard is cdk-nag's business", Permissions(doc(otherStar)), "", Rule{}},
		{"logging configuration takes only *", Permissions(doc(loggingCfg)), "", Rule{}},
		{"invoke beside the logging calls", Permissions(doc(loggingPlus)), "wildcard Bedrock resource", BedrockResource},
		{"bucket not retained", Retained("AWS::S3::Bucket", "Delete"), "not retained", DataRetained},
		{"bucket retained", Retained("AWS::S3::Bucket", "Retain"), "", Rule{}},
		{"bucket retained, CDK spelling", Retained("AWS::S3::Bucket", "RETAIN"), "", Rule{}},
		{"role is not stateful", Retained("AWS::IAM::Role", ""), "", Rule{}},
		{"plaintext password", Secrets(map[string]any{"DB_PASSWORD": "hunter2"}), "DB_PASSWORD", PlaintextSecret},
		{"access key id in any variable", Secrets(map[string]any{"CREDS": "AKIAABCDEFGHIJKLMNOP"}), "CREDS", PlaintextSecret},
		{"secret by reference", Secrets(map[string]any{"DB_PASSWORD": "{{resolve:secretsmanager:db:SecretString:pw}}"}), "", Rule{}},
		{"pointer to a secret", Secrets(map[string]any{"CLIENT_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:x"}), "", Rule{}},
		{"ordinary variable", Secrets(map[string]any{"VECTOR_TOP_K": "5"}), "", Rule{}},
		{"describes a token", Secrets(map[string]any{"TOKEN_TTL": "900", "IDP_TOKEN_URL": "https://idp/token"}), "", Rule{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.wants == "" {
				assert.Empty(t, tc.got)
				return
			}
			require.Len(t, tc.got, 1)
			assert.Equal(t, tc.rule, tc.got[0].Rule)
			assert.Contains(t, tc.got[0].Problem, tc.wants)
			assert.NotEmpty(t, tc.got[0].Fix)
		})
	}
}

// Each planted violation fails the synth: one finding, on its construct path.
func TestPlantedViolationsFailSynth(t *testing.T) {
	tests := []struct {
		name  string
		plant func(s awscdk.Stack)
		want  string
	}{
		{"trust without aud", func(s awscdk.Stack) {
			awsiam.NewCfnRole(s, jsii.String("Planted"), &awsiam.CfnRoleProps{AssumeRolePolicyDocument: doc(subOnly)})
		}, "<issuer>:aud"},
		{"vendor without external id", func(s awscdk.Stack) {
			awsiam.NewCfnRole(s, jsii.String("Planted"), &awsiam.CfnRoleProps{AssumeRolePolicyDocument: doc(vendorNoExtID)})
		}, "sts:ExternalId"},
		{"any principal", func(s awscdk.Stack) {
			awsiam.NewCfnRole(s, jsii.String("Planted"), &awsiam.CfnRoleProps{AssumeRolePolicyDocument: doc(anyone)})
		}, "any principal"},
		{"wildcard model", func(s awscdk.Stack) {
			awsiam.NewCfnManagedPolicy(s, jsii.String("Planted"), &awsiam.CfnManagedPolicyProps{PolicyDocument: doc(starModel)})
		}, "wildcard Bedrock resource"},
		{"bedrock-runtime action in an inline policy", func(s awscdk.Stack) {
			awsiam.NewCfnRole(s, jsii.String("Planted"), &awsiam.CfnRoleProps{AssumeRolePolicyDocument: doc(service),
				Policies: &[]any{&awsiam.CfnRole_PolicyProperty{PolicyName: jsii.String("p"), PolicyDocument: doc(runtimeAct)}}})
		}, "bedrock-runtime"},
		{"log group without retention", func(s awscdk.Stack) {
			awslogs.NewCfnLogGroup(s, jsii.String("Planted"), &awslogs.CfnLogGroupProps{})
		}, "retention"},
		{"table without encryption", func(s awscdk.Stack) {
			t := awsdynamodb.NewCfnTable(s, jsii.String("Planted"), &awsdynamodb.CfnTableProps{KeySchema: &[]any{&awsdynamodb.CfnTable_KeySchemaProperty{AttributeName: jsii.String("pk"), KeyType: jsii.String("HASH")}}})
			t.ApplyRemovalPolicy(awscdk.RemovalPolicy_RETAIN, nil)
		}, "server-side encryption"},
		{"cache without encryption", func(s awscdk.Stack) {
			c := awselasticache.NewCfnReplicationGroup(s, jsii.String("Planted"), &awselasticache.CfnReplicationGroupProps{ReplicationGroupDescription: jsii.String("d"), TransitEncryptionEnabled: jsii.Bool(true)})
			c.ApplyRemovalPolicy(awscdk.RemovalPolicy_RETAIN, nil)
		}, "not encrypted at rest"},
		{"lambda with a plaintext secret", func(s awscdk.Stack) {
			awslambda.NewCfnFunction(s, jsii.String("Planted"), &awslambda.CfnFunctionProps{Role: jsii.String("arn:aws:iam::1:role/r"), Code: &awslambda.CfnFunction_CodeProperty{ImageUri: jsii.String("1.dkr.ecr.us-east-1.amazonaws.com/x:1")},
				Environment: &awslambda.CfnFunction_EnvironmentProperty{Variables: &map[string]*string{"API_KEY": jsii.String("sk-live-123")}}})
		}, "API_KEY holds a plaintext secret"},
		{"bucket destroyed on delete", func(s awscdk.Stack) {
			awss3.NewBucket(s, jsii.String("Planted"), &awss3.BucketProps{RemovalPolicy: awscdk.RemovalPolicy_DESTROY, Encryption: awss3.BucketEncryption_S3_MANAGED})
		}, "not retained"},
		{"ECS task with a plaintext secret", func(s awscdk.Stack) {
			awsecs.NewCfnTaskDefinition(s, jsii.String("Planted"), &awsecs.CfnTaskDefinitionProps{ContainerDefinitions: &[]any{&awsecs.CfnTaskDefinition_ContainerDefinitionProperty{
				Name: jsii.String("c"), Image: jsii.String("i"), Environment: &[]any{&awsecs.CfnTaskDefinition_KeyValuePairProperty{Name: jsii.String("DB_PASSWORD"), Value: jsii.String("hunter2")}}}}})
		}, "DB_PASSWORD holds a plaintext secret"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
			s := awscdk.NewStack(app, jsii.String("S"), nil)
			tc.plant(s)
			found, err := Assembly(*app.Synth(nil).Directory())
			require.NoError(t, err)
			require.Len(t, found, 1, "%v", found)
			f := found[0]
			assert.Equal(t, "S", f.Stack)
			assert.Contains(t, f.Path, "S/Planted", "located on the construct path")
			assert.Contains(t, f.Problem+"; fix: "+f.Fix, tc.want)
			assert.NotEmpty(t, f.Fix)
			assert.Contains(t, found.Error(), "[genai-estate "+f.Rule.ID+"] "+f.Path+": ")
			assert.Contains(t, Rules, f.Rule, "a finding names a listed rule")
		})
	}
}

// A clean stack has no finding, so the planted ones above are the rules firing.
func TestCleanStackPasses(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	s := awscdk.NewStack(app, jsii.String("S"), nil)
	awsiam.NewCfnRole(s, jsii.String("Role"), &awsiam.CfnRoleProps{AssumeRolePolicyDocument: doc(goodWebIdentity)})
	awsiam.NewCfnManagedPolicy(s, jsii.String("Policy"), &awsiam.CfnManagedPolicyProps{PolicyDocument: doc(exactInvoke)})
	found, err := Assembly(*app.Synth(nil).Directory())
	require.NoError(t, err)
	assert.Empty(t, found)
}

// Whole-template findings: size over CloudFormation's limit, CDK's own size
// warning, and a template without resources.
func TestTemplateFindings(t *testing.T) {
	role := `"R":{"Type":"AWS::IAM::Role","Properties":{"AssumeRolePolicyDocument":{"Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}}}`
	big := `{"Resources":{` + role + `},"Description":"` + strings.Repeat("x", estate.MaxTemplateBytes) + `"}`
	warned := map[string][]MetadataEntry{"/S": {{Type: "aws:cdk:warning", Data: "Template size is approaching limit: 850000/1000000. Split resources into multiple stacks. [ack: @aws-cdk/core:Stack.templateSize]"}}}
	paths := map[string][]MetadataEntry{"/S/Role/Resource": {{Type: "aws:cdk:logicalId", Data: "R"}}}
	tests := []struct {
		name, body string
		md         map[string][]MetadataEntry
		want       string // "" means no finding
		rule       Rule
	}{
		{"one clean resource", `{"Resources":{` + role + `}}`, paths, "", Rule{}},
		{"oversize template", big, paths, "over CloudFormation's limit of 1000000", TemplateSize},
		{"CDK's template-size warning", `{"Resources":{` + role + `}}`, warned, "Template size is approaching limit", TemplateSize},
		{"no resources", `{"Outputs":{}}`, nil, "no resources", TemplateNotEmpty},
		{"only CDK's metadata resource", `{"Resources":{"CDKMetadata":{"Type":"AWS::CDK::Metadata"}}}`, nil, "no resources", TemplateNotEmpty},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			found, err := Template("S", []byte(tc.body), tc.md)
			require.NoError(t, err)
			if tc.want == "" {
				assert.Empty(t, found)
				return
			}
			require.Len(t, found, 1, "%v", found)
			assert.Equal(t, tc.rule, found[0].Rule)
			assert.Contains(t, found[0].Problem, tc.want)
			assert.Contains(t, found[0].Path, "S")
			assert.NotEmpty(t, found[0].Fix)
		})
	}
	found, err := Template("S", []byte(`{"Resources":{"R":{"Type":"AWS::IAM::ManagedPolicy","Properties":{"PolicyDocument":{"Statement":[{"Effect":"Allow","Action":"bedrock:*","Resource":"*"}]}}}}}`), paths)
	require.NoError(t, err)
	require.Len(t, found, 2, "wildcard action and wildcard resource")
	assert.Equal(t, "S/Role/Resource", found[0].Path, "logical id mapped to the construct path")
	assert.Equal(t, "R", found[0].LogicalID)
}

// The README's threat model cites each rule by id, and no id that is not a
// rule, so the table and the checks cannot drift apart.
func TestREADMECitesEveryRule(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	ids := map[string]bool{}
	for _, r := range Rules {
		assert.False(t, ids[r.ID], "rule id %s is used twice", r.ID)
		ids[r.ID] = true
		assert.Contains(t, string(readme), "`"+r.ID+"`", "the README's threat model does not cite %s (%s)", r.ID, r.Summary)
	}
	for _, cited := range regexp.MustCompile("`(GE-[A-Z-]+)`").FindAllStringSubmatch(string(readme), -1) {
		assert.True(t, ids[cited[1]], "the README cites %s, which is not a rule in internal/checks", cited[1])
	}
}
