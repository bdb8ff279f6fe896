package stacks

import (
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigateway"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecr"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awswafv2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/acme/genai-estate/config"
)

// RAGLambdaStackProps configures the RAG agent's function and API.
type RAGLambdaStackProps struct {
	awscdk.StackProps
	Config *config.Config
	// Base provides the bucket, index, table and role, as Go values.
	Base *RAGBaseStack
}

// RAGLambdaStack is the container-image Lambda behind a REST API.
type RAGLambdaStack struct {
	awscdk.Stack
	Function awslambda.DockerImageFunction
	API      awsapigateway.RestApi
	// Routes maps "METHOD /path" to its method, for every seed route.
	Routes map[string]awsapigateway.Method
}

// Route is one API route of the seed's REST API; JSON routes take a JSON
// object body, which the request validator checks.
type Route struct {
	Method, Path string
	JSON         bool
}

// Routes lists the seed's routes. Every one is served by the same function
// through the same streaming integration: the Lambda Web Adapter runs in
// response_stream mode, which streams every response, and API Gateway answers
// 502 to a streamed response on a buffered integration.
var Routes = []Route{
	{"GET", "/health", false}, {"POST", "/query", true}, {"POST", "/chat", true}, {"POST", "/chat/stream", true},
	{"GET", "/documents", false}, {"POST", "/documents/ingest", true}, {"POST", "/documents/upload", true},
	{"GET", "/documents/{id}", false}, {"DELETE", "/documents/{id}", false}, {"GET", "/tools", false},
}

// The Lambda Web Adapter's settings, which the stack sets and the image's web
// server must match.
const (
	AdapterPort      = "8080"
	AdapterReadiness = "/health"
	AdapterInvoke    = "response_stream"
)

