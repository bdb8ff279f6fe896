package estate

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/review/iameval"
)

const (
	haiku   = "anthropic.claude-3-haiku-20240307-v1:0"
	usHaiku = "us.anthropic.claude-3-haiku-20240307-v1:0"
)

// govEstate is one use case granted a model and a system profile in one
// region, with the given top-level lines.
func govEstate(t *testing.T, top, useCase string) *Estate {
	t.Helper()
	e, err := load(t, "", fmt.Sprintf("  - {name: U, subjects: [s], access: [{account: A, regions: [us-east-1], models: [%s, %s]}]%s}\n%s", haiku, usHaiku, useCase, top))
	require.NoError(t, err)
	return e
}

func TestCostAttribution(t *testing.T) {
	for _, tc := range []struct {
		mode             string
		mainPolicies     int
		profiles, rolesP int
	}{
		{"", 1, 0, 0}, // direct by default: existing estates keep their grants
		{"costAttribution: direct", 1, 0, 0},
		{"costAttribution: profiles", 0, 2, 1},
		{"costAttribution: both", 1, 2, 1},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			e := govEstate(t, tc.mode, "")
			a := e.Accounts[0]
			r := a.Roles[0]
			assert.Len(t, r.Policies, tc.mainPolicies)
			n, roles := 0, 0
			for _, s := range a.Profiles {
				n += len(s.Profiles)
				roles += len(s.Roles)
				assert.Equal(t, "ACME-GenAI-A-Profiles-us-east-1", s.Stack)
			}
			assert.Equal(t, tc.profiles, n)
			assert.Equal(t, tc.rolesP, roles)
		})
	}
}

// TestProfilePolicy evaluates the profile policy with IAM's rules: calls
// through the application profile are allowed, the same models called
// directly are not.
func TestProfilePolicy(t *testing.T) {
	e := govEstate(t, "costAttribution: profiles", "")
	set := e.Accounts[0].Profiles[0]
	require.Len(t, set.Profiles, 2)
	byModel := map[string]*AppProfile{}
	for _, p := range set.Profiles {
		byModel[p.Model] = p
		assert.NoError(t, p.Name.Validate())
		assert.Len(t, p.Placeholder, len("arn:aws:bedrock:us-east-1:222222222222:application-inference-profile/")+appProfileIDLen)
	}
	fm, sys := byModel[haiku], byModel[usHaiku]
	assert.Equal(t, "arn:aws:bedrock:us-east-1::foundation-model/"+haiku, fm.Source)
	assert.Equal(t, "arn:aws:bedrock:us-east-1:222222222222:inference-profile/"+usHaiku, sys.Source)
	pr := set.Roles[0]
	require.Len(t, pr.Policies, 1)
	assert.Equal(t, "ACME-GenAI-U-UsEast1-ProfileInvokePolicy", pr.Policies[0].Name.String())
	assert.Equal(t, "/ACME/GenAIGateway/profiles/U", pr.Parameter)
	assert.Contains(t, pr.ParameterValue, fm.Placeholder)
	doc := pr.Policies[0].Document.Value()
	via := func(p *AppProfile) map[string][]string {
		return map[string][]string{"bedrock:InferenceProfileArn": {p.Placeholder}}
	}
	for _, tc := range []struct {
		name     string
		resource string
		action   string
		ctx      map[string][]string
		want     iameval.Decision
	}{
		{"invoke the model's application profile", fm.Placeholder, "bedrock:InvokeModel", nil, iameval.Allow},
		{"stream through the system profile's application profile", sys.Placeholder, "bedrock:InvokeModelWithResponseStream", nil, iameval.Allow},
		{"the model, routed by its application profile", fm.Source, "bedrock:InvokeModel", via(fm), iameval.Allow},
		{"the system profile, routed by its application profile", sys.Source, "bedrock:InvokeModel", via(sys), iameval.Allow},
		{"a destination of the system profile, routed", "arn:aws:bedrock:us-west-2::foundation-model/" + haiku, "bedrock:InvokeModel", via(sys), iameval.Allow},
		{"the model directly: not attributed, not allowed", fm.Source, "bedrock:InvokeModel", nil, iameval.ImplicitDeny},
		{"the system profile directly", sys.Source, "bedrock:InvokeModel", nil, iameval.ImplicitDeny},
		{"the model routed by another role's profile", fm.Source, "bedrock:InvokeModel", map[string][]string{"bedrock:InferenceProfileArn": {"arn:aws:bedrock:us-east-1:222222222222:application-inference-profile/other0000000"}}, iameval.ImplicitDeny},
		{"the gateway reads the ARNs", "arn:aws:ssm:us-east-1:222222222222:parameter/ACME/GenAIGateway/profiles/U", "ssm:GetParameter", nil, iameval.Allow},
		{"another role's ARNs", "arn:aws:ssm:us-east-1:222222222222:parameter/ACME/GenAIGateway/profiles/V", "ssm:GetParameter", nil, iameval.ImplicitDeny},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, _ := iameval.Evaluate(doc, iameval.Request{Action: tc.action, Resource: tc.resource, Context: tc.ctx})
			assert.Equal(t, tc.want, d)
		})
	}
	// The routing data names each model's profile and where its ARN is published.
	var rt Routing
	require.NoError(t, jsonUnmarshal(e.Routing[0].Value, &rt))
	require.Len(t, rt.Routes, 1)
	assert.Equal(t, map[string]map[string]string{"us-east-1": {haiku: fm.Name.String(), usHaiku: sys.Name.String()}}, rt.Routes[0].Profiles)
	assert.Equal(t, "/ACME/GenAIGateway/profiles/U", rt.Routes[0].ProfileArns)
}

