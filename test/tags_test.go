package test

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every resource that CDK can tag (its TagManager says so), in every stack,
// carries the toolkit's tags and the config's: tagging happens once, at the app.
func TestEveryTaggableResourceIsTagged(t *testing.T) {
	built := build(t, example, nil, nil)
	want := []string{`{"Key":"genai:org","Value":"ACME"}`, `{"Key":"genai:managed-by","Value":"genai-estate"}`, `{"Key":"cost-center","Value":"4200"}`}
	wantMap := []string{`"genai:org":"ACME"`, `"genai:managed-by":"genai-estate"`, `"cost-center":"4200"`}
	for _, s := range built.Stacks() {
		tpl := template(s)
		res := resources(tpl)
		tagged := 0
		for _, c := range *s.Node().FindAll(constructs.ConstructOrder_PREORDER) {
			cfn, ok := c.(awscdk.CfnResource)
			if !ok || awscdk.TagManager_Of(cfn) == nil {
				continue
			}
			if awscdk.Stack_Of(c) != s {
				continue
			}
			id := s.Resolve(cfn.LogicalId()).(string)
			r, ok := res[id].(map[string]any)
			require.True(t, ok, "%s: %s not in template", *s.StackName(), id)
			props, _ := r["Properties"].(map[string]any)
			tags := js(props["Tags"])
			for i := range want {
				if !assert.True(t, strings.Contains(tags, want[i]) || strings.Contains(tags, wantMap[i]), "%s: %s (%s) lacks %s: %s", *s.StackName(), id, r["Type"], want[i], tags) {
					break
				}
			}
			tagged++
		}
		assert.Positive(t, tagged, "%s has taggable resources", *s.StackName())
	}
}
