package estate

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/fixture"
	"github.com/acme/genai-estate/internal/iampolicy"
)

// The ids CDK gave the construct tree the rendering replaced (golden templates).
func TestLogicalID(t *testing.T) {
	tests := []struct {
		path []string
		want string
	}{
		{[]string{"UseCaseA", "Role"}, "UseCaseARole35DE483E"},
		{[]string{"UseCaseA", "Arn"}, "UseCaseAArn38E03BB5"},
		{[]string{"UseCaseA", "AnthropicPolicy"}, "UseCaseAAnthropicPolicy764AAE41"},
		{[]string{"ACME-IdP-Okta"}, "ACMEIdPOkta"},
		{[]string{"Bucket", "Resource"}, "Bucket83908E77"},          // "Resource" is hidden from the human part
		{[]string{"Vpc", "Default", "Subnet"}, "VpcSubnetE21A7F1F"}, // "Default" dropped before hashing
		{[]string{strings.Repeat("A", 255)}, strings.Repeat("A", 255)},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, LogicalID(tc.path...), "%v", tc.path)
	}
}

// templateBytes sizes logical ids without hashing them.
func TestLogicalIDLen(t *testing.T) {
	for _, path := range [][]string{
		{"UseCaseA", "Role"}, {"ACME-IdP-Okta"}, {"Bucket", "Resource"}, {"Vpc", "Default", "Subnet"},
		{strings.Repeat("A", 255)}, {strings.Repeat("A", 256)}, {strings.Repeat("B", 300), "Role"}, {"a-b", "b"},
	} {
		assert.Equal(t, len(LogicalID(path...)), logicalIDLen(path...), "%v", path)
	}
}

func wide(t *testing.T, extra string) (*Estate, error) {
	t.Helper()
	c, err := config.Parse("wide.yaml", fixture.Wide(60, 26, 7, extra))
	require.NoError(t, err)
	return Build(c)
}

// 60 use cases x 26 models x 7 regions is 420 resources, within the
// resource limit, but about 1.3 MB of template in one stack: it is split by
// bytes, or, with the shard count pinned too low, rejected at the account.
func TestTemplateBytesSplit(t *testing.T) {
	e, err := wide(t, "")
	require.NoError(t, err)
	a := e.Accounts[0]
	require.Greater(t, a.Shards, 1, "split by template bytes")
	total := 0
	for _, s := range a.UsedShards() {
		assert.LessOrEqual(t, a.ShardBytes[s], TemplateBytesBudget, "shard %d", s)
		total += a.ShardBytes[s]
	}
	assert.Greater(t, total, MaxTemplateBytes, "one stack would have been oversize")

	_, err = wide(t, ", stackShards: 1")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "modelAccounts[0].stackShards")
	assert.Contains(t, err.Error(), "template bytes")
	assert.Contains(t, err.Error(), "raise stackShards above 1")
}

// Shards a pinned stackShards leaves without roles are not stacks; the
// others keep their hash assignment (and so their names and logical ids).
func TestEmptyShardsSkipped(t *testing.T) {
	c, err := config.Parse("estate.yaml", fixture.Wide(3, 1, 1, ", stackShards: 8"))
	require.NoError(t, err)
	e, err := Build(c)
	require.NoError(t, err)
	a := e.Accounts[0]
	require.Equal(t, 8, a.Shards)
	used := a.UsedShards()
	assert.Less(t, len(used), 8)
	assert.Equal(t, 0, used[0], "the first shard creates the OIDC provider")
	for _, r := range a.Roles {
		assert.Contains(t, used, r.Shard)
	}
	for s := range a.Shards {
		if s != 0 && len(a.ShardRoles(s)) == 0 {
			assert.NotContains(t, used, s)
		}
	}

	// With the provider imported, an empty first shard is skipped too.
	c, err = config.Parse("estate.yaml", fixture.Wide(1, 1, 1, `, stackShards: 8, oidcProviderArn: "arn:aws:iam::222222222222:oidc-provider/acme.okta.com/oauth2/default"`))
	require.NoError(t, err)
	e, err = Build(c)
	require.NoError(t, err)
	a = e.Accounts[0]
	assert.Equal(t, []int{a.Roles[0].Shard}, a.UsedShards())
}