func TestGuardrailAndPerimeter(t *testing.T) {
	const gr = "arn:aws:bedrock:us-east-1:222222222222:guardrail/abc123"
	perimeter := "perimeter: {sourceVpcEndpoints: [vpce-0a1b2c3d4e5f67890], sourceIps: [203.0.113.0/28]}"
	for _, mode := range []string{"direct", "profiles"} {
		e := govEstate(t, "costAttribution: "+mode+"\n"+perimeter, `, guardrail: {id: abc123, version: "2"}`)
		a := e.Accounts[0]
		doc, resource := a.Roles[0].Policies, "arn:aws:bedrock:us-east-1::foundation-model/"+haiku
		if mode == "profiles" {
			doc, resource = a.Profiles[0].Roles[0].Policies, a.Profiles[0].Profiles[0].Placeholder
			if a.Profiles[0].Profiles[0].Model != haiku {
				resource = a.Profiles[0].Profiles[1].Placeholder
			}
		}
		require.Len(t, doc, 1)
		v := doc[0].Document.Value()
		ok := map[string][]string{"bedrock:GuardrailIdentifier": {gr + ":2"}, "aws:SourceVpce": {"vpce-0a1b2c3d4e5f67890"}}
		with := func(kv ...string) map[string][]string {
			m := map[string][]string{}
			for k, x := range ok {
				m[k] = x
			}
			for i := 0; i < len(kv); i += 2 {
				if kv[i+1] == "" {
					delete(m, kv[i])
				} else {
					m[kv[i]] = []string{kv[i+1]}
				}
			}
			return m
		}
		for _, tc := range []struct {
			name   string
			action string
			res    string
			ctx    map[string][]string
			want   iameval.Decision
		}{
			{"guardrail, through the endpoint", "bedrock:InvokeModel", resource, ok, iameval.Allow},
			{"guardrail, from a listed address", "bedrock:InvokeModel", resource, with("aws:SourceVpce", "", "aws:SourceIp", "203.0.113.5"), iameval.Allow},
			{"no guardrail", "bedrock:InvokeModel", resource, with("bedrock:GuardrailIdentifier", ""), iameval.ExplicitDeny},
			{"another guardrail version", "bedrock:InvokeModelWithResponseStream", resource, with("bedrock:GuardrailIdentifier", gr+":1"), iameval.ExplicitDeny},
			{"another endpoint", "bedrock:InvokeModel", resource, with("aws:SourceVpce", "vpce-99999999"), iameval.ExplicitDeny},
			{"from the internet", "bedrock:InvokeModel", resource, with("aws:SourceVpce", "", "aws:SourceIp", "198.51.100.7"), iameval.ExplicitDeny},
			{"apply the guardrail", "bedrock:ApplyGuardrail", gr, nil, iameval.Allow},
			{"apply another guardrail", "bedrock:ApplyGuardrail", "arn:aws:bedrock:us-east-1:222222222222:guardrail/other", nil, iameval.ImplicitDeny},
		} {
			t.Run(mode+"/"+tc.name, func(t *testing.T) {
				d, _ := iameval.Evaluate(v, iameval.Request{Action: tc.action, Resource: tc.res, Context: tc.ctx})
				assert.Equal(t, tc.want, d)
			})
		}
		var rt Routing
		require.NoError(t, jsonUnmarshal(e.Routing[0].Value, &rt))
		assert.Equal(t, &RouteGuardrail{ID: "abc123", Version: "2", Arn: gr}, rt.Routes[0].Guardrail)
	}
}

