package arn

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPartitionOf(t *testing.T) {
	for region, want := range map[string]string{
		"us-east-1": "aws", "eu-central-1": "aws", "cn-north-1": "aws-cn", "cn-northwest-1": "aws-cn",
		"us-gov-west-1": "aws-us-gov", "not-a-region-1": "aws",
	} {
		assert.Equal(t, want, PartitionOf(region), region)
	}
}

func TestBuildAndParse(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{Role("aws", "111111111111", "", "R"), "arn:aws:iam::111111111111:role/R"},
		{Role("aws-cn", "111111111111", "/a/b/", "R"), "arn:aws-cn:iam::111111111111:role/a/b/R"},
		{ManagedPolicy("aws", "111111111111", "/", "P"), "arn:aws:iam::111111111111:policy/P"},
		{OIDCProvider("aws", "111111111111", "https://acme.okta.com/oauth2/default"), "arn:aws:iam::111111111111:oidc-provider/acme.okta.com/oauth2/default"},
		{AccountRoot("aws-us-gov", "111111111111"), "arn:aws-us-gov:iam::111111111111:root"},
		{Bedrock("aws", "us-east-1", "", "foundation-model", "anthropic.claude-3-haiku-20240307-v1:0"), "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-haiku-20240307-v1:0"},
		{GuardrailProfile("aws", "us-east-2", "111111111111", "us.guardrail.v1:0"), "arn:aws:bedrock:us-east-2:111111111111:guardrail-profile/us.guardrail.v1:0"},
		{Regional("aws", "ssm", "us-east-1", "111111111111", "parameter/ACME/x"), "arn:aws:ssm:us-east-1:111111111111:parameter/ACME/x"},
	} {
		assert.Equal(t, tc.want, tc.got)
		a, err := Parse(tc.got)
		require.NoError(t, err)
		assert.Equal(t, tc.got, a.String(), "round trip")
	}
	a, err := Parse("arn:aws:bedrock:us-east-1::foundation-model/m:0")
	require.NoError(t, err)
	assert.Equal(t, "foundation-model/m:0", a.Resource, "colons stay in the resource")
	for _, bad := range []string{"", "arn:aws", "nope:aws:iam::1:role/x", "arn::iam::1:role/x"} {
		_, err := Parse(bad)
		assert.Error(t, err, bad)
	}
	assert.Equal(t, "aws-cn", PartitionOfARN("arn:aws-cn:iam::1:role/x"))
	assert.Equal(t, "aws", PartitionOfARN("garbage"))
}