// The arithmetic size of a role's entries equals what the encoder writes,
// for the example estate, wide policies, groups, vendors and strings that
// JSON escapes.
func TestTemplateBytesExact(t *testing.T) {
	var estates []*Estate
	for _, data := range [][]byte{
		fixture.Wide(3, 26, 7, ""),
		fixture.Large(3, 30),
		[]byte(strings.Replace(string(fixture.Wide(2, 3, 2, "")), "access:", "description: \"quote \\\" back\\\\slash <tag> & é\"\n    access:", 1)),
	} {
		c, err := config.Parse("estate.yaml", data)
		require.NoError(t, err)
		e, err := Build(c)
		require.NoError(t, err)
		estates = append(estates, e)
	}
	example, err := config.Load("../../config/usecases.yaml")
	require.NoError(t, err)
	e, err := Build(example)
	require.NoError(t, err)
	estates = append(estates, e)
	roles := 0
	for _, e := range estates {
		for _, a := range e.Accounts {
			stack := a.Stack(e.Config.Org, e.Config.Layer, 49)
			for _, r := range a.Roles {
				roles++
				assert.Equal(t, encodedBytes(r, a, e.Tags, stack), r.templateBytes(a, e.Tags, stack), "%s", r.Name)
			}
		}
	}
	assert.Greater(t, roles, 40)
}

// encodedBytes is templateBytes by rendering each entry with the encoder.
func encodedBytes(r *Role, a *Account, tags []Tag, stack string) int {
	t := &Template{}
	r.render(t, a.ProviderID(), tags)
	entry := func(key string, v any) int {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.SetIndent("  ", " ")
		if err := enc.Encode(v); err != nil {
			panic(err)
		}
		k, _ := json.Marshal(key)
		return 2 + len(k) + 2 + b.Len() + 1
	}
	n := 0
	for _, m := range t.Resources {
		res := m.value.(map[string]any)
		res["Metadata"] = map[string]string{"aws:cdk:path": stack + "/Roles/" + m.key}
		n += entry(m.key, res)
	}
	for _, m := range t.Outputs {
		n += entry(m.key, m.value)
	}
	return n
}

// iamChars, from JSON already marshalled, counts as Document.Size does.
func TestIAMChars(t *testing.T) {
	c, err := config.Parse("wide.yaml", fixture.Wide(2, 26, 7, ""))
	require.NoError(t, err)
	e, err := Build(c)
	require.NoError(t, err)
	docs := []iampolicy.Document{iampolicy.New(iampolicy.Statement{Sid: "A", Effect: "Allow", Action: []string{"a b\u00a0c\u2028"}})}
	for _, r := range e.Accounts[0].Roles {
		docs = append(docs, r.Trust)
		for _, p := range r.Policies {
			docs = append(docs, p.Document)
		}
	}
	for _, d := range docs {
		assert.Equal(t, d.Size(), size(d).chars)
	}
	assert.Greater(t, len(docs), 6)
}

// go test ./internal/estate -run XXX -bench ShardTemplates : what the app does
// in Go per model-account shard before handing it to CDK (render and encode
// it), for every shard of the 50 x 400
// fixture estate.
func BenchmarkShardTemplates(b *testing.B) {
	c, err := config.Parse("large.yaml", fixture.Large(50, 400))
	require.NoError(b, err)
	e, err := Build(c)
	require.NoError(b, err)
	b.ResetTimer()
	n := 0
	for b.Loop() {
		for _, a := range e.Accounts {
			for _, s := range a.UsedShards() {
				n += len(a.ShardTemplate(c, s).JSON())
			}
		}
	}
	b.ReportMetric(float64(n)/float64(b.N), "bytes/op")
}
