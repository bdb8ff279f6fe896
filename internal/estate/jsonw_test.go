package estate

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/fixture"
	"github.com/acme/genai-estate/internal/iampolicy"
)

// awkward are strings every JSON escaping rule applies to.
var awkward = []string{"", "plain", `quote " and \ backslash`, "<html> & friends", "tab\tnew\nline\rcr\b\f", "\x00\x01\x1f\x7f",
	"bad utf-8 \xff\xfe end", "line sep \u2028 para \u2029", "ünïcødé ✓ 🙂", "trailing \xe2\x82"}

func TestJSONWritersMatchEncodingJSON(t *testing.T) {
	for _, s := range awkward {
		plain, err := marshal(s)
		require.NoError(t, err)
		assert.Equal(t, string(plain), string(appendString(nil, s, false)), "%q without HTML escaping", s)
		html, err := json.Marshal(s)
		require.NoError(t, err)
		assert.Equal(t, string(html), string(appendString(nil, s, true)), "%q with HTML escaping", s)
	}

	docs := []iampolicy.Document{
		{},
		iampolicy.New(),
		iampolicy.New(iampolicy.Statement{}),
		iampolicy.New(iampolicy.Statement{Sid: awkward[2], Effect: awkward[3], Principal: map[string]string{"b": awkward[4], "a": awkward[6], "c": ""},
			Action: []string{}, Resource: []string{awkward[7]}, NotResource: []string{awkward[8], ""},
			Condition: map[string]map[string][]string{"StringLike": {"z": nil, "a": {}}, "Null": nil, "StringEquals": {"k": {"v"}, "j": {"w", "x"}, "i": {"<&>"}}}}),
		iampolicy.New(iampolicy.Statement{Effect: "Allow", Principal: map[string]string{}, Action: []string{"a"}, Resource: []string{}, Condition: map[string]map[string][]string{}}),
	}
	routes := []Routing{
		{},
		{UseCase: awkward[3], Subjects: []string{awkward[2], awkward[6]}, CredentialTTLSeconds: -1, Quota: config.Quota{RequestsPerMinute: 5}, Routes: []Route{}},
		{UseCase: "u", Subjects: []string{}, Quota: config.Quota{TokensPerMinute: 7}, Routes: []Route{
			{},
			{AccountName: "A&B", Account: "1", RoleArn: "arn", Via: "group:<g>", Models: map[string][]string{"us-west-2": {"m2"}, "us-east-1": {"m1", "m<3>"}, "eu-west-1": nil},
				Profiles: map[string]map[string]string{"us-east-1": {"m1": "P1", "m0": "P0"}, "us-west-2": nil, "eu-west-1": {}}, ProfileArns: "/p&q",
				Guardrail: &RouteGuardrail{ID: "g", Version: "1", Arn: "arn:<g>"}},
			{Models: map[string][]string{}, Profiles: map[string]map[string]string{}},
		}},
		{UseCase: "both", Quota: config.Quota{RequestsPerMinute: 1, TokensPerMinute: 2}},
	}

	// And every document the example estate, the large fixture and an estate
	// with guardrails and a perimeter publish.
	example, err := fixture.Example()
	require.NoError(t, err)
	direct, err := fixture.Example("costAttribution: profiles", "costAttribution: direct")
	require.NoError(t, err)
	for _, cfg := range [][]byte{example, direct, fixture.Large(7, 60), fixture.Wide(10, 5, 3, "")} {
		c, err := config.Parse("estate.yaml", cfg)
		require.NoError(t, err)
		e, err := Build(c)
		require.NoError(t, err)
		for _, a := range e.Accounts {
			for _, r := range a.Roles {
				docs = append(docs, r.Trust)
				for _, p := range r.Policies {
					docs = append(docs, p.Document)
				}
			}
			for _, set := range a.Profiles {
				for _, pr := range set.Roles {
					for _, p := range pr.Policies {
						docs = append(docs, p.Document)
					}
				}
			}
		}
		for _, p := range e.Routing {
			var r Routing
			require.NoError(t, json.Unmarshal([]byte(p.Value), &r))
			routes = append(routes, r)
			again, err := json.Marshal(r)
			require.NoError(t, err)
			assert.Equal(t, string(again), p.Value, "routing of %s", p.UseCase)
		}
	}
	for _, d := range docs {
		assert.Equal(t, string(d.JSON()), string(appendDoc(nil, d)))
		assert.Equal(t, d.Size(), size(d).chars)
		// In a template: the document as generic JSON, keys sorted.
		generic, err := marshal(d.Value())
		require.NoError(t, err)
		assert.Equal(t, string(generic), string(appendSortedDoc(nil, sortedDoc(d))))
	}
	for _, r := range routes {
		want, err := json.Marshal(r)
		require.NoError(t, err)
		got := appendRouting([]byte("prefix"), &r)
		assert.True(t, bytes.HasPrefix(got, []byte("prefix")))
		assert.Equal(t, string(want), string(got[len("prefix"):]))
	}
	assert.Greater(t, len(docs), 50)
	assert.Greater(t, len(routes), 50)
}

// A shard's template as the app hands it to CDK is what encoding/json
// writes for it, for every shard of estates with one and many shards, a
// created and an imported provider. (Policy documents reach encoding/json
// through sortedDoc's own writer; TestJSONWritersMatchEncodingJSON holds
// that equal to encoding/json of the generic document.)
func TestTemplateJSON(t *testing.T) {
	shards := 0
	for _, cfg := range [][]byte{fixture.Large(3, 120), fixture.Wide(4, 5, 3, "")} {
		c, err := config.Parse("estate.yaml", cfg)
		require.NoError(t, err)
		e, err := Build(c)
		require.NoError(t, err)
		for _, a := range e.Accounts {
			for _, s := range a.UsedShards() {
				tpl := a.ShardTemplate(c, s)
				want, err := marshal(tpl)
				require.NoError(t, err)
				assert.Equal(t, string(want), string(tpl.JSON()), "%s shard %d", a.Name, s)
				shards++
			}
		}
	}
	assert.Greater(t, shards, 8)
	empty := &Template{}
	want, err := marshal(empty)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(empty.JSON()))
}
