package test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// reversed returns the example with every list under the top-level keys
// reversed: accounts, use cases, groups, access entries, models, subjects.
func reversed(t *testing.T) []byte {
	data, err := os.ReadFile(example)
	require.NoError(t, err)
	var doc yaml.Node
	require.NoError(t, yaml.Unmarshal(data, &doc))
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.SequenceNode {
			for i, j := 0, len(n.Content)-1; i < j; i, j = i+1, j-1 {
				n.Content[i], n.Content[j] = n.Content[j], n.Content[i]
			}
		}
		if n.Kind == yaml.MappingNode { // reverse key order too
			for i, j := 0, len(n.Content)-2; i < j; i, j = i+2, j-2 {
				n.Content[i], n.Content[j] = n.Content[j], n.Content[i]
				n.Content[i+1], n.Content[j+1] = n.Content[j+1], n.Content[i+1]
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&doc)
	out, err := yaml.Marshal(&doc)
	require.NoError(t, err)
	require.NotEqual(t, string(data), string(out))
	return out
}

func TestReorderingChangesNothing(t *testing.T) {
	base := synthFresh(t, example, nil, nil)
	again := synthFresh(t, example, nil, nil)
	assert.Equal(t, base, again, "the same config must give the same templates")
	assert.Equal(t, base, synth(t, "reversed.yaml", reversed(t), nil), "reordering the YAML must not change any template")
}

const useCaseE = `
  - name: UseCaseE
    subjects: [usecase-e]
    access:
      - account: SharedModelsA
        regions: [us-west-2]
        models: [anthropic.claude-3-haiku-20240307-v1:0, meta.llama3-8b-instruct-v1:0]
`

// withUseCaseE is the example estate with UseCaseE appended.
func withUseCaseE(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(example)
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, yaml.Unmarshal(data, &doc))
	var extra []any
	require.NoError(t, yaml.Unmarshal([]byte(useCaseE), &extra))
	doc["useCases"] = append(doc["useCases"].([]any), extra...)
	grown, err := yaml.Marshal(doc)
	require.NoError(t, err)
	return grown
}

// Adding a use case adds its resources and changes nothing that exists.
func TestAddingUseCaseOnlyAdds(t *testing.T) {
	grown := withUseCaseE(t)

	before := synth(t, example, nil, nil)
	after := synth(t, "grown.yaml", grown, nil)
	require.Equal(t, len(before), len(after))
	// Where UseCaseE lands: its role in its account's stack; its policies,
	// application inference profiles and their ARN parameter in the
	// account's profile stack for that region; its routing parameter.
	wantAdded := map[string][]string{
		"ACME-GenAI-SharedModelsA":                    {"UseCaseERole6CB464D3"},
		"ACME-GenAI-SharedModelsA-Profiles-us-west-2": {"ProfilesUseCaseEProfileInvokePolicy492AB703"},
		"ACME-GenAIGateway-Central":                   {"RoutingUseCaseE68D7F474"},
	}
	for name, tpl := range before {
		require.Contains(t, after, name)
		old, grownRes := resources(tpl), resources(after[name])
		for id, res := range old {
			assert.Equal(t, res, grownRes[id], "%s: existing resource %s changed", name, id)
		}
		var added, profiles []string
		for id, res := range grownRes {
			if _, ok := old[id]; ok {
				continue
			}
			r := res.(map[string]any)
			props := r["Properties"].(map[string]any)
			if rn, ok := props["RoleName"]; ok {
				assert.Equal(t, "ACME-GenAI-UseCaseE-BedrockInvokeRole", rn)
			}
			switch {
			case r["Type"] == "AWS::Bedrock::ApplicationInferenceProfile", r["Type"] == "AWS::SSM::Parameter" && strings.Contains(name, "-Profiles-"):
				// Named after the use case and a model hash; checked by type and name.
				assert.Contains(t, js(props), "UseCaseE", "%s: %s belongs to UseCaseE", name, id)
				profiles = append(profiles, id)
			default:
				added = append(added, id)
			}
		}
		assert.ElementsMatch(t, wantAdded[name], added, name)
		if strings.Contains(name, "-Profiles-") && wantAdded[name] != nil {
			assert.NotEmpty(t, profiles, "%s: UseCaseE's profiles", name)
		} else {
			assert.Empty(t, profiles, name)
		}
	}
}

func resources(tpl map[string]any) map[string]any {
	return tpl["Resources"].(map[string]any)
}
