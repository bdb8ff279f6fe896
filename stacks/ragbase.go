package stacks

import (
	"crypto/sha256"
	"fmt"
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3vectors"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/arn"
	"github.com/acme/genai-estate/internal/catalog"
	"github.com/acme/genai-estate/internal/estate"
	"github.com/acme/genai-estate/internal/iampolicy"
)

// RAGBaseStackProps configures the RAG agent's base stack.
type RAGBaseStackProps struct {
	awscdk.StackProps
	Config *config.Config
}

// RAGBaseStack holds the RAG agent's state and roles. Its fields reach the
// Lambda stack through Go props, never through hand-written export names.
type RAGBaseStack struct {
	awscdk.Stack
	Documents    awss3.Bucket
	VectorBucket awss3vectors.CfnVectorBucket
	Index        awss3vectors.CfnIndex
	Table        awsdynamodb.Table
	AppRole      awsiam.Role
	// KnowledgeBaseRole is nil unless the config enables a knowledge base.
	KnowledgeBaseRole awsiam.Role
	// Key is the customer-managed key of the RAG data and log groups, nil
	// when AWS-managed encryption is used.
	Key awskms.IKey

	prefix, partition string
}

// IndexNamePrefix starts the vector index's name within its vector bucket.
const IndexNamePrefix = "chunks"

// VectorIndexName names the index after every property whose change replaces
// it (dimension, metric, non-filterable keys; the data type is fixed), so a
// replacement creates an index of a new name beside the old one instead of
// failing on a name that is still taken. The same config gives the same name.
func VectorIndexName(r *config.RAG) string {
	h := sha256.Sum256([]byte(strings.Join(r.NonFilterableMetadataKeys, "\n")))
	return fmt.Sprintf("%s-%d-%s-%x", IndexNamePrefix, r.VectorDimension, r.DistanceMetric, h[:4])
}

// KnowledgeBaseArn is the ARN of the configured knowledge base, or "".
func KnowledgeBaseArn(partition string, r *config.RAG) string {
	if r.KnowledgeBaseID == "" {
		return ""
	}
	return arn.Bedrock(partition, r.Region, r.Account, "knowledge-base", r.KnowledgeBaseID)
}

// GSI1 indexes documents by status: STATUS#<status> / <created_at>.
const GSI1 = "GSI1"