// NewRAGLambdaStack creates the stack.
func NewRAGLambdaStack(scope constructs.Construct, id string, props *RAGLambdaStackProps) *RAGLambdaStack {
	c, r, base := props.Config, props.Config.RAG, props.Base
	sp := props.StackProps
	sp.Env = &awscdk.Environment{Account: jsii.String(r.Account), Region: jsii.String(r.Region)}
	if sp.Description == nil {
		sp.Description = jsii.String("RAG agent: container-image Lambda behind API Gateway")
	}
	s := &RAGLambdaStack{Stack: awscdk.NewStack(scope, jsii.String(id), &sp), Routes: map[string]awsapigateway.Method{}}
	s.AddStackDependency(base.Stack, jsii.String("the function uses the base stack's role and resources"))

	var code awslambda.DockerImageCode
	if r.Image.Repository != "" {
		repo := awsecr.Repository_FromRepositoryArn(s.Stack, jsii.String("Repository"), jsii.String(r.Image.Repository))
		code = awslambda.DockerImageCode_FromEcr(repo, &awslambda.EcrImageCodeProps{TagOrDigest: jsii.String(r.Image.Tag)})
	} else {
		code = awslambda.DockerImageCode_FromImageAsset(jsii.String(filepath.Join(filepath.Dir(c.File), r.Image.Directory)), nil)
	}
	logs := s.logGroup("FunctionLogs", r.Lambda.LogRetentionDays, base.Key)
	env := map[string]*string{
		"S3_BUCKET_NAME":               base.Documents.BucketName(),
		"S3_DOCUMENTS_PREFIX":          jsii.String(r.DocumentsPrefix),
		"S3_VECTOR_BUCKET_ARN":         base.VectorBucket.AttrVectorBucketArn(),
		"S3_VECTOR_INDEX_NAME":         jsii.String(VectorIndexName(r)),
		"DYNAMODB_TABLE_NAME":          base.Table.TableName(),
		"BEDROCK_LLM_MODEL_ID":         jsii.String(r.LLMModel),
		"BEDROCK_EMBEDDING_MODEL_ID":   jsii.String(r.EmbeddingModel),
		"VECTOR_DIMENSION":             jsii.String(strconv.Itoa(r.VectorDimension)),
		"VECTOR_TOP_K":                 jsii.String(strconv.Itoa(r.TopK)),
		"SIMILARITY_THRESHOLD":         jsii.String(strconv.FormatFloat(r.SimilarityThreshold, 'f', -1, 64)),
		"AWS_LWA_INVOKE_MODE":          jsii.String(AdapterInvoke),
		"AWS_LWA_PORT":                 jsii.String(AdapterPort),
		"AWS_LWA_READINESS_CHECK_PATH": jsii.String(AdapterReadiness),
		// The adapter's HTTP runtime would otherwise prefix REST API paths
		// with the stage (/v1/chat); the app's routes have none.
		"AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH": jsii.String("true"),
	}
	if r.KnowledgeBaseID != "" {
		env["BEDROCK_KNOWLEDGE_BASE_ID"] = jsii.String(r.KnowledgeBaseID)
	}
	s.Function = awslambda.NewDockerImageFunction(s.Stack, jsii.String("Function"), &awslambda.DockerImageFunctionProps{
		Code:        code,
		Role:        base.AppRole,
		MemorySize:  jsii.Number(float64(r.Lambda.MemoryMB)),
		Timeout:     awscdk.Duration_Seconds(jsii.Number(float64(r.Lambda.TimeoutSeconds))),
		LogGroup:    logs,
		Environment: &env,
		Description: jsii.String("RAG agent API (FastAPI in a container image)"),
	})
	// The role lives in the base stack; its logging grant lives here, so the
	// base stack never refers back to this one.
	awsiam.NewPolicy(s.Stack, jsii.String("FunctionLogging"), &awsiam.PolicyProps{
		Roles: &[]awsiam.IRole{base.AppRole},
		Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions: jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"), Resources: jsii.Strings(*logs.LogGroupArn()),
		})},
	})

	apiLogs := s.logGroup("ApiAccessLogs", r.Lambda.LogRetentionDays, base.Key)
	opts := &awsapigateway.MethodOptions{AuthorizationType: awsapigateway.AuthorizationType_IAM}
	if r.API.Auth == "cognito" {
		pool := awscognito.UserPool_FromUserPoolArn(s.Stack, jsii.String("UserPool"), jsii.String(r.API.UserPoolArn))
		opts = &awsapigateway.MethodOptions{
			AuthorizationType: awsapigateway.AuthorizationType_COGNITO,
			Authorizer:        awsapigateway.NewCognitoUserPoolsAuthorizer(s.Stack, jsii.String("Authorizer"), &awsapigateway.CognitoUserPoolsAuthorizerProps{CognitoUserPools: &[]awscognito.IUserPool{pool}}),
		}
	}
	apiProps := &awsapigateway.RestApiProps{
		RestApiName:           jsii.String(r.Name + "-Api"),
		Description:           jsii.String("RAG agent REST API"),
		EndpointConfiguration: &awsapigateway.EndpointConfiguration{Types: &[]awsapigateway.EndpointType{awsapigateway.EndpointType_REGIONAL}},
		CloudWatchRole:        jsii.Bool(true),
		DefaultMethodOptions:  opts,
		DeployOptions: &awsapigateway.StageOptions{
			StageName:            jsii.String("v1"),
			ThrottlingRateLimit:  jsii.Number(r.API.RateLimit),
			ThrottlingBurstLimit: jsii.Number(float64(r.API.BurstLimit)),
			AccessLogDestination: awsapigateway.NewLogGroupLogDestination(apiLogs),
			AccessLogFormat:      awsapigateway.AccessLogFormat_JsonWithStandardFields(nil),
			LoggingLevel:         awsapigateway.MethodLoggingLevel_ERROR,
			TracingEnabled:       jsii.Bool(true),
		},
	}
	if len(r.API.CorsOrigins) > 0 {
		apiProps.DefaultCorsPreflightOptions = &awsapigateway.CorsOptions{
			AllowOrigins: jsii.Strings(r.API.CorsOrigins...),
			AllowMethods: jsii.Strings("GET", "POST", "DELETE", "OPTIONS"),
		}
	}
	s.API = awsapigateway.NewRestApi(s.Stack, jsii.String("Api"), apiProps)
	validator := s.API.AddRequestValidator(jsii.String("Validator"), &awsapigateway.RequestValidatorOptions{ValidateRequestBody: jsii.Bool(true), ValidateRequestParameters: jsii.Bool(true)})
	// The app validates fields; the gateway rejects what is not a JSON object
	// before it costs an invocation.
	object := s.API.AddModel(jsii.String("JsonObject"), &awsapigateway.ModelOptions{
		ContentType: jsii.String("application/json"),
		Description: jsii.String("A JSON object body"),
		Schema:      &awsapigateway.JsonSchema{Schema: awsapigateway.JsonSchemaVersion_DRAFT4, Title: jsii.String("JsonObject"), Type: awsapigateway.JsonSchemaType_OBJECT},
	})

	// One integration for every route: streamed, and allowed to wait as long
	// as the function may run (a streaming integration takes up to 15 minutes).
	integration := awsapigateway.NewLambdaIntegration(s.Function, &awsapigateway.LambdaIntegrationOptions{
		ResponseTransferMode: awsapigateway.ResponseTransferMode_STREAM,
		Timeout:              awscdk.Duration_Seconds(jsii.Number(float64(r.API.TimeoutSeconds))),
	})
	resources := map[string]awsapigateway.IResource{"": s.API.Root()}
	for _, rt := range Routes {
		opts := &awsapigateway.MethodOptions{RequestValidator: validator}
		if rt.JSON {
			opts.RequestModels = &map[string]awsapigateway.IModel{"application/json": object}
		}
		s.Routes[rt.Method+" "+rt.Path] = s.resource(resources, rt.Path).AddMethod(jsii.String(rt.Method), integration, opts)
	}

	// Managed common and bad-input rules in front of the API. The common
	// set's 8 KB body rule only counts: long prompts are allowed up to
	// maxBodyKb by a rule of our own, and documents go to S3 directly.
	common := managedRule("AWSManagedRulesCommonRuleSet", 0)
	common.Statement.(*awswafv2.CfnWebACL_StatementProperty).ManagedRuleGroupStatement.(*awswafv2.CfnWebACL_ManagedRuleGroupStatementProperty).RuleActionOverrides = &[]any{
		&awswafv2.CfnWebACL_RuleActionOverrideProperty{Name: jsii.String(CommonBodyRule), ActionToUse: &awswafv2.CfnWebACL_RuleActionProperty{Count: &awswafv2.CfnWebACL_CountActionProperty{}}},
	}
	acl := awswafv2.NewCfnWebACL(s.Stack, jsii.String("WebAcl"), &awswafv2.CfnWebACLProps{
		Scope:            jsii.String("REGIONAL"),
		DefaultAction:    &awswafv2.CfnWebACL_DefaultActionProperty{Allow: &awswafv2.CfnWebACL_AllowActionProperty{}},
		VisibilityConfig: visibility(r.Name + "Api"),
		Rules:            &[]any{common, managedRule("AWSManagedRulesKnownBadInputsRuleSet", 1), bodySizeRule(r.API.MaxBodyKB, 2)},
		// WAF reads this much of a body; anything longer is oversize, which
		// the size rule blocks.
		AssociationConfig: &awswafv2.CfnWebACL_AssociationConfigProperty{RequestBody: map[string]any{
			"API_GATEWAY": &awswafv2.CfnWebACL_RequestBodyAssociatedResourceTypeConfigProperty{DefaultSizeInspectionLimit: jsii.String(fmt.Sprintf("KB_%d", r.API.MaxBodyKB))},
		}},
	})
	awswafv2.NewCfnWebACLAssociation(s.Stack, jsii.String("WebAclAssociation"), &awswafv2.CfnWebACLAssociationProps{
		ResourceArn: s.API.DeploymentStage().StageArn(), WebAclArn: acl.AttrArn(),
	})

	s.suppressions(r.API.Auth)
	awscdk.NewCfnOutput(s.Stack, jsii.String("ApiUrl"), &awscdk.CfnOutputProps{Value: s.API.Url()})
	return s
}

