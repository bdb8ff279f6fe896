package include

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/cloudformationinclude"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/genai-estate/internal/cdktest"
)

func TestMain(m *testing.M) { cdktest.Main(m) }

const doc = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["bedrock:InvokeModel"],"Resource":["arn:aws:bedrock:us-east-1::foundation-model/m"],"Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}}]}`

// The node side must make what cloudformation-include makes of the same
// template: CfnInclude is the reference.
func TestMatchesCfnInclude(t *testing.T) {
	tests := []struct {
		name, template string
	}{
		{"a shard: provider, role, policies, output", `{
			"Resources": {
				"ACMEIdPOkta": {"Type": "AWS::IAM::OIDCProvider", "Properties": {"Url": "https://idp.example.com", "ClientIdList": ["gw"], "Tags": [{"Key": "Name", "Value": "ACME-IdP-Okta"}]}},
				"ARole": {"Type": "AWS::IAM::Role", "DependsOn": ["ACMEIdPOkta"], "Properties": {"RoleName": "R", "Description": "d", "MaxSessionDuration": 3600,
					"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity", "Principal": {"Federated": "arn:aws:iam::111111111111:oidc-provider/idp.example.com"}}]},
					"Tags": [{"Key": "genai:use-case", "Value": "A"}]}},
				"APolicy": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"ManagedPolicyName": "P", "Description": "p", "PolicyDocument": ` + doc + `, "Roles": [{"Ref": "ARole"}]}}
			},
			"Outputs": {"AArn": {"Description": "ARN of R", "Value": {"Fn::GetAtt": ["ARole", "Arn"]}}}
		}`},
		{"a dependency listed after what needs it", `{
			"Resources": {
				"APolicy": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": ` + doc + `, "Roles": [{"Ref": "ARole"}]}},
				"ARole": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []}}}
			}
		}`},
		{"resource options, another service, an export", `{
			"Resources": {
				"Profile": {"Type": "AWS::Bedrock::ApplicationInferenceProfile", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Metadata": {"cdk_nag": {"rules_to_suppress": [{"id": "AwsSolutions-IAM5", "reason": "r"}]}},
					"Properties": {"InferenceProfileName": "n", "ModelSource": {"CopyFrom": "arn:aws:bedrock:us-east-1::foundation-model/m"}, "Tags": [{"Key": "genai:use-case", "Value": "A"}]}}
			},
			"Outputs": {"ProfileArn": {"Value": {"Ref": "Profile"}, "Export": {"Name": "profile-arn"}}}
		}`},
		{"a custom resource, a type without an L1, an attribute CloudFormation adds later", `{
			"Resources": {
				"Custom": {"Type": "Custom::Thing", "Properties": {"ServiceToken": "arn:aws:lambda:us-east-1:111111111111:function:f", "Size": 3}},
				"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle", "Properties": {}},
				"Nope": {"Type": "AWS::Nope::Thing", "DependsOn": "Custom", "Properties": {"A": {"Fn::Sub": "${AWS::Region}-x"}}},
				"Extra": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}, "Future": {"Setting": 1}}
			}
		}`},
		{"no outputs, no resources", `{}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app := awscdk.NewApp(nil)
			// App tags reach both through each L1's tag manager.
			awscdk.Tags_Of(app).Add(jsii.String("genai:org"), jsii.String("ACME"), nil)
			ours := awscdk.NewStack(app, jsii.String("Ours"), nil)
			New(ours, "Roles", []byte(tc.template))

			file := filepath.Join(t.TempDir(), "t.json")
			require.NoError(t, os.WriteFile(file, []byte(tc.template), 0o644))
			ref := awscdk.NewStack(app, jsii.String("Reference"), nil)
			cloudformationinclude.NewCfnInclude(ref, jsii.String("Roles"), &cloudformationinclude.CfnIncludeProps{TemplateFile: jsii.String(file)})

			want := *assertions.Template_FromStack(ref, nil).ToJSON()
			got := *assertions.Template_FromStack(ours, nil).ToJSON()
			assert.Equal(t, want, got)
		})
	}
}

// Resources are typed L1 constructs under the returned construct, named by
// their logical ids, and outputs are under $Outputs, as in CfnInclude.
func TestConstructs(t *testing.T) {
	stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("S"), nil)
	c := New(stack, "Roles", []byte(`{"Resources": {"ARole": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "R", "AssumeRolePolicyDocument": {}}}},
		"Outputs": {"AArn": {"Value": {"Fn::GetAtt": ["ARole", "Arn"]}}}}`))
	assert.Equal(t, "S/Roles", *c.Node().Path())
	role, ok := c.Node().FindChild(jsii.String("ARole")).(awsiam.CfnRole)
	require.True(t, ok, "the role is a CfnRole")
	assert.Equal(t, "R", *role.RoleName())
	out, ok := c.Node().TryFindChild(jsii.String("$Outputs")).Node().TryFindChild(jsii.String("AArn")).(awscdk.CfnOutput)
	require.True(t, ok, "the output is a CfnOutput")
	assert.Equal(t, "AArn", stackOf(out).Resolve(out.LogicalId()))
}

// cdk-nag's rules match L1 classes: a wildcard in an included policy must
// reach them as it would from a CfnManagedPolicy made in code.
func TestNagSeesIncludedResources(t *testing.T) {
	app := awscdk.NewApp(nil)
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	stack := awscdk.NewStack(app, jsii.String("S"), nil)
	New(stack, "Roles", []byte(`{"Resources": {
		"ARole": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []}}},
		"Wild": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"Roles": [{"Ref": "ARole"}],
			"PolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "bedrock:*", "Resource": "*"}]}}}}}`))
	errs := assertions.Annotations_FromStack(stack).FindError(jsii.String("/S/Roles/Wild"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-IAM5")))
	assert.NotEmpty(t, *errs, "AwsSolutions-IAM5 (wildcard permissions) must fire on the included policy")
}

func stackOf(c awscdk.CfnOutput) awscdk.Stack { return awscdk.Stack_Of(c) }

// What the node side cannot make as CfnInclude would fails the synth with
// a message that says what, never a resource of the wrong kind.
func TestRejects(t *testing.T) {
	tests := []struct {
		name, template, want string
	}{
		{"a resource without a type", `{"Resources": {"X": {"Properties": {}}}}`, "include S/Roles: resource X has no Type"},
		{"a section it does not model", `{"Conditions": {"C": {"Fn::Equals": ["a", "b"]}}, "Resources": {}}`, "include S/Roles: template sections Conditions are not supported"},
		{"an output with a condition", `{"Outputs": {"O": {"Value": "v", "Condition": "C"}}}`, "output O has Condition"},
		{"a cycle", `{"Resources": {"A": {"Type": "AWS::IAM::Role", "DependsOn": ["B"], "Properties": {"AssumeRolePolicyDocument": {}}}, "B": {"Type": "AWS::IAM::Role", "DependsOn": ["A"], "Properties": {"AssumeRolePolicyDocument": {}}}}}`, "include S/Roles: a dependency cycle: A depends on B depends on A"},
		{"not JSON", `{`, "include S/Roles: the template is not JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stack := awscdk.NewStack(awscdk.NewApp(nil), jsii.String("S"), nil)
			msg := func() (msg string) {
				defer func() { msg = fmt.Sprint(recover()) }()
				New(stack, "Roles", []byte(tc.template))
				return ""
			}()
			assert.Contains(t, msg, tc.want)
		})
	}
}