// NewRAGBaseStack creates the stack.
func NewRAGBaseStack(scope constructs.Construct, id string, props *RAGBaseStackProps) *RAGBaseStack {
	r := props.Config.RAG
	sp := props.StackProps
	sp.Env = &awscdk.Environment{Account: jsii.String(r.Account), Region: jsii.String(r.Region)}
	if sp.Description == nil {
		sp.Description = jsii.String("RAG agent base: documents, vectors, metadata and roles")
	}
	part, _ := catalog.Partition(r.Region)
	s := &RAGBaseStack{Stack: awscdk.NewStack(scope, jsii.String(id), &sp), prefix: r.DocumentsPrefix, partition: part}
	retain := awscdk.RemovalPolicy_RETAIN
	s.Key = s.key(r)
	bucketEnc, tableEnc := awss3.BucketEncryption_S3_MANAGED, awsdynamodb.TableEncryption_AWS_MANAGED
	var vectorEnc *awss3vectors.CfnVectorBucket_EncryptionConfigurationProperty
	var bucketKey *bool
	if s.Key != nil {
		bucketEnc, tableEnc, bucketKey = awss3.BucketEncryption_KMS, awsdynamodb.TableEncryption_CUSTOMER_MANAGED, jsii.Bool(true)
		vectorEnc = &awss3vectors.CfnVectorBucket_EncryptionConfigurationProperty{SseType: jsii.String("aws:kms"), KmsKeyArn: s.Key.KeyArn()}
	}

	logs := awss3.NewBucket(s.Stack, jsii.String("AccessLogs"), &awss3.BucketProps{
		Encryption: awss3.BucketEncryption_S3_MANAGED, BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL: jsii.Bool(true), RemovalPolicy: retain, ObjectOwnership: awss3.ObjectOwnership_OBJECT_WRITER,
		LifecycleRules: &[]*awss3.LifecycleRule{{Expiration: awscdk.Duration_Days(jsii.Number(365))}},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(logs, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-S1"), Reason: jsii.String("This is the access-log bucket of the documents bucket; logging it into itself would loop."),
	}}, nil)
	// The access-log bucket stays SSE-S3: S3 server access logging cannot
	// write to a bucket encrypted with a KMS key.
	s.Documents = awss3.NewBucket(s.Stack, jsii.String("Documents"), &awss3.BucketProps{
		Encryption: bucketEnc, EncryptionKey: s.Key, BucketKeyEnabled: bucketKey, BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL: jsii.Bool(true), Versioned: jsii.Bool(true), RemovalPolicy: retain,
		ServerAccessLogsBucket: logs, ServerAccessLogsPrefix: jsii.String("documents/"),
		LifecycleRules: &[]*awss3.LifecycleRule{{NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(float64(r.NoncurrentVersionDays)))}},
		Cors:           uploadCors(r.API.CorsOrigins),
	})

	s.VectorBucket = awss3vectors.NewCfnVectorBucket(s.Stack, jsii.String("Vectors"), &awss3vectors.CfnVectorBucketProps{EncryptionConfiguration: vectorEnc})
	s.VectorBucket.ApplyRemovalPolicy(retain, nil)
	s.Index = awss3vectors.NewCfnIndex(s.Stack, jsii.String("Index"), &awss3vectors.CfnIndexProps{
		VectorBucketArn: s.VectorBucket.AttrVectorBucketArn(),
		IndexName:       jsii.String(VectorIndexName(r)),
		DataType:        jsii.String("float32"),
		Dimension:       jsii.Number(float64(r.VectorDimension)),
		DistanceMetric:  jsii.String(r.DistanceMetric),
		MetadataConfiguration: &awss3vectors.CfnIndex_MetadataConfigurationProperty{
			NonFilterableMetadataKeys: jsii.Strings(r.NonFilterableMetadataKeys...),
		},
	})
	s.Index.ApplyRemovalPolicy(retain, nil)

	table := &awsdynamodb.TableProps{
		PartitionKey:                     &awsdynamodb.Attribute{Name: jsii.String("PK"), Type: awsdynamodb.AttributeType_STRING},
		SortKey:                          &awsdynamodb.Attribute{Name: jsii.String("SK"), Type: awsdynamodb.AttributeType_STRING},
		BillingMode:                      awsdynamodb.BillingMode_PAY_PER_REQUEST,
		Encryption:                       tableEnc,
		EncryptionKey:                    s.Key,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: jsii.Bool(true)},
		RemovalPolicy:                    retain,
	}
	if r.ConversationTTLAttribute != "" {
		table.TimeToLiveAttribute = jsii.String(r.ConversationTTLAttribute)
	}
	s.Table = awsdynamodb.NewTable(s.Stack, jsii.String("Metadata"), table)
	s.Table.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{
		IndexName:    jsii.String(GSI1),
		PartitionKey: &awsdynamodb.Attribute{Name: jsii.String("GSI1PK"), Type: awsdynamodb.AttributeType_STRING},
		SortKey:      &awsdynamodb.Attribute{Name: jsii.String("GSI1SK"), Type: awsdynamodb.AttributeType_STRING},
	})

	s.AppRole = awsiam.NewRole(s.Stack, jsii.String("AppRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("RAG agent application role: its documents, vectors, table and models only"),
		InlinePolicies: &map[string]awsiam.PolicyDocument{"App": awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{
			Statements: s.appStatements(props.Config),
		})},
	})
	s.suppressObjectWildcard(s.AppRole)

	if r.KnowledgeBase {
		s.KnowledgeBaseRole = awsiam.NewRole(s.Stack, jsii.String("KnowledgeBaseRole"), &awsiam.RoleProps{
			AssumedBy: awsiam.NewServicePrincipal(jsii.String("bedrock.amazonaws.com"), &awsiam.ServicePrincipalOpts{
				Conditions: &map[string]any{
					"StringEquals": map[string]any{"aws:SourceAccount": r.Account},
					"ArnLike":      map[string]any{"aws:SourceArn": arn.Bedrock(s.partition, r.Region, r.Account, "knowledge-base", "*")},
				},
			}),
			Description: jsii.String("Role of the RAG agent's Bedrock knowledge base"),
			InlinePolicies: &map[string]awsiam.PolicyDocument{"KnowledgeBase": awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{
				Statements: s.knowledgeBaseStatements(props.Config),
			})},
		})
		s.suppressObjectWildcard(s.KnowledgeBaseRole)
	}
	return s
}

// KeyActions are what a role needs of the key to read (Decrypt) and write
// (GenerateDataKey) the encrypted objects, items and vectors.
var KeyActions = []string{"kms:Decrypt", "kms:GenerateDataKey"}

// key returns the imported or created key, or nil. A created key's policy
// admits CloudWatch Logs for the RAG stacks' log groups and S3 Vectors for
// indexing; the roles get their use of it from their own policies.
func (s *RAGBaseStack) key(r *config.RAG) awskms.IKey {
	switch {
	case r.KMSKeyArn != "":
		return awskms.Key_FromKeyArn(s.Stack, jsii.String("Key"), jsii.String(r.KMSKeyArn))
	case !r.CreateKMSKey:
		return nil
	}
	key := awskms.NewKey(s.Stack, jsii.String("Key"), &awskms.KeyProps{
		Description:       jsii.String(r.Name + " RAG data and logs"),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})
	// CloudWatch-generated log group names start with the stack's name,
	// and both RAG stacks are named <rag.name>-<layer>.
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchLogsOfTheRAGStacks"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("logs."+r.Region+".amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"ArnLike": map[string]any{
			"kms:EncryptionContext:aws:logs:arn": arn.Regional(s.partition, "logs", r.Region, r.Account, "log-group:"+r.Name+"-*"),
		}},
	}), nil)
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("S3VectorsIndexing"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("indexing.s3vectors.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": r.Account}},
	}), nil)
	return key
}

