package governance

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/customresources"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	cdknag "github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/arn"
	"github.com/acme/genai-estate/internal/estate"
)

// InvocationLoggingProps configures InvocationLogging.
type InvocationLoggingProps struct {
	Logging                    *config.Logging
	Partition, Account, Region string
	// LogGroupName names the log group (estate.InvocationLogGroup), and
	// RoleName the custom resource's role (estate.LoggingConfiguratorRole).
	LogGroupName, RoleName string
}

// InvocationLogging is model invocation logging in one account and region:
// the destinations, encrypted with one customer managed key and retained,
// and the custom resource that points Bedrock's logging configuration at
// them (there is no CloudFormation resource for it).
type InvocationLogging struct {
	constructs.Construct
	Key      awskms.Key
	LogGroup awslogs.CfnLogGroup // nil without cloudWatch
	Role     awsiam.Role         // Bedrock's role for CloudWatch Logs; nil without cloudWatch
	Bucket   awss3.Bucket        // nil without s3
	Config   customresources.AwsCustomResource
	// Call is the loggingConfig the custom resource puts, as passed to CDK.
	Call map[string]any
}

// NewInvocationLogging creates it. The resources follow AWS's setup for
// model invocation logging: Bedrock's role and bucket policy are limited by
// aws:SourceAccount and aws:SourceArn to Bedrock in this account and region.
func NewInvocationLogging(scope constructs.Construct, id string, props *InvocationLoggingProps) *InvocationLogging {
	l, part, acct, region := props.Logging, props.Partition, props.Account, props.Region
	this := &InvocationLogging{Construct: constructs.NewConstruct(scope, jsii.String(id))}
	source := &map[string]any{
		"StringEquals": map[string]any{"aws:SourceAccount": acct},
		"ArnLike":      map[string]any{"aws:SourceArn": arn.Regional(part, "bedrock", region, acct, "*")},
	}
	bedrock := awsiam.NewServicePrincipal(jsii.String("bedrock.amazonaws.com"), nil)
	// The logs hold prompts and completions: a customer managed key, kept
	// after the stack like the data it encrypts.
	this.Key = awskms.NewKey(this.Construct, jsii.String("Key"), &awskms.KeyProps{
		Description:       jsii.String("Bedrock model invocation logs in " + region),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})
	cfg := map[string]any{
		"textDataDeliveryEnabled":      l.TextData,
		"imageDataDeliveryEnabled":     l.ImageData,
		"embeddingDataDeliveryEnabled": l.EmbeddingData,
		"videoDataDeliveryEnabled":     l.VideoData,
	}
	var deps []constructs.IDependable
	var s3cfg map[string]any
	if l.S3 != nil {
		access := awss3.NewBucket(this.Construct, jsii.String("AccessLogs"), &awss3.BucketProps{
			Encryption: awss3.BucketEncryption_S3_MANAGED, BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
			EnforceSSL: jsii.Bool(true), RemovalPolicy: awscdk.RemovalPolicy_RETAIN, ObjectOwnership: awss3.ObjectOwnership_OBJECT_WRITER,
			LifecycleRules: &[]*awss3.LifecycleRule{{Expiration: awscdk.Duration_Days(jsii.Number(float64(l.S3.ExpirationDays)))}},
		})
		cdknag.NagSuppressions_AddResourceSuppressions(access, &[]*cdknag.NagPackSuppression{{
			Id: jsii.String("AwsSolutions-S1"), Reason: jsii.String("This is the access-log bucket of the invocation-log bucket; logging it into itself would loop."),
		}}, nil)
		// S3 server access logging cannot write to a KMS-encrypted bucket,
		// so the access-log bucket stays SSE-S3. ACLs are disabled on the
		// log bucket: AWS requires it for Bedrock's bucket policy to apply.
		this.Bucket = awss3.NewBucket(this.Construct, jsii.String("Bucket"), &awss3.BucketProps{
			Encryption: awss3.BucketEncryption_KMS, EncryptionKey: this.Key, BucketKeyEnabled: jsii.Bool(true),
			BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(), EnforceSSL: jsii.Bool(true), Versioned: jsii.Bool(true),
			ObjectOwnership: awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED, RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
			ServerAccessLogsBucket: access, ServerAccessLogsPrefix: jsii.String("invocation-logs/"),
			LifecycleRules: &[]*awss3.LifecycleRule{{
				Expiration:                  awscdk.Duration_Days(jsii.Number(float64(l.S3.ExpirationDays))),
				NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(1)),
			}},
		})
		this.Bucket.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("AmazonBedrockLogsWrite"),
			Principals: &[]awsiam.IPrincipal{bedrock},
			Actions:    jsii.Strings("s3:PutObject"),
			Resources:  &[]*string{this.Bucket.ArnForObjects(jsii.String(estate.InvocationLogPrefix + "/AWSLogs/" + acct + "/BedrockModelInvocationLogs/*"))},
			Conditions: source,
		}))
		this.Key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("BedrockWritesInvocationLogObjects"),
			Principals: &[]awsiam.IPrincipal{bedrock},
			Actions:    jsii.Strings("kms:GenerateDataKey"),
			Resources:  jsii.Strings("*"),
			Conditions: source,
		}), nil)
		s3cfg = map[string]any{"bucketName": this.Bucket.BucketName(), "keyPrefix": estate.InvocationLogPrefix}
		cfg["s3Config"] = s3cfg
		deps = append(deps, this.Bucket.Policy())
	}
	if l.CloudWatch != nil {
		groupArn := arn.Regional(part, "logs", region, acct, "log-group:"+props.LogGroupName)
		this.Key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("CloudWatchLogsEncryptsInvocationLogs"),
			Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("logs."+region+".amazonaws.com"), nil)},
			Actions:    jsii.Strings("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"),
			Resources:  jsii.Strings("*"),
			Conditions: &map[string]any{"ArnEquals": map[string]any{"kms:EncryptionContext:aws:logs:arn": groupArn}},
		}), nil)
		this.LogGroup = awslogs.NewCfnLogGroup(this.Construct, jsii.String("LogGroup"), &awslogs.CfnLogGroupProps{
			LogGroupName:    jsii.String(props.LogGroupName),
			RetentionInDays: jsii.Number(float64(l.CloudWatch.RetentionDays)),
			KmsKeyId:        this.Key.KeyArn(),
		})
		this.LogGroup.ApplyRemovalPolicy(awscdk.RemovalPolicy_RETAIN, nil)
		// The key policy must admit CloudWatch Logs before the group uses the key.
		this.LogGroup.Node().AddDependency(this.Key)
		this.Role = awsiam.NewRole(this.Construct, jsii.String("Role"), &awsiam.RoleProps{
			Description: jsii.String("Bedrock writes model invocation logs of " + region + " to " + props.LogGroupName),
			AssumedBy:   awsiam.NewPrincipalWithConditions(bedrock, source),
			InlinePolicies: &map[string]awsiam.PolicyDocument{"WriteInvocationLogs": awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{
				Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
					Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
					Resources: jsii.Strings(groupArn + ":log-stream:" + estate.InvocationLogStream),
				})},
			})},
		})
		cw := map[string]any{"logGroupName": props.LogGroupName, "roleArn": this.Role.RoleArn()}
		if s3cfg != nil {
			// Bodies over 100 KB and binary data cannot go to CloudWatch Logs.
			cw["largeDataDeliveryS3Config"] = s3cfg
		}
		cfg["cloudWatchConfig"] = cw
		deps = append(deps, this.LogGroup, this.Role)
	}
	this.Call = cfg

	// The custom resource's Lambda function gets its own role and log group
	// instead of CDK's default (AWSLambdaBasicExecutionRole, logs kept
	// forever): it may write its own log group only.
	fnLogs := awslogs.NewLogGroup(this.Construct, jsii.String("ConfiguratorLogs"), &awslogs.LogGroupProps{
		Retention: awslogs.RetentionDays_ONE_MONTH, RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	fnRole := awsiam.NewRole(this.Construct, jsii.String("ConfiguratorRole"), &awsiam.RoleProps{
		RoleName:    jsii.String(props.RoleName),
		Description: jsii.String("Runs the custom resource that sets Bedrock's model invocation logging in " + region),
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		InlinePolicies: &map[string]awsiam.PolicyDocument{"OwnLogs": awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{
			Statements: &[]awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
				Resources: &[]*string{fnLogs.LogGroupArn()},
			})},
		})},
	})
	statements := []awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:       jsii.String("InvocationLoggingConfiguration"),
		Actions:   jsii.Strings(estate.LoggingActions...),
		Resources: jsii.Strings("*"),
	})}
	if this.Role != nil {
		statements = append(statements, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:        jsii.String("PassLogsRoleToBedrock"),
			Actions:    jsii.Strings("iam:PassRole"),
			Resources:  &[]*string{this.Role.RoleArn()},
			Conditions: &map[string]any{"StringEquals": map[string]any{"iam:PassedToService": "bedrock.amazonaws.com"}},
		}))
	}
	physical := customresources.PhysicalResourceId_Of(jsii.String("model-invocation-logging-" + acct + "-" + region))
	this.Config = customresources.NewAwsCustomResource(this.Construct, jsii.String("Configuration"), &customresources.AwsCustomResourceProps{
		ResourceType: jsii.String("Custom::BedrockModelInvocationLogging"),
		OnCreate: &customresources.AwsSdkCall{Service: jsii.String("bedrock"), Action: jsii.String("PutModelInvocationLoggingConfiguration"),
			Parameters: map[string]any{"loggingConfig": cfg}, PhysicalResourceId: physical},
		OnUpdate: &customresources.AwsSdkCall{Service: jsii.String("bedrock"), Action: jsii.String("PutModelInvocationLoggingConfiguration"),
			Parameters: map[string]any{"loggingConfig": cfg}, PhysicalResourceId: physical},
		OnDelete: &customresources.AwsSdkCall{Service: jsii.String("bedrock"), Action: jsii.String("DeleteModelInvocationLoggingConfiguration"),
			PhysicalResourceId: physical},
		Policy: customresources.AwsCustomResourcePolicy_FromStatements(&statements),
		Role:   fnRole,
		// The SDK in the Lambda runtime: nothing is downloaded at deploy.
		InstallLatestAwsSdk: jsii.Bool(false),
		LogGroup:            fnLogs,
	})
	for _, d := range deps {
		this.Config.Node().AddDependency(d)
	}
	cdknag.NagSuppressions_AddResourceSuppressions(this.Config, &[]*cdknag.NagPackSuppression{{
		Id:        jsii.String("AwsSolutions-IAM5"),
		Reason:    jsii.String("PutModelInvocationLoggingConfiguration and DeleteModelInvocationLoggingConfiguration support no resource types (Service Authorization Reference), so '*' is the only resource IAM accepts for them."),
		AppliesTo: &[]interface{}{"Resource::*"},
	}}, jsii.Bool(true))
	return this
}
