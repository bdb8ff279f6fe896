package estate

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/fixture"
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
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, LogicalID(tc.path...), "%v", tc.path)
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