func (s *RAGBaseStack) objects() *string {
	return s.Documents.ArnForObjects(jsii.String(s.prefix + "*"))
}

func statement(actions []string, resources ...*string) awsiam.PolicyStatement {
	return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Actions: jsii.Strings(actions...), Resources: &resources})
}

// appStatements grant the app exactly its own resources: objects under the
// documents prefix, the one index, the table and its GSI, and its two models.
func (s *RAGBaseStack) appStatements(c *config.Config) *[]awsiam.PolicyStatement {
	r := c.RAG
	st := []awsiam.PolicyStatement{
		statement([]string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}, s.objects()),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Actions: jsii.Strings("s3:ListBucket"), Resources: &[]*string{s.Documents.BucketArn()},
			Conditions: &map[string]any{"StringLike": map[string]any{"s3:prefix": r.DocumentsPrefix + "*"}}}),
		statement([]string{"s3vectors:PutVectors", "s3vectors:GetVectors", "s3vectors:QueryVectors", "s3vectors:DeleteVectors", "s3vectors:ListVectors"}, s.Index.AttrIndexArn()),
		statement([]string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem"},
			s.Table.TableArn(), jsii.String(*s.Table.TableArn()+"/index/"+GSI1)),
	}
	st = s.withKey(st)
	if kb := KnowledgeBaseArn(s.partition, r); kb != "" {
		// RetrieveAndGenerate then invokes llmModel as the caller: the model
		// grants below already cover it.
		st = append(st, statement([]string{"bedrock:Retrieve", "bedrock:RetrieveAndGenerate"}, jsii.String(kb)))
	}
	return s.withModels(c, st, r.LLMModel, r.EmbeddingModel)
}

// uploadCors lets browsers on the API's CORS origins PUT to the presigned
// upload URLs the app hands out; without origins, no CORS.
func uploadCors(origins []string) *[]*awss3.CorsRule {
	if len(origins) == 0 {
		return nil
	}
	return &[]*awss3.CorsRule{{
		AllowedMethods: &[]awss3.HttpMethods{awss3.HttpMethods_PUT},
		AllowedOrigins: jsii.Strings(origins...),
		AllowedHeaders: jsii.Strings("content-type", "content-md5", "x-amz-*"),
		MaxAge:         jsii.Number(3000),
	}}
}

func (s *RAGBaseStack) knowledgeBaseStatements(c *config.Config) *[]awsiam.PolicyStatement {
	st := []awsiam.PolicyStatement{
		statement([]string{"s3:GetObject"}, s.objects()),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Actions: jsii.Strings("s3:ListBucket"), Resources: &[]*string{s.Documents.BucketArn()},
			Conditions: &map[string]any{"StringLike": map[string]any{"s3:prefix": c.RAG.DocumentsPrefix + "*"}}}),
		statement([]string{"s3vectors:PutVectors", "s3vectors:GetVectors", "s3vectors:QueryVectors", "s3vectors:DeleteVectors", "s3vectors:ListVectors", "s3vectors:GetIndex"}, s.Index.AttrIndexArn()),
	}
	return s.withModels(c, s.withKey(st), c.RAG.EmbeddingModel)
}

// withKey lets a role use the customer-managed key, if any, for the objects,
// items and vectors it reads and writes.
func (s *RAGBaseStack) withKey(st []awsiam.PolicyStatement) []awsiam.PolicyStatement {
	if s.Key == nil {
		return st
	}
	return append(st, statement(KeyActions, s.Key.KeyArn()))
}

// withModels appends the Bedrock grants, built by the estate's grant code.
func (s *RAGBaseStack) withModels(c *config.Config, st []awsiam.PolicyStatement, models ...string) *[]awsiam.PolicyStatement {
	for _, b := range estate.InvokeStatements(c, s.partition, c.RAG.Account, c.RAG.Region, models) {
		doc := iampolicy.New(b).Value()
		st = append(st, awsiam.PolicyStatement_FromJson(doc["Statement"].([]any)[0]))
	}
	return &st
}

// suppressObjectWildcard documents the one wildcard IAM5 sees: the object
// ARNs under the documents prefix.
func (s *RAGBaseStack) suppressObjectWildcard(role awsiam.Role) {
	cdknag.NagSuppressions_AddResourceSuppressions(role, &[]*cdknag.NagPackSuppression{{
		Id:        jsii.String("AwsSolutions-IAM5"),
		Reason:    jsii.String("Objects are addressed by key: the grant covers only keys under the configured documents prefix of the one documents bucket."),
		AppliesTo: &[]any{&cdknag.RegexAppliesTo{Regex: jsii.String(`/^Resource::<Documents[A-Z0-9]+\.Arn>\/` + strings.ReplaceAll(regexp.QuoteMeta(s.prefix), "/", `\/`) + `\*$/`)}},
	}}, jsii.Bool(true))
}