// resource returns the API resource of a path, creating its parents once.
func (s *RAGLambdaStack) resource(known map[string]awsapigateway.IResource, path string) awsapigateway.IResource {
	if r, ok := known[path]; ok {
		return r
	}
	parent, part := filepath.Dir(path), filepath.Base(path)
	if parent == "/" {
		parent = ""
	}
	r := s.resource(known, parent).AddResource(jsii.String(part), nil)
	known[path] = r
	return r
}

// logGroup is a retained log group, encrypted with the base stack's key when
// there is one (the key policy admits CloudWatch Logs for these groups).
func (s *RAGLambdaStack) logGroup(id string, days int, key awskms.IKey) awslogs.LogGroup {
	lg := retainedLogGroup(s.Stack, id, days)
	if key != nil {
		lg.Node().DefaultChild().(awslogs.CfnLogGroup).SetKmsKeyId(key.KeyArn())
	}
	return lg
}

// retainedLogGroup is a log group kept on delete, with an exact retention in
// days (the L2 takes only an enum).
func retainedLogGroup(scope constructs.Construct, id string, days int) awslogs.LogGroup {
	lg := awslogs.NewLogGroup(scope, jsii.String(id), &awslogs.LogGroupProps{RemovalPolicy: awscdk.RemovalPolicy_RETAIN})
	lg.Node().DefaultChild().(awscdk.CfnResource).AddPropertyOverride(jsii.String("RetentionInDays"), days)
	return lg
}