func TestGovernanceErrors(t *testing.T) {
	many := func(n int) string {
		var models, ids []string
		for i := range n {
			id := fmt.Sprintf("anthropic.fake-%04d-v1:0", i)
			models = append(models, fmt.Sprintf("  - {id: %s, provider: Anthropic}", id))
			ids = append(ids, id)
		}
		var ucs []string
		for u := 0; u < 11; u++ {
			ucs = append(ucs, fmt.Sprintf("  - {name: U%d, subjects: [s%d], access: [{account: A, regions: [us-east-1], models: [%s]}]}", u, u, strings.Join(ids, ", ")))
		}
		return strings.Join(ucs, "\n") + "\ncostAttribution: profiles\nlimits: {managedPoliciesPerRole: 25}\nmodels:\n" + strings.Join(models, "\n") + "\n"
	}
	for _, tc := range []struct {
		name, body string
		want       []string
	}{
		{"unknown mode", "  - {name: U, subjects: [s], access: [{account: A, models: [" + haiku + "]}]}\ncostAttribution: profile\n",
			[]string{"costAttribution: unknown cost attribution \"profile\"", `did you mean "profiles"?`}},
		{"guardrail over two regions", "  - {name: U, subjects: [s], guardrail: {id: abc, version: \"1\"}, access: [{account: A, models: [" + haiku + "]}]}\n",
			[]string{"useCases[0].guardrail.id: guardrail abc would apply to calls in A us-east-1, A us-west-2"}},
		{"bad guardrail", "  - {name: U, subjects: [s], guardrail: {id: Abc-1, version: v1}, access: [{account: A, regions: [us-east-1], models: [" + haiku + "]}]}\n",
			[]string{"useCases[0].guardrail.id: \"Abc-1\" is not a guardrail id", "useCases[0].guardrail.version: \"v1\" is not a guardrail version"}},
		{"estate guardrail over two regions", "  - {name: U, subjects: [s], access: [{account: A, models: [" + haiku + "]}]}\nguardrail: {id: abc, version: DRAFT}\n",
			[]string{"guardrail.id: guardrail abc would apply"}},
		{"bad perimeter", "  - {name: U, subjects: [s], access: [{account: A, models: [" + haiku + "]}]}\nperimeter: {sourceVpcEndpoints: [vpc-123], sourceVpcs: [vpc-0a1b2c3d], sourceIps: [10.0.0.1/8, 0.0.0.0/0, nope]}\n",
			[]string{"perimeter.sourceVpcEndpoints[0]: \"vpc-123\" is not a valid id", "perimeter.sourceIps[0]: \"10.0.0.1/8\" has host bits set", "perimeter.sourceIps[1]: \"0.0.0.0/0\" admits every address", "perimeter.sourceIps[2]: \"nope\" is not a CIDR"}},
		{"empty perimeter", "  - {name: U, subjects: [s], access: [{account: A, models: [" + haiku + "]}]}\nperimeter: {}\n",
			[]string{"perimeter: an empty perimeter would deny every invoke call"}},
		{"profiles over the quota and the stack limit", many(100),
			[]string{"account A needs 1100 application inference profiles in us-east-1, 100 over its quota of 1000 inference profiles per account and region", "stack ACME-GenAI-A-Profiles-us-east-1 would hold"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.Parse("estate.yaml", []byte(fmt.Sprintf(head, "")+tc.body))
			if err == nil {
				_, err = Build(c)
			}
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Contains(t, err.Error(), "estate.yaml:")
		})
	}
}

