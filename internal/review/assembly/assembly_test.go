package assembly

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestResolve(t *testing.T) {
	tpl := `{
	  "Parameters": {"Env": {"Type": "String", "Default": "prod"}},
	  "Resources": {
	    "Idp": {"Type": "AWS::IAM::OIDCProvider", "Properties": {"Url": "https://idp.example.com/oauth2"}},
	    "Role": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": {"Fn::Join": ["-", ["ACME", {"Ref": "Env"}, "Role"]]}}},
	    "Pathed": {"Type": "AWS::IAM::Role", "Properties": {"Path": "/svc/"}},
	    "Policy": {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"ManagedPolicyName": "P1"}},
	    "Bucket": {"Type": "AWS::S3::Bucket"}
	  }}`
	tests := []struct {
		name string
		in   string
		want any
	}{
		{"account", `{"Ref": "AWS::AccountId"}`, "222222222222"},
		{"region", `{"Ref": "AWS::Region"}`, "eu-west-1"},
		{"partition", `{"Ref": "AWS::Partition"}`, "aws"},
		{"url suffix", `{"Ref": "AWS::URLSuffix"}`, "amazonaws.com"},
		{"stack name", `{"Ref": "AWS::StackName"}`, "S"},
		{"parameter default", `{"Ref": "Env"}`, "prod"},
		{"no value is dropped", `{"A": {"Ref": "AWS::NoValue"}, "B": ["x", {"Ref": "AWS::NoValue"}]}`, map[string]any{"B": []any{"x"}}},
		{"ref of a role is its name", `{"Ref": "Role"}`, "ACME-prod-Role"},
		{"ref of a generated role name", `{"Ref": "Pathed"}`, "S-Pathed"},
		{"role arn", `{"Fn::GetAtt": ["Role", "Arn"]}`, "arn:aws:iam::222222222222:role/ACME-prod-Role"},
		{"role arn with path", `{"Fn::GetAtt": "Pathed.Arn"}`, "arn:aws:iam::222222222222:role/svc/S-Pathed"},
		{"oidc provider arn", `{"Fn::GetAtt": ["Idp", "Arn"]}`, "arn:aws:iam::222222222222:oidc-provider/idp.example.com/oauth2"},
		{"ref of an oidc provider is its arn", `{"Ref": "Idp"}`, "arn:aws:iam::222222222222:oidc-provider/idp.example.com/oauth2"},
		{"ref of a managed policy is its arn", `{"Ref": "Policy"}`, "arn:aws:iam::222222222222:policy/P1"},
		{"unknown attribute is a placeholder", `{"Fn::GetAtt": ["Bucket", "Arn"]}`, "{{Bucket.Arn}}"},
		{"join", `{"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":bedrock:", {"Ref": "AWS::Region"}, "::foundation-model/m"]]}`, "arn:aws:bedrock:eu-west-1::foundation-model/m"},
		{"sub with pseudo parameters", `{"Fn::Sub": "arn:${AWS::Partition}:bedrock:${AWS::Region}:${AWS::AccountId}:inference-profile/eu.m"}`, "arn:aws:bedrock:eu-west-1:222222222222:inference-profile/eu.m"},
		{"sub with variables, attributes and escapes", `{"Fn::Sub": ["${Idp.Arn}|${X}|${!Literal}", {"X": {"Ref": "Env"}}]}`, "arn:aws:iam::222222222222:oidc-provider/idp.example.com/oauth2|prod|${Literal}"},
		{"select of split", `{"Fn::Select": [1, {"Fn::Split": ["/", "a/b/c"]}]}`, "b"},
		{"import is a placeholder", `{"Fn::ImportValue": "X"}`, "{{Fn::ImportValue}}"},
	}
	var parsed template
	require.NoError(t, json.Unmarshal([]byte(tpl), &parsed))
	r := &resolver{s: &Stack{Name: "S", Account: "222222222222", Region: "eu-west-1", Partition: "aws"}, t: &parsed}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var in any
			require.NoError(t, json.Unmarshal([]byte(tc.in), &in))
			assert.Equal(t, tc.want, r.resolve(in))
		})
	}
}

func write(t *testing.T, dir, name, body string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "manifest.json", `{"artifacts": {
	  "B": {"type": "aws:cloudformation:stack", "environment": "aws://333333333333/cn-north-1", "properties": {"templateFile": "B.template.json", "stackName": "Stack-B"}},
	  "Stage": {"type": "cdk:cloud-assembly", "properties": {"directoryName": "assembly-Stage"}},
	  "Tree": {"type": "cdk:tree"}}}`)
	write(t, dir, "B.template.json", `{"Resources": {"R": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": {"Fn::Sub": "r-${AWS::Partition}"}}}}}`)
	write(t, dir, "assembly-Stage/manifest.json", `{"artifacts": {"A": {"type": "aws:cloudformation:stack", "environment": "aws://222222222222/us-east-1", "properties": {"templateFile": "A.template.json"}}}}`)
	write(t, dir, "assembly-Stage/A.template.json", `{"Resources": {}}`)

	stacks, err := Read(dir)
	require.NoError(t, err)
	require.Len(t, stacks, 2)
	assert.Equal(t, "A", stacks[0].Name, "a nested stage's stack is read, named by its artifact id")
	assert.Equal(t, "Stack-B", stacks[1].Name)
	assert.Equal(t, "aws-cn", stacks[1].Partition)
	assert.Equal(t, "r-aws-cn", stacks[1].Resources["R"].Properties["RoleName"])
	assert.Equal(t, []string{"R"}, stacks[1].ResourceIDs("AWS::IAM::Role"))
}

func TestReadErrors(t *testing.T) {
	_, err := Read(t.TempDir())
	assert.ErrorContains(t, err, "npx cdk synth", "a missing cdk.out says how to make one")

	dir := t.TempDir()
	write(t, dir, "manifest.json", `{"artifacts": {"X": {"type": "aws:cloudformation:stack", "environment": "aws://unknown-account/unknown-region", "properties": {"templateFile": "X.template.json"}}}}`)
	_, err = Read(dir)
	assert.ErrorContains(t, err, "explicit account and region")
}
