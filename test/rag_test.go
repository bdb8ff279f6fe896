package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const ragBase = "RagAgent-Base"

func only(t *testing.T, tpl map[string]any, typ string) map[string]any {
	t.Helper()
	rs := byType(tpl, typ)
	require.Len(t, rs, 1, typ)
	for _, p := range rs {
		return p
	}
	return nil
}

func TestRAGBaseState(t *testing.T) {
	tpl := synth(t, example, nil, nil)[ragBase]
	require.NotNil(t, tpl)

	// Every stateful resource survives a stack deletion.
	for id, raw := range resources(tpl) {
		r := raw.(map[string]any)
		switch r["Type"] {
		case "AWS::S3::Bucket", "AWS::DynamoDB::Table", "AWS::S3Vectors::VectorBucket", "AWS::S3Vectors::Index":
			assert.Equal(t, "Retain", r["DeletionPolicy"], id)
		}
	}

	idx := only(t, tpl, "AWS::S3Vectors::Index")
	assert.Equal(t, "float32", idx["DataType"])
	assert.EqualValues(t, 1024, idx["Dimension"])
	assert.Equal(t, "cosine", idx["DistanceMetric"])

	table := only(t, tpl, "AWS::DynamoDB::Table")
	assert.Equal(t, "PAY_PER_REQUEST", table["BillingMode"])
	assert.Equal(t, map[string]any{"PointInTimeRecoveryEnabled": true}, table["PointInTimeRecoverySpecification"])
	assert.Equal(t, map[string]any{"SSEEnabled": true}, table["SSESpecification"])
	assert.Equal(t, map[string]any{"AttributeName": "expires_at", "Enabled": true}, table["TimeToLiveSpecification"])
	b, _ := json.Marshal(table)
	for _, want := range []string{`"AttributeName":"PK","KeyType":"HASH"`, `"AttributeName":"SK","KeyType":"RANGE"`, `"IndexName":"GSI1"`, `"AttributeName":"GSI1PK","KeyType":"HASH"`} {
		assert.Contains(t, string(b), want)
	}

	var documents map[string]any
	for _, p := range byType(tpl, "AWS::S3::Bucket") {
		if _, ok := p["VersioningConfiguration"]; ok {
			documents = p
		}
	}
	require.NotNil(t, documents)
	assert.Equal(t, map[string]any{"Status": "Enabled"}, documents["VersioningConfiguration"])
	b, _ = json.Marshal(documents)
	for _, want := range []string{`"NoncurrentVersionExpiration":{"NoncurrentDays":30}`, `"SSEAlgorithm":"AES256"`, `"BlockPublicAcls":true`, `"RestrictPublicBuckets":true`, `"LoggingConfiguration"`} {
		assert.Contains(t, string(b), want)
	}
	// TLS only: both bucket policies deny insecure transport.
	for _, p := range byType(tpl, "AWS::S3::BucketPolicy") {
		b, _ := json.Marshal(p)
		assert.Contains(t, string(b), `"aws:SecureTransport":"false"`)
	}
}

