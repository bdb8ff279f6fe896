package test

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/genai-estate/internal/checks"
	"github.com/acme/genai-estate/stacks"
)

// Every stack of the example passes cdk-nag's AwsSolutions pack and the
// toolkit's own checks with no finding at all: a new one fails this test.
func TestNoSecurityFindings(t *testing.T) {
	all := build(t, example, nil, nil).Stacks()
	require.Len(t, all, 10) // with the four application-profile stacks
	any := assertions.Match_AnyValue()
	for _, s := range all {
		ann := assertions.Annotations_FromStack(s)
		for _, f := range *ann.FindError(jsii.String("*"), any) {
			t.Errorf("%s: error %s: %v", *s.StackName(), *f.Id, f.Entry.Data)
		}
		for _, f := range *ann.FindWarning(jsii.String("*"), any) {
			t.Errorf("%s: warning %s: %v", *s.StackName(), *f.Id, f.Entry.Data)
		}
	}
	// The toolkit's own checks read the written assembly.
	_, err := stacks.Synth(awscdk.Stage_Of(all[0]))
	assert.NoError(t, err)
}

// The packs Build applies are live: a careless bucket in the same app is caught.
func TestNagIsApplied(t *testing.T) {
	built := build(t, example, nil, inspectErrors)
	planted := awscdk.NewStack(awscdk.Stage_Of(built.Central.Stack), jsii.String("Planted"), nil)
	awss3.NewBucket(planted, jsii.String("Careless"), nil)
	awslogs.NewCfnLogGroup(planted, jsii.String("Forever"), &awslogs.CfnLogGroupProps{})
	errs := assertions.Annotations_FromStack(planted).FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-S10")))
	assert.Len(t, *errs, 1, "AwsSolutions-S10 (no TLS enforcement) must fire")
	_, err := stacks.Synth(awscdk.Stage_Of(planted))
	var own checks.Findings
	require.ErrorAs(t, err, &own, "the toolkit's own checks fail the synth")
	got := map[string]string{}
	for _, f := range own {
		got[f.Path] = f.Problem
	}
	assert.Equal(t, map[string]string{
		"Planted/Forever":           "log group keeps logs forever",
		"Planted/Careless/Resource": "bucket has no BucketEncryption", // and retained: RETAIN is the L2's default
	}, got)
}
