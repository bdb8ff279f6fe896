package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/stacks"
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
	assert.Equal(t, stacks.VectorIndexName(&config.RAG{VectorDimension: 1024, DistanceMetric: "cosine", NonFilterableMetadataKeys: config.DefaultNonFilterableMetadataKeys}), idx["IndexName"])
	assert.Equal(t, map[string]any{"NonFilterableMetadataKeys": []any{"content", "AMAZON_BEDROCK_TEXT", "AMAZON_BEDROCK_METADATA"}}, idx["MetadataConfiguration"],
		"chunk text and a knowledge base's keys are stored, not filterable")

	table := only(t, tpl, "AWS::DynamoDB::Table")
	assert.Equal(t, "PAY_PER_REQUEST", table["BillingMode"])
	assert.Equal(t, map[string]any{"PointInTimeRecoveryEnabled": true}, table["PointInTimeRecoverySpecification"])
	assert.Equal(t, map[string]any{"SSEEnabled": true}, table["SSESpecification"])
	assert.Equal(t, map[string]any{"AttributeName": "expires_at", "Enabled": true}, table["TimeToLiveSpecification"])
	assertLike(t, table, obj{
		"KeySchema":              arr{obj{"AttributeName": "PK", "KeyType": "HASH"}, obj{"AttributeName": "SK", "KeyType": "RANGE"}},
		"GlobalSecondaryIndexes": arr{obj{"IndexName": "GSI1", "KeySchema": arr{obj{"AttributeName": "GSI1PK", "KeyType": "HASH"}}}},
	})

	var documents map[string]any
	for _, p := range byType(tpl, "AWS::S3::Bucket") {
		if _, ok := p["VersioningConfiguration"]; ok {
			documents = p
		}
	}
	require.NotNil(t, documents)
	assert.Equal(t, map[string]any{"Status": "Enabled"}, documents["VersioningConfiguration"])
	assertLike(t, documents, obj{
		"LifecycleConfiguration":         obj{"Rules": arr{obj{"NoncurrentVersionExpiration": obj{"NoncurrentDays": 30}, "Status": "Enabled"}}},
		"BucketEncryption":               obj{"ServerSideEncryptionConfiguration": arr{obj{"ServerSideEncryptionByDefault": obj{"SSEAlgorithm": "AES256"}}}},
		"PublicAccessBlockConfiguration": obj{"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true},
		"LoggingConfiguration":           obj{"DestinationBucketName": obj{}},
	})
	// TLS only: both bucket policies deny insecure transport.
	policies := byType(tpl, "AWS::S3::BucketPolicy")
	assert.Len(t, policies, 2, "the documents bucket and its access-log bucket")
	for id, p := range policies {
		assertLike(t, p, obj{"PolicyDocument": obj{"Statement": arr{
			obj{"Effect": "Deny", "Action": "s3:*", "Principal": obj{"AWS": "*"}, "Condition": obj{"Bool": obj{"aws:SecureTransport": "false"}}},
		}}}, id)
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
	assertLike(t, app["AssumeRolePolicyDocument"], obj{"Statement": arr{obj{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": obj{"Service": "lambda.amazonaws.com"}}}})
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
	assertLike(t, kb["AssumeRolePolicyDocument"], obj{"Statement": arr{obj{"Effect": "Allow", "Action": "sts:AssumeRole",
		"Principal": obj{"Service": "bedrock.amazonaws.com"}, "Condition": obj{"StringEquals": obj{"aws:SourceAccount": "666666666666"}}}}},
		"only Bedrock, and only on behalf of this account")
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
	// Exactly the README's list (BEDROCK_KNOWLEDGE_BASE_ID only when set).
	var keys []string
	for k := range vars {
		keys = append(keys, k)
	}
	assert.ElementsMatch(t, []string{"S3_BUCKET_NAME", "S3_DOCUMENTS_PREFIX", "S3_VECTOR_BUCKET_ARN", "S3_VECTOR_INDEX_NAME", "DYNAMODB_TABLE_NAME",
		"BEDROCK_LLM_MODEL_ID", "BEDROCK_EMBEDDING_MODEL_ID", "VECTOR_DIMENSION", "VECTOR_TOP_K", "SIMILARITY_THRESHOLD",
		"AWS_LWA_INVOKE_MODE", "AWS_LWA_PORT", "AWS_LWA_READINESS_CHECK_PATH", "AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH"}, keys)
	assert.Equal(t, "chunks-1024-cosine-d434d2f3", vars["S3_VECTOR_INDEX_NAME"], "the index's name, which the base stack sets")
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

// routesOf maps "METHOD /path" to each method's properties.
func routesOf(tpl map[string]any) map[string]map[string]any {
	res := byType(tpl, "AWS::ApiGateway::Resource")
	var walk func(id string) string
	walk = func(id string) string {
		if id == "" {
			return ""
		}
		p := res[id]
		parent, _ := p["ParentId"].(map[string]any)["Ref"].(string)
		return walk(parent) + "/" + p["PathPart"].(string)
	}
	out := map[string]map[string]any{}
	for _, m := range byType(tpl, "AWS::ApiGateway::Method") {
		ref, _ := m["ResourceId"].(map[string]any)["Ref"].(string)
		out[m["HttpMethod"].(string)+" "+walk(ref)] = m
	}
	return out
}

// Every route uses the one streaming integration (the adapter streams every
// response, and a buffered integration answers 502 to that), waits as long
// as the function may run, and JSON routes carry a request model.
func TestRAGAPI(t *testing.T) {
	tpl := synth(t, example, nil, nil)[ragLambda]
	routes := routesOf(tpl)
	for _, tc := range []struct {
		route string
		json  bool
	}{
		{"GET /health", false}, {"POST /query", true}, {"POST /chat", true}, {"POST /chat/stream", true},
		{"GET /documents", false}, {"POST /documents/ingest", true}, {"POST /documents/upload", true},
		{"GET /documents/{id}", false}, {"DELETE /documents/{id}", false}, {"GET /tools", false},
	} {
		t.Run(tc.route, func(t *testing.T) {
			m := routes[tc.route]
			require.NotNil(t, m, "route exists")
			assert.Equal(t, "AWS_IAM", m["AuthorizationType"])
			assert.NotNil(t, m["RequestValidatorId"])
			integ := m["Integration"].(map[string]any)
			assert.Equal(t, "AWS_PROXY", integ["Type"])
			assert.Equal(t, "POST", integ["IntegrationHttpMethod"])
			assert.Equal(t, "STREAM", integ["ResponseTransferMode"])
			assert.EqualValues(t, 60000, integ["TimeoutInMillis"], "the function's 60 s")
			uri := string(must(json.Marshal(integ["Uri"])))
			assert.Contains(t, uri, "lambda:path/2021-11-15/functions/")
			assert.Contains(t, uri, "/response-streaming-invocations")
			assert.NotContains(t, uri, "2015-03-31")
			if tc.json {
				models, _ := json.Marshal(m["RequestModels"])
				assert.Contains(t, string(models), `"application/json":{"Ref":"ApiJsonObject`)
			} else {
				assert.Nil(t, m["RequestModels"])
			}
		})
	}
	assert.Len(t, routes, 10, "no other routes")
	model := only(t, tpl, "AWS::ApiGateway::Model")
	assert.Equal(t, "object", model["Schema"].(map[string]any)["type"])

	api := only(t, tpl, "AWS::ApiGateway::RestApi")
	assert.Nil(t, api["BinaryMediaTypes"], "uploads go to S3 by presigned URL, not through the API")
	stage := only(t, tpl, "AWS::ApiGateway::Stage")
	assertLike(t, stage, obj{
		"AccessLogSetting": obj{"DestinationArn": obj{}},
		"MethodSettings":   arr{obj{"ThrottlingRateLimit": 50, "ThrottlingBurstLimit": 100}},
	})
	assoc := only(t, tpl, "AWS::WAFv2::WebACLAssociation")
	assert.NotNil(t, assoc["WebACLArn"])

	fn := only(t, tpl, "AWS::Lambda::Function")
	vars := fn["Environment"].(map[string]any)["Variables"].(map[string]any)
	for k, want := range map[string]string{"AWS_LWA_INVOKE_MODE": "response_stream", "AWS_LWA_PORT": "8080", "AWS_LWA_READINESS_CHECK_PATH": "/health", "AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH": "true"} {
		assert.Equal(t, want, vars[k], k)
	}
}

// The common rule set's 8 KB body rule only counts; the ACL's own rule
// blocks bodies over maxBodyKb, and WAF inspects that much of a body.
func TestRAGWebACLBodySize(t *testing.T) {
	tpl := synth(t, example, nil, nil)[ragLambda]
	acl := only(t, tpl, "AWS::WAFv2::WebACL")
	assert.Equal(t, map[string]any{"RequestBody": map[string]any{"API_GATEWAY": map[string]any{"DefaultSizeInspectionLimit": "KB_64"}}}, acl["AssociationConfig"])
	rules := map[string]map[string]any{}
	for _, r := range acl["Rules"].([]any) {
		rules[r.(map[string]any)["Name"].(string)] = r.(map[string]any)
	}
	require.Len(t, rules, 3)
	common := rules["AWSManagedRulesCommonRuleSet"]["Statement"].(map[string]any)["ManagedRuleGroupStatement"].(map[string]any)
	assert.Equal(t, []any{map[string]any{"Name": "SizeRestrictions_BODY", "ActionToUse": map[string]any{"Count": map[string]any{}}}}, common["RuleActionOverrides"],
		"only the body-size rule of the common set is relaxed")
	assert.Nil(t, rules["AWSManagedRulesKnownBadInputsRuleSet"]["Statement"].(map[string]any)["ManagedRuleGroupStatement"].(map[string]any)["RuleActionOverrides"])
	size := rules["BodySizeLimit"]
	require.NotNil(t, size)
	assert.Equal(t, map[string]any{"Block": map[string]any{}}, size["Action"])
	sc := size["Statement"].(map[string]any)["SizeConstraintStatement"].(map[string]any)
	assert.Equal(t, "GT", sc["ComparisonOperator"])
	assert.EqualValues(t, 64*1024, sc["Size"])
	assert.Equal(t, map[string]any{"Body": map[string]any{"OversizeHandling": "MATCH"}}, sc["FieldToMatch"], "bodies past the inspection limit are blocked too")
}

// The index name changes with every property whose change replaces the
// index, and only with them, so CloudFormation can create the replacement
// beside the old index.
func TestRAGVectorIndexName(t *testing.T) {
	base := config.RAG{VectorDimension: 1024, DistanceMetric: "cosine", NonFilterableMetadataKeys: config.DefaultNonFilterableMetadataKeys}
	name := stacks.VectorIndexName(&base)
	assert.Regexp(t, `^chunks-1024-cosine-[0-9a-f]{8}$`, name)
	for _, tc := range []struct {
		name   string
		change func(r *config.RAG)
		same   bool
	}{
		{"same config", func(r *config.RAG) {}, true},
		{"unrelated field", func(r *config.RAG) { r.TopK = 9; r.Name = "Other" }, true},
		{"dimension", func(r *config.RAG) { r.VectorDimension = 512 }, false},
		{"metric", func(r *config.RAG) { r.DistanceMetric = "euclidean" }, false},
		{"a key added", func(r *config.RAG) {
			r.NonFilterableMetadataKeys = append(slices.Clone(r.NonFilterableMetadataKeys), "title")
		}, false},
		{"keys reordered", func(r *config.RAG) {
			r.NonFilterableMetadataKeys = []string{"AMAZON_BEDROCK_TEXT", "content", "AMAZON_BEDROCK_METADATA"}
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := base
			tc.change(&r)
			got := stacks.VectorIndexName(&r)
			assert.Regexp(t, `^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`, got, "an S3 Vectors index name")
			assert.Equal(t, tc.same, got == name, got)
		})
	}
}

// Config errors for the RAG API and index, each located at its field.
func TestRAGConfigErrors(t *testing.T) {
	data, err := os.ReadFile(example)
	require.NoError(t, err)
	anchor := "  vectorDimension: 1024\n"
	for _, tc := range []struct {
		name, add, path string
		want            []string
	}{
		{"gateway waits past the function", "  api: {timeoutSeconds: 120}\n", "rag.api.timeoutSeconds", []string{"Lambda stops after 60 s", "at most 60"}},
		{"gateway past its streaming limit", "  lambda: {timeoutSeconds: 900}\n  api: {timeoutSeconds: 901}\n", "rag.api.timeoutSeconds", []string{"901 is out of range", "900"}},
		{"gateway timeout of 0", "  api: {timeoutSeconds: 0}\n", "rag.api.timeoutSeconds", []string{"0 is out of range"}},
		{"function past its limit", "  lambda: {timeoutSeconds: 901}\n", "rag.lambda.timeoutSeconds", []string{"901 is out of range", "900"}},
		{"body size WAF cannot inspect", "  api: {maxBodyKb: 100}\n", "rag.api.maxBodyKb", []string{"100 is not one of 16, 32, 48, 64"}},
		{"topK of 0", "  topK: 0\n", "rag.topK", []string{"0 is out of range"}},
		{"too many metadata keys", "  nonFilterableMetadataKeys: [a, b, c, d, e, f, g, h, i, j, k]\n", "rag.nonFilterableMetadataKeys", []string{"11 keys", "1 to 10"}},
		{"empty metadata key list", "  nonFilterableMetadataKeys: []\n", "rag.nonFilterableMetadataKeys", []string{"0 keys"}},
		{"repeated metadata key", "  nonFilterableMetadataKeys: [content, content]\n", "rag.nonFilterableMetadataKeys[1]", []string{"listed twice"}},
		{"long metadata key", "  nonFilterableMetadataKeys: [" + strings.Repeat("k", 64) + "]\n", "rag.nonFilterableMetadataKeys[0]", []string{"not a usable metadata key", "1 to 63"}},
		{"not a key ARN", "  kmsKeyArn: alias/rag\n", "rag.kmsKeyArn", []string{"not a KMS key ARN", "not an alias"}},
		{"key in another region", "  kmsKeyArn: arn:aws:kms:eu-west-1:666666666666:key/1234abcd-12ab-34cd-56ef-1234567890ab\n", "rag.kmsKeyArn", []string{"the key is in eu-west-1", "use a key in us-east-1"}},
		{"key imported and created", "  kmsKeyArn: arn:aws:kms:us-east-1:666666666666:key/1234abcd-12ab-34cd-56ef-1234567890ab\n  createKmsKey: true\n", "rag.createKmsKey", []string{"both kmsKeyArn and createKmsKey"}},
		{"knowledge base ARN for an id", "  knowledgeBaseId: arn:aws:bedrock:us-east-1:666666666666:knowledge-base/ABC\n", "rag.knowledgeBaseId", []string{"not a knowledge base id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			variant := strings.Replace(string(data), anchor, anchor+tc.add, 1)
			require.NotEqual(t, string(data), variant)
			_, err := config.Parse(example, []byte(variant))
			var list config.ErrorList
			require.ErrorAs(t, err, &list)
			var found *config.Error
			for _, e := range list {
				if e.Path == tc.path {
					found = e
				}
			}
			require.NotNil(t, found, "an error at %s in %v", tc.path, err)
			assert.Positive(t, found.Line, "located")
			for _, w := range tc.want {
				assert.Contains(t, found.Problem+" | "+found.Fix, w)
			}
		})
	}
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
    corsOrigins: [https://rag.example.com]
    maxBodyKb: 16
  lambda: {timeoutSeconds: 300}
  knowledgeBaseId: ABCDE12345`, 1)
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
	for route, m := range routesOf(tpl) {
		if !strings.HasPrefix(route, "OPTIONS") {
			assert.EqualValues(t, 300000, m["Integration"].(map[string]any)["TimeoutInMillis"], "the gateway waits as long as the function runs: %s", route)
		}
	}
	acl := only(t, tpl, "AWS::WAFv2::WebACL")
	assert.Contains(t, string(must(json.Marshal(acl))), `"DefaultSizeInspectionLimit":"KB_16"`)
	assert.Contains(t, string(must(json.Marshal(acl))), `"Size":16384`)
	vars := fn["Environment"].(map[string]any)["Variables"].(map[string]any)
	assert.Equal(t, "ABCDE12345", vars["BEDROCK_KNOWLEDGE_BASE_ID"])

	base := template(built.RAGBase.Stack)
	// The knowledge base: Retrieve and RetrieveAndGenerate on exactly its ARN,
	// in one statement, and nowhere else.
	kb := 0
	for id, p := range byType(base, "AWS::IAM::Role") {
		for _, pol := range p["Policies"].([]any) {
			for _, raw := range pol.(map[string]any)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				st := raw.(map[string]any)
				if !slices.ContainsFunc(strs(st["Action"]), func(a string) bool { return strings.HasPrefix(a, "bedrock:Retrieve") }) {
					continue
				}
				kb++
				assert.True(t, strings.HasPrefix(id, "AppRole"), "only the app role: %s", id)
				assert.ElementsMatch(t, []string{"bedrock:Retrieve", "bedrock:RetrieveAndGenerate"}, strs(st["Action"]))
				assert.Equal(t, "arn:aws:bedrock:us-east-1:666666666666:knowledge-base/ABCDE12345", st["Resource"])
				assert.Nil(t, st["Condition"])
			}
		}
	}
	assert.Equal(t, 1, kb, "one knowledge-base statement")
	// Browsers on the CORS origins may PUT to presigned upload URLs.
	var documents map[string]any
	for _, p := range byType(base, "AWS::S3::Bucket") {
		if _, ok := p["VersioningConfiguration"]; ok {
			documents = p
		}
	}
	require.NotNil(t, documents)
	assert.Equal(t, map[string]any{"CorsRules": []any{map[string]any{
		"AllowedMethods": []any{"PUT"}, "AllowedOrigins": []any{"https://rag.example.com"},
		"AllowedHeaders": []any{"content-type", "content-md5", "x-amz-*"}, "MaxAge": float64(3000),
	}}}, documents["CorsConfiguration"])

	for _, s := range []awscdk.Stack{built.RAGBase.Stack, built.RAGLambda.Stack} {
		ann := assertions.Annotations_FromStack(s)
		assert.Empty(t, *ann.FindError(jsii.String("*"), assertions.Match_AnyValue()))
		assert.Empty(t, *ann.FindWarning(jsii.String("*"), assertions.Match_AnyValue()))
	}
}

// A customer-managed key, created or imported, encrypts the documents, the
// table, the vectors and the RAG log groups; the two roles may Decrypt and
// GenerateDataKey with it and nothing more; a created key rotates, is
// retained, and admits CloudWatch Logs for the RAG stacks' groups only.
func TestRAGKMS(t *testing.T) {
	data, err := os.ReadFile(example)
	require.NoError(t, err)
	const imported = "arn:aws:kms:us-east-1:666666666666:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	for _, tc := range []struct {
		name, add string
		created   bool
	}{
		{"created", "  createKmsKey: true\n", true},
		{"imported", "  kmsKeyArn: " + imported + "\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			variant := strings.Replace(string(data), "  vectorDimension: 1024\n", "  vectorDimension: 1024\n"+tc.add, 1)
			built := build(t, example, []byte(variant), nil)
			base, lambda := template(built.RAGBase.Stack), template(built.RAGLambda.Stack)

			keys := byType(base, "AWS::KMS::Key")
			var keyRef string
			if tc.created {
				require.Len(t, keys, 1)
				for id, k := range keys {
					keyRef = `{"Fn::GetAtt":["` + id + `","Arn"]}`
					assert.Equal(t, true, k["EnableKeyRotation"])
					assert.Equal(t, "Retain", resources(base)[id].(map[string]any)["DeletionPolicy"])
					pol := string(must(json.Marshal(k["KeyPolicy"])))
					assert.Contains(t, pol, `"Service":"logs.us-east-1.amazonaws.com"`)
					assert.Contains(t, pol, `"kms:EncryptionContext:aws:logs:arn":"arn:aws:logs:us-east-1:666666666666:log-group:RagAgent-*"`)
					assert.Contains(t, pol, `"Service":"indexing.s3vectors.amazonaws.com"`)
				}
			} else {
				assert.Empty(t, keys, "an imported key is not created")
				keyRef = `"` + imported + `"`
			}

			enc := string(must(json.Marshal(only(t, base, "AWS::S3Vectors::VectorBucket")["EncryptionConfiguration"])))
			assert.Equal(t, `{"KmsKeyArn":`+keyRef+`,"SseType":"aws:kms"}`, enc)
			table := only(t, base, "AWS::DynamoDB::Table")["SSESpecification"].(map[string]any)
			assert.Equal(t, "KMS", table["SSEType"])
			assert.Equal(t, keyRef, string(must(json.Marshal(table["KMSMasterKeyId"]))))
			for _, p := range byType(base, "AWS::S3::Bucket") {
				if _, ok := p["VersioningConfiguration"]; !ok {
					assert.Contains(t, string(must(json.Marshal(p))), `"SSEAlgorithm":"AES256"`, "the access-log bucket stays SSE-S3")
					continue
				}
				sse := string(must(json.Marshal(p["BucketEncryption"])))
				assert.Contains(t, sse, `"SSEAlgorithm":"aws:kms"`)
				assert.Contains(t, sse, `"KMSMasterKeyID":`+keyRef)
				assert.Contains(t, sse, `"BucketKeyEnabled":true`)
			}

			// Each role: one key statement, exactly Decrypt and GenerateDataKey on the key.
			for id, role := range byType(base, "AWS::IAM::Role") {
				var kms []map[string]any
				for _, pol := range role["Policies"].([]any) {
					for _, raw := range pol.(map[string]any)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
						st := raw.(map[string]any)
						if strings.Contains(strings.Join(strs(st["Action"]), ","), "kms:") {
							kms = append(kms, st)
						}
					}
				}
				require.Len(t, kms, 1, id)
				assert.ElementsMatch(t, []string{"kms:Decrypt", "kms:GenerateDataKey"}, strs(kms[0]["Action"]), id)
				assert.Equal(t, keyRef, string(must(json.Marshal(kms[0]["Resource"]))), id)
			}
			for id, lg := range byType(lambda, "AWS::Logs::LogGroup") {
				assert.NotNil(t, lg["KmsKeyId"], id)
				if !tc.created {
					assert.Equal(t, imported, lg["KmsKeyId"], id)
				}
			}
			for _, s := range []awscdk.Stack{built.RAGBase.Stack, built.RAGLambda.Stack} {
				ann := assertions.Annotations_FromStack(s)
				assert.Empty(t, *ann.FindError(jsii.String("*"), assertions.Match_AnyValue()), *s.StackName())
				assert.Empty(t, *ann.FindWarning(jsii.String("*"), assertions.Match_AnyValue()), *s.StackName())
			}
		})
	}
}