// The app role may touch its own resources and models, and nothing else.
func TestRAGAppRoleLeastPrivilege(t *testing.T) {
	tpl := synth(t, example, nil, nil)[ragBase]
	var app map[string]any
	for id, p := range byType(tpl, "AWS::IAM::Role") {
		if strings.HasPrefix(id, "AppRole") {
			app = p
		}
	}
	require.NotNil(t, app)
	trust, _ := json.Marshal(app["AssumeRolePolicyDocument"])
	assert.Contains(t, string(trust), `"Service":"lambda.amazonaws.com"`)
	assert.Nil(t, app["ManagedPolicyArns"], "no managed policies")

	allowed := map[string][]string{
		`{"Fn::Join":["",[{"Fn::GetAtt":["Documents7E5B2978","Arn"]},"/documents/*"]]}`:                           {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"},
		`{"Fn::GetAtt":["Documents7E5B2978","Arn"]}`:                                                              {"s3:ListBucket"},
		`{"Fn::GetAtt":["Index","IndexArn"]}`:                                                                     {"s3vectors:PutVectors", "s3vectors:GetVectors", "s3vectors:QueryVectors", "s3vectors:DeleteVectors", "s3vectors:ListVectors"},
		`{"Fn::GetAtt":["MetadataBDB8F4DB","Arn"]}`:                                                               {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"},
		`{"Fn::Join":["",[{"Fn::GetAtt":["MetadataBDB8F4DB","Arn"]},"/index/GSI1"]]}`:                             {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"},
		`"arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0"`:                              {"bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"},
		`"arn:aws:bedrock:us-east-1:666666666666:inference-profile/us.anthropic.claude-3-5-sonnet-20241022-v2:0"`: {"bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"},
	}
	for _, r := range []string{"us-east-1", "us-east-2", "us-west-2"} {
		allowed[`"arn:aws:bedrock:`+r+`::foundation-model/anthropic.claude-3-5-sonnet-20241022-v2:0"`] = []string{"bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"}
	}
	seen := map[string]bool{}
	for _, pol := range app["Policies"].([]any) {
		for _, raw := range pol.(map[string]any)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := raw.(map[string]any)
			assert.Equal(t, "Allow", st["Effect"])
			res := st["Resource"]
			list, ok := res.([]any)
			if !ok {
				list = []any{res}
			}
			for _, r := range list {
				key, _ := json.Marshal(r)
				want, ok := allowed[string(key)]
				if !assert.True(t, ok, "unexpected resource %s", key) {
					continue
				}
				seen[string(key)] = true
				for _, a := range strs(st["Action"]) {
					assert.Contains(t, want, a, "action %s on %s", a, key)
				}
			}
			if strings.Contains(string(must(json.Marshal(st))), "foundation-model/anthropic") {
				assert.NotNil(t, st["Condition"], "profile destinations only through the profile")
			}
		}
	}
	assert.Len(t, seen, len(allowed), "every listed grant is present")
}

func must(b []byte, _ error) []byte { return b }

func TestRAGKnowledgeBaseRole(t *testing.T) {
	tpl := synth(t, example, nil, nil)[ragBase]
	var kb map[string]any
	for id, p := range byType(tpl, "AWS::IAM::Role") {
		if strings.HasPrefix(id, "KnowledgeBaseRole") {
			kb = p
		}
	}
	require.NotNil(t, kb, "knowledgeBase: true creates the role")
	b, _ := json.Marshal(kb["AssumeRolePolicyDocument"])
	assert.Contains(t, string(b), `"Service":"bedrock.amazonaws.com"`)
	assert.Contains(t, string(b), `"aws:SourceAccount":"666666666666"`)
}

const ragLambda = "RagAgent-Lambda"

func TestRAGFunction(t *testing.T) {
	tpl := synth(t, example, nil, nil)[ragLambda]
	require.NotNil(t, tpl)
	fn := only(t, tpl, "AWS::Lambda::Function")
	assert.EqualValues(t, 1024, fn["MemorySize"])
	assert.EqualValues(t, 60, fn["Timeout"])
	assert.Equal(t, "Image", fn["PackageType"])
	code, _ := json.Marshal(fn["Code"])
	assert.Contains(t, string(code), "666666666666.dkr.ecr.us-east-1.")
	assert.Contains(t, string(code), "rag-agent:1.4.2")
	vars := fn["Environment"].(map[string]any)["Variables"].(map[string]any)
	for _, k := range []string{"S3_BUCKET_NAME", "S3_VECTOR_INDEX_NAME", "S3_DOCUMENTS_PREFIX", "DYNAMODB_TABLE_NAME", "BEDROCK_LLM_MODEL_ID",
		"BEDROCK_EMBEDDING_MODEL_ID", "VECTOR_DIMENSION", "VECTOR_TOP_K", "SIMILARITY_THRESHOLD"} {
		assert.Contains(t, vars, k)
	}
	for _, k := range []string{"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "BEDROCK_KNOWLEDGE_BASE_ID"} {
		assert.NotContains(t, vars, k, "reserved, secret, or unset in the example")
	}
	assert.Equal(t, "1024", vars["VECTOR_DIMENSION"])
	// The role comes from the base stack through Go props: an import, not a hand-written export name.
	role, _ := json.Marshal(fn["Role"])
	assert.Contains(t, string(role), `"Fn::ImportValue":"RagAgent-Base:ExportsOutputFnGetAttAppRole`)
	for id, lg := range byType(tpl, "AWS::Logs::LogGroup") {
		assert.EqualValues(t, 30, lg["RetentionInDays"], id)
	}
}

func TestRAGAPI(t *testing.T) {
	tpl := synth(t, example, nil, nil)[ragLambda]
	paths := map[string]string{} // resource logical id -> path
	var walk func(id string) string
	res := byType(tpl, "AWS::ApiGateway::Resource")
	walk = func(id string) string {
		if id == "" {
			return ""
		}
		p := res[id]
		parent, _ := p["ParentId"].(map[string]any)["Ref"].(string)
		return walk(parent) + "/" + p["PathPart"].(string)
	}
	for id := range res {
		paths[id] = walk(id)
	}
	var routes []string
	for _, m := range byType(tpl, "AWS::ApiGateway::Method") {
		ref, _ := m["ResourceId"].(map[string]any)["Ref"].(string)
		route := m["HttpMethod"].(string) + " " + paths[ref]
		routes = append(routes, route)
		assert.Equal(t, "AWS_IAM", m["AuthorizationType"], route)
		assert.NotNil(t, m["RequestValidatorId"], route)
		integ := m["Integration"].(map[string]any)
		assert.Equal(t, "AWS_PROXY", integ["Type"], route)
		if route == "POST /chat/stream" {
			assert.Equal(t, "STREAM", integ["ResponseTransferMode"])
		} else {
			assert.Nil(t, integ["ResponseTransferMode"], route)
		}
	}
	assert.ElementsMatch(t, []string{"GET /health", "POST /query", "POST /chat", "POST /chat/stream", "GET /documents", "POST /documents/ingest",
		"POST /documents/upload", "GET /documents/{id}", "DELETE /documents/{id}", "GET /tools"}, routes)

	stage := only(t, tpl, "AWS::ApiGateway::Stage")
	b, _ := json.Marshal(stage)
	assert.Contains(t, string(b), `"AccessLogSetting"`)
	assert.Contains(t, string(b), `"ThrottlingRateLimit":50`)
	assert.Contains(t, string(b), `"ThrottlingBurstLimit":100`)
	assoc := only(t, tpl, "AWS::WAFv2::WebACLAssociation")
	assert.NotNil(t, assoc["WebACLArn"])
}

// The other image and auth options: a local Dockerfile built as an asset, a
// Cognito authorizer and CORS, still with no security finding.
func TestRAGVariant(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "agent"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "agent", "Dockerfile"), []byte("FROM public.ecr.aws/lambda/python:3.12\n"), 0o644))
	data, err := os.ReadFile(example)
	require.NoError(t, err)
	variant := strings.Replace(string(data), `    repository: arn:aws:ecr:us-east-1:666666666666:repository/rag-agent
    tag: "1.4.2"`, `    directory: agent
  api:
    auth: cognito
    userPoolArn: arn:aws:cognito-idp:us-east-1:666666666666:userpool/us-east-1_abc123
    corsOrigins: [https://rag.example.com]`, 1)
	require.NotEqual(t, string(data), variant)
	path := filepath.Join(dir, "estate.yaml")
	require.NoError(t, os.WriteFile(path, []byte(variant), 0o644))

	built := build(t, path, nil, nil)
	tpl := template(built.RAGLambda.Stack)

	fn := only(t, tpl, "AWS::Lambda::Function")
	code, _ := json.Marshal(fn["Code"])
	assert.Contains(t, string(code), "container-assets", "the image is built from the directory as an asset")
	cors := 0
	for _, m := range byType(tpl, "AWS::ApiGateway::Method") {
		if m["HttpMethod"] == "OPTIONS" {
			cors++
			continue
		}
		assert.Equal(t, "COGNITO_USER_POOLS", m["AuthorizationType"])
	}
	assert.Positive(t, cors, "CORS preflight methods")
	ann := assertions.Annotations_FromStack(built.RAGLambda.Stack)
	assert.Empty(t, *ann.FindError(jsii.String("*"), assertions.Match_AnyValue()))
	assert.Empty(t, *ann.FindWarning(jsii.String("*"), assertions.Match_AnyValue()))
}