func visibility(name string) *awswafv2.CfnWebACL_VisibilityConfigProperty {
	return &awswafv2.CfnWebACL_VisibilityConfigProperty{CloudWatchMetricsEnabled: jsii.Bool(true), SampledRequestsEnabled: jsii.Bool(true), MetricName: jsii.String(name)}
}

// CommonBodyRule is the common rule set's rule that blocks bodies over 8 KB.
const CommonBodyRule = "SizeRestrictions_BODY"

// BodySizeRule is the web ACL's own body limit.
const BodySizeRule = "BodySizeLimit"

// bodySizeRule blocks bodies over kb KB, including those past WAF's
// inspection limit (oversize handling MATCH).
func bodySizeRule(kb, priority int) *awswafv2.CfnWebACL_RuleProperty {
	return &awswafv2.CfnWebACL_RuleProperty{
		Name: jsii.String(BodySizeRule), Priority: jsii.Number(float64(priority)),
		Action: &awswafv2.CfnWebACL_RuleActionProperty{Block: &awswafv2.CfnWebACL_BlockActionProperty{}},
		Statement: &awswafv2.CfnWebACL_StatementProperty{SizeConstraintStatement: &awswafv2.CfnWebACL_SizeConstraintStatementProperty{
			FieldToMatch:        &awswafv2.CfnWebACL_FieldToMatchProperty{Body: &awswafv2.CfnWebACL_BodyProperty{OversizeHandling: jsii.String("MATCH")}},
			ComparisonOperator:  jsii.String("GT"),
			Size:                jsii.Number(float64(kb * 1024)),
			TextTransformations: &[]any{&awswafv2.CfnWebACL_TextTransformationProperty{Priority: jsii.Number(0), Type: jsii.String("NONE")}},
		}},
		VisibilityConfig: visibility(BodySizeRule),
	}
}

func managedRule(name string, priority int) *awswafv2.CfnWebACL_RuleProperty {
	return &awswafv2.CfnWebACL_RuleProperty{
		Name: jsii.String(name), Priority: jsii.Number(float64(priority)),
		OverrideAction:   &awswafv2.CfnWebACL_OverrideActionProperty{None: map[string]any{}},
		Statement:        &awswafv2.CfnWebACL_StatementProperty{ManagedRuleGroupStatement: &awswafv2.CfnWebACL_ManagedRuleGroupStatementProperty{VendorName: jsii.String("AWS"), Name: jsii.String(name)}},
		VisibilityConfig: visibility(name),
	}
}

// suppressions carry the two findings that are decisions, not defects.
func (s *RAGLambdaStack) suppressions(auth string) {
	if auth != "cognito" {
		cdknag.NagSuppressions_AddResourceSuppressions(s.API, &[]*cdknag.NagPackSuppression{{
			Id:     jsii.String("AwsSolutions-COG4"),
			Reason: jsii.String("rag.api.auth is iam: every method requires SigV4-signed IAM authorization instead of a Cognito authorizer (set auth: cognito to use one)."),
		}}, jsii.Bool(true))
	}
	cdknag.NagSuppressions_AddResourceSuppressions(s.API, &[]*cdknag.NagPackSuppression{{
		Id:        jsii.String("AwsSolutions-IAM4"),
		Reason:    jsii.String("API Gateway's account-level logging role uses the AWS managed policy AWS documents for exactly this purpose."),
		AppliesTo: &[]any{jsii.String("Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs")},
	}}, jsii.Bool(true))
}