// TestGuardStatementsStayInPolicy checks the guard Denies name only the
// resources their own document allows, so they never block a routed call.
func TestGuardStatementsStayInPolicy(t *testing.T) {
	e := govEstate(t, "perimeter: {sourceVpcs: [vpc-0a1b2c3d]}", "")
	for _, st := range e.Accounts[0].Roles[0].Policies[0].Document.Statement {
		if st.Effect == "Deny" {
			assert.NotContains(t, st.Resource, "*")
			assert.Equal(t, []string{"vpc-0a1b2c3d"}, st.Condition["StringNotEquals"]["aws:SourceVpc"])
		}
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// Logging and an enforced guardrail put a governance set (and stack) in each
// region they apply to, whatever the cost attribution, counted exactly.
func TestGovernanceSets(t *testing.T) {
	const logging = "logging: {cloudWatch: {retentionDays: 30}, s3: {expirationDays: 90}}\n"
	for _, tc := range []struct {
		name, top     string
		regions       []string // of the sets
		logged        bool
		enforced      string // region of the enforced guardrail
		resourcesInUE int    // resources of the us-east-1 set
	}{
		{"nothing, direct", "", nil, false, "", 0},
		{"logging, direct", logging, []string{"us-east-1"}, true, "", 1 + 12},
		{"logging, profiles", logging + "costAttribution: profiles\n", []string{"us-east-1"}, true, "", 1 + 12 + 2 + 1 + 1},
		{"cloudWatch only", "logging: {cloudWatch: {}}\n", []string{"us-east-1"}, true, "", 1 + 8},
		{"s3 only", "logging: {s3: {}}\n", []string{"us-east-1"}, true, "", 1 + 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := govEstate(t, tc.top, "").Accounts[0]
			var regions []string
			for _, s := range a.Profiles {
				regions = append(regions, s.Region)
				assert.Equal(t, tc.logged, s.Logging != nil)
				if s.Logging != nil {
					assert.Equal(t, "/ACME/GenAI/bedrock/model-invocations", s.LogGroup)
				}
				if s.Region == "us-east-1" {
					assert.Equal(t, tc.resourcesInUE, s.Resources())
				}
			}
			assert.Equal(t, tc.regions, regions)
		})
	}
	// Defaults: text on, the rest off; retention and expiration filled in.
	l := govEstate(t, "logging: {cloudWatch: {}, s3: {}}\n", "").Accounts[0].Profiles[0].Logging
	assert.Equal(t, config.Logging{CloudWatch: &config.CloudWatchLogging{RetentionDays: 90}, S3: &config.S3Logging{ExpirationDays: 365}, TextData: true}, *l)
}

func TestEnforcedGuardrailSet(t *testing.T) {
	e, err := load(t, ", enforcedGuardrails: [{region: us-west-2, id: gr0abc123def, version: \"4\"}]",
		fmt.Sprintf("  - {name: U, subjects: [s], access: [{account: A, regions: [us-east-1], models: [%s]}]}\n", haiku))
	require.NoError(t, err)
	sets := e.Accounts[0].Profiles
	require.Len(t, sets, 1, "only where the guardrail is enforced: direct and no logging")
	assert.Equal(t, "us-west-2", sets[0].Region)
	assert.Equal(t, &config.EnforcedGuardrail{Region: "us-west-2", ID: "gr0abc123def", Version: "4"}, sets[0].Enforced)
	assert.Equal(t, 2, sets[0].Resources())
}

// The quota of inference profiles is the account's: raised through limits,
// 1,100 profiles in one region are within it (the stack limit still holds),
// and it cannot be set below AWS's default.
func TestInferenceProfileQuotaRaised(t *testing.T) {
	var models, ids, ucs []string
	for i := range 100 {
		id := fmt.Sprintf("anthropic.fake-%04d-v1:0", i)
		models = append(models, fmt.Sprintf("  - {id: %s, provider: Anthropic}", id))
		ids = append(ids, id)
	}
	for u := 0; u < 11; u++ {
		ucs = append(ucs, fmt.Sprintf("  - {name: U%d, subjects: [s%d], access: [{account: A, regions: [us-east-1], models: [%s]}]}", u, u, strings.Join(ids, ", ")))
	}
	body := strings.Join(ucs, "\n") + "\ncostAttribution: profiles\nmodels:\n" + strings.Join(models, "\n") + "\n"
	for _, tc := range []struct {
		limits    string
		overQuota bool
	}{
		{"limits: {managedPoliciesPerRole: 25}\n", true},
		{"limits: {managedPoliciesPerRole: 25, inferenceProfilesPerRegion: 2000}\n", false},
	} {
		c, err := config.Parse("estate.yaml", []byte(fmt.Sprintf(head, "")+body+tc.limits))
		require.NoError(t, err)
		_, err = Build(c)
		require.Error(t, err)
		assert.Equal(t, tc.overQuota, strings.Contains(err.Error(), "1100 application inference profiles in us-east-1"), tc.limits)
		assert.Contains(t, err.Error(), "stack ACME-GenAI-A-Profiles-us-east-1 would hold")
	}
	_, err := config.Parse("estate.yaml", []byte(fmt.Sprintf(head, "")+body+"limits: {inferenceProfilesPerRegion: 999}\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "limits.inferenceProfilesPerRegion")
}

// A guardrail that uses a guardrail profile (cross-Region guardrail
// inference) may be applied through the profile in each of its destination
// regions, as AWS requires, and nowhere else.
func TestGuardrailProfile(t *testing.T) {
	const gr = "arn:aws:bedrock:us-east-1:222222222222:guardrail/abc123"
	profile := func(region string) string {
		return "arn:aws:bedrock:" + region + ":222222222222:guardrail-profile/us.guardrail.v1:0"
	}
	for _, tc := range []struct {
		name, guardrail string
		allowed, denied []string
	}{
		{"no profile", `, guardrail: {id: abc123, version: "2"}`, []string{gr}, []string{profile("us-east-1")}},
		{"us profile, destinations from the table", `, guardrail: {id: abc123, version: "2", profile: us.guardrail.v1:0}`,
			[]string{gr, profile("us-east-1"), profile("us-east-2"), profile("us-west-2")}, []string{profile("us-west-1"), "arn:aws:bedrock:us-east-2:222222222222:guardrail-profile/eu.guardrail.v1:0"}},
		{"regions given", `, guardrail: {id: abc123, version: "2", profile: us.guardrail.v1:0, profileRegions: [us-east-1, us-west-1]}`,
			[]string{gr, profile("us-east-1"), profile("us-west-1")}, []string{profile("us-east-2")}},
	} {
		for _, mode := range []string{"direct", "profiles"} {
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				a := govEstate(t, "costAttribution: "+mode, tc.guardrail).Accounts[0]
				doc := a.Roles[0].Policies
				if mode == "profiles" {
					doc = a.Profiles[0].Roles[0].Policies
				}
				require.Len(t, doc, 1)
				for _, res := range tc.allowed {
					d, _ := iameval.Evaluate(doc[0].Document.Value(), iameval.Request{Action: "bedrock:ApplyGuardrail", Resource: res})
					assert.Equal(t, iameval.Allow, d, res)
				}
				for _, res := range tc.denied {
					d, _ := iameval.Evaluate(doc[0].Document.Value(), iameval.Request{Action: "bedrock:ApplyGuardrail", Resource: res})
					assert.Equal(t, iameval.ImplicitDeny, d, res)
				}
			})
		}
	}
}

// Bedrock applies an enforced guardrail as the caller: every role granted in
// its region gets a policy to apply it, counted against the role's quota.
func TestEnforcedGuardrailPolicy(t *testing.T) {
	e, err := load(t, ", enforcedGuardrails: [{region: us-east-1, id: gr0abc123def, version: \"4\"}]",
		fmt.Sprintf("  - {name: U, subjects: [s], access: [{account: A, regions: [us-east-1], models: [%s]}]}\n  - {name: V, subjects: [v], access: [{account: A, regions: [us-west-2], models: [%s]}]}\n", haiku, haiku))
	require.NoError(t, err)
	set := e.Accounts[0].Profiles[0]
	require.Equal(t, "us-east-1", set.Region)
	require.NotNil(t, set.EnforcedPolicy)
	assert.Equal(t, "ACME-GenAI-EnforcedGuardrail-UsEast1-ApplyPolicy", set.EnforcedPolicy.Name.String())
	require.Len(t, set.EnforcedRoles, 1, "only the role granted in us-east-1")
	assert.Equal(t, "U", set.EnforcedRoles[0].Name.Subject)
	assert.Equal(t, 3, set.Resources(), "the configuration, the policy and CDK's metadata")
	doc := set.EnforcedPolicy.Document.Value()
	for res, want := range map[string]iameval.Decision{
		"arn:aws:bedrock:us-east-1:222222222222:guardrail/gr0abc123def": iameval.Allow,
		"arn:aws:bedrock:us-east-1:222222222222:guardrail/other":        iameval.ImplicitDeny,
	} {
		d, _ := iameval.Evaluate(doc, iameval.Request{Action: "bedrock:ApplyGuardrail", Resource: res})
		assert.Equal(t, want, d, res)
	}
}

// Names the governance stack creates stay within IAM's limits, or the
// config is rejected where it can be fixed.
func TestGovernanceNameLimits(t *testing.T) {
	long := strings.Replace(head, "org: ACME", "org: AcmeCorporationWorld", 1)
	long = strings.Replace(long, "layer: GenAI", "layer: GenerativeAIPlatform", 1) // the use case's role still fits
	c, err := config.Parse("estate.yaml", []byte(fmt.Sprintf(long, "")+fmt.Sprintf("  - {name: U, subjects: [s], access: [{account: A, regions: [us-east-1], models: [%s]}]}\nlogging: {cloudWatch: {}}\n", haiku)))
	require.NoError(t, err)
	_, err = Build(c)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "estate.yaml:")
	assert.Contains(t, err.Error(), "logging: the logging custom resource's role AcmeCorporationWorld-GenerativeAIPlatform-InvocationLogging-UsEast1 in account A is 67 characters, over IAM's limit of 64")
	assert.Contains(t, err.Error(), "shorten org or layer by 3 characters")
}
