package test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/estate"
	"github.com/acme/genai-estate/stacks"
)

const central = "ACME-GenAIGateway-Central"

func js(v any) string { b, _ := json.Marshal(v); return string(b) }

// pinnedImage pins the gateway's image by digest, in place of the example's
// build from source.
const pinnedImage = "    image: 111111111111.dkr.ecr.us-east-1.amazonaws.com/genai-gateway@sha256:69673fa811a34bd1c61fce66250f7c956b4e312109fe1e813d27a52df940e4ce\n"

// exampleWith is the example config with each old string replaced once.
func exampleWith(t *testing.T, oldNew ...string) []byte {
	t.Helper()
	data, err := os.ReadFile(example)
	require.NoError(t, err)
	s := string(data)
	for i := 0; i+1 < len(oldNew); i += 2 {
		require.Contains(t, s, oldNew[i])
		s = strings.Replace(s, oldNew[i], oldNew[i+1], 1)
	}
	return []byte(s)
}

// The gateway's settings block of the example, to insert fields after.
const gatewayAnchor = "    certificateArn: "

func TestCentralNetwork(t *testing.T) {
	tpl := synth(t, example, nil, nil)[central]
	require.NotNil(t, tpl)
	assert.Empty(t, byType(tpl, "AWS::IAM::OIDCProvider"), "STS checks tokens against the provider in the role's account; no central role trusts one")
	vpc := only(t, tpl, "AWS::EC2::VPC")
	assert.Equal(t, "10.0.0.0/16", vpc["CidrBlock"])
	assert.Len(t, byType(tpl, "AWS::EC2::Subnet"), 4, "two AZs, public and private")
	assert.Len(t, byType(tpl, "AWS::EC2::FlowLog"), 1)
	assert.Len(t, byType(tpl, "AWS::EC2::NatGateway"), 2, "one NAT gateway per AZ")
	assert.Len(t, byType(tpl, "Custom::VpcRestrictDefaultSG"), 1, "the default security group loses its rules")

	services := map[string]string{}
	for _, e := range byType(tpl, "AWS::EC2::VPCEndpoint") {
		name := js(e["ServiceName"])
		for _, svc := range []string{"sts", "bedrock-runtime", "ssm", "ecr.api", "ecr.dkr", "logs", "s3"} {
			if strings.Contains(name, "."+svc+`"`) || strings.HasSuffix(name, "."+svc+`"`) || strings.Contains(name, `.`+svc+`"]`) {
				services[svc] = e["VpcEndpointType"].(string)
			}
		}
		if e["VpcEndpointType"] == "Interface" {
			assert.Equal(t, true, e["PrivateDnsEnabled"], name)
		}
	}
	assert.Equal(t, map[string]string{"sts": "Interface", "bedrock-runtime": "Interface", "ssm": "Interface", "ecr.api": "Interface", "ecr.dkr": "Interface", "logs": "Interface", "s3": "Gateway"}, services)
	assert.Len(t, byType(tpl, "AWS::EC2::VPCEndpoint"), 7)
}

// Task egress: HTTPS anywhere (endpoints, other regions, the IdP) and the
// cache port to the cache only; the endpoints admit the tasks only.
func TestCentralEgress(t *testing.T) {
	tpl := synth(t, example, nil, nil)[central]
	sgs := byType(tpl, "AWS::EC2::SecurityGroup")
	id := func(prefix string) string {
		for k := range sgs {
			if strings.HasPrefix(k, prefix) {
				return k
			}
		}
		t.Fatalf("no security group %s", prefix)
		return ""
	}
	svc, cache, endpoints := id("ServiceSecurityGroup"), id("CacheSecurityGroup"), id("EndpointSecurityGroup")
	type rule struct {
		Proto    string
		From, To float64
		Dest     string
	}
	var got []rule
	for _, r := range sgs[svc]["SecurityGroupEgress"].([]any) {
		m := r.(map[string]any)
		got = append(got, rule{m["IpProtocol"].(string), m["FromPort"].(float64), m["ToPort"].(float64), m["CidrIp"].(string)})
	}
	for _, e := range byType(tpl, "AWS::EC2::SecurityGroupEgress") {
		if js(e["GroupId"]) == js(map[string]any{"Fn::GetAtt": []any{svc, "GroupId"}}) {
			got = append(got, rule{e["IpProtocol"].(string), e["FromPort"].(float64), e["ToPort"].(float64), js(e["DestinationSecurityGroupId"])})
		}
	}
	assert.ElementsMatch(t, []rule{
		{"tcp", 443, 443, "0.0.0.0/0"},
		{"tcp", 6379, 6379, js(map[string]any{"Fn::GetAtt": []any{cache, "GroupId"}})},
	}, got, "no all-protocol egress")
	var endpointIngress []string
	for _, in := range byType(tpl, "AWS::EC2::SecurityGroupIngress") {
		if js(in["GroupId"]) == js(map[string]any{"Fn::GetAtt": []any{endpoints, "GroupId"}}) {
			endpointIngress = append(endpointIngress, js(in["SourceSecurityGroupId"])+js(in["FromPort"]))
		}
	}
	assert.Equal(t, []string{js(map[string]any{"Fn::GetAtt": []any{svc, "GroupId"}}) + "443"}, endpointIngress)
	assert.Nil(t, sgs[endpoints]["SecurityGroupIngress"], "no CIDR ingress on the endpoints")
}

func TestCentralALB(t *testing.T) {
	tpl := synth(t, example, nil, nil)[central]
	lb := only(t, tpl, "AWS::ElasticLoadBalancingV2::LoadBalancer")
	assert.Equal(t, "internal", lb["Scheme"])
	attrs := js(lb["LoadBalancerAttributes"])
	for _, want := range []string{
		`{"Key":"routing.http.drop_invalid_header_fields.enabled","Value":"true"}`, `{"Key":"routing.http.desync_mitigation_mode","Value":"defensive"}`,
		`{"Key":"access_logs.s3.enabled","Value":"true"}`, `{"Key":"deletion_protection.enabled","Value":"true"}`,
		`{"Key":"idle_timeout.timeout_seconds","Value":"315"}`, // requestTimeoutSeconds 300 + 15
	} {
		assert.Contains(t, attrs, want)
	}
	var https, http map[string]any
	for _, l := range byType(tpl, "AWS::ElasticLoadBalancingV2::Listener") {
		switch l["Protocol"] {
		case "HTTPS":
			https = l
		case "HTTP":
			http = l
		}
	}
	require.NotNil(t, https)
	assert.Equal(t, "ELBSecurityPolicy-TLS13-1-2-2021-06", https["SslPolicy"])
	assert.Contains(t, js(https["Certificates"]), "arn:aws:acm:us-east-1:111111111111:certificate/")
	// Every request is verified before it is forwarded; nothing else is routed.
	tg := ""
	for id := range byType(tpl, "AWS::ElasticLoadBalancingV2::TargetGroup") {
		tg = id
	}
	assert.Equal(t, []any{
		map[string]any{"Order": float64(1), "Type": "jwt-validation", "JwtValidationConfig": map[string]any{
			"Issuer": "https://acme.okta.com/oauth2/default", "JwksEndpoint": "https://acme.okta.com/oauth2/default/v1/keys",
			"AdditionalClaims": []any{map[string]any{"Name": "aud", "Format": "single-string", "Values": []any{"genai-gateway"}}},
		}},
		map[string]any{"Order": float64(2), "Type": "forward", "TargetGroupArn": map[string]any{"Ref": tg}},
	}, https["DefaultActions"])
	assert.Empty(t, byType(tpl, "AWS::ElasticLoadBalancingV2::ListenerRule"), "no rule bypasses the verification")
	// Health checks go from the ALB straight to the targets, past the listener's actions.
	assert.Equal(t, "/health", only(t, tpl, "AWS::ElasticLoadBalancingV2::TargetGroup")["HealthCheckPath"])
	require.NotNil(t, http)
	assert.Contains(t, js(http["DefaultActions"]), `"Protocol":"HTTPS"`, "HTTP only redirects")
	// The ALB admits only 80/443 from the configured CIDR.
	for id, sg := range byType(tpl, "AWS::EC2::SecurityGroup") {
		if strings.HasPrefix(id, "AlbSecurityGroup") {
			ingress := sg["SecurityGroupIngress"].([]any)
			require.Len(t, ingress, 2)
			for _, r := range ingress {
				assert.Equal(t, "10.0.0.0/8", r.(map[string]any)["CidrIp"])
			}
		}
	}
}

// gatewayEnv is exactly what the gateway reads (internal/gateway/env).
var gatewayEnv = []string{"PORT", "ROUTING_PARAMETER_PATH", "ROUTING_REFRESH_SECONDS", "IDP_ISSUER_URL", "IDP_AUDIENCE", "IDP_JWKS_URL",
	"CACHE_ENDPOINT", "CACHE_PORT", "CACHE_USER", "CACHE_REPLICATION_GROUP_ID", "CACHE_TLS", "CACHE_IAM_AUTH",
	"CREDENTIAL_TTL_SECONDS", "REQUEST_TIMEOUT_SECONDS", "MAX_BODY_BYTES"}

func containerEnv(t *testing.T, container map[string]any) map[string]any {
	env := map[string]any{}
	for _, e := range container["Environment"].([]any) {
		m := e.(map[string]any)
		env[m["Name"].(string)] = m["Value"]
	}
	return env
}

func TestCentralService(t *testing.T) {
	tpl := synth(t, example, nil, nil)[central]
	task := only(t, tpl, "AWS::ECS::TaskDefinition")
	assert.Equal(t, "1024", task["Cpu"])
	assert.Equal(t, "2048", task["Memory"])
	assert.Equal(t, map[string]any{"CpuArchitecture": "ARM64", "OperatingSystemFamily": "LINUX"}, task["RuntimePlatform"])
	assert.NotEqual(t, js(task["TaskRoleArn"]), js(task["ExecutionRoleArn"]), "separate execution role")
	container := task["ContainerDefinitions"].([]any)[0].(map[string]any)
	// The example builds the gateway from this repository.
	assert.Regexp(t, `cdk-hnb659fds-container-assets-111111111111-us-east-1:[0-9a-f]{64}`, js(container["Image"]))
	assert.Equal(t, "65532", container["User"], "distroless nonroot")
	assert.Equal(t, true, container["ReadonlyRootFilesystem"])
	env := containerEnv(t, container)
	assert.ElementsMatch(t, gatewayEnv, slices.Collect(func(yield func(string) bool) {
		for k := range env {
			if !yield(k) {
				return
			}
		}
	}), "exactly the variables the gateway reads")
	for k, want := range map[string]string{
		"PORT": "8080", "ROUTING_PARAMETER_PATH": "/ACME/GenAIGateway/routing", "ROUTING_REFRESH_SECONDS": "60",
		"IDP_ISSUER_URL": "https://acme.okta.com/oauth2/default", "IDP_AUDIENCE": "genai-gateway", "IDP_JWKS_URL": "https://acme.okta.com/oauth2/default/v1/keys",
		"CACHE_PORT": "6379", "CACHE_USER": "genai-gateway", "CACHE_REPLICATION_GROUP_ID": "acme-genai-gateway", "CACHE_TLS": "true", "CACHE_IAM_AUTH": "true",
		"CREDENTIAL_TTL_SECONDS": "900", "REQUEST_TIMEOUT_SECONDS": "300", "MAX_BODY_BYTES": "10485760",
	} {
		assert.Equal(t, want, env[k], k)
	}
	assert.Equal(t, map[string]any{"Fn::GetAtt": []any{"Cache", "PrimaryEndPoint.Address"}}, env["CACHE_ENDPOINT"])
	svc := only(t, tpl, "AWS::ECS::Service")
	assert.Contains(t, js(svc["DeploymentConfiguration"]), `"DeploymentCircuitBreaker":{"Enable":true,"Rollback":true}`)
	assert.EqualValues(t, 2, svc["DesiredCount"])
	target := only(t, tpl, "AWS::ApplicationAutoScaling::ScalableTarget")
	assert.EqualValues(t, 2, target["MinCapacity"])
	assert.EqualValues(t, 10, target["MaxCapacity"])
	metrics := js(byType(tpl, "AWS::ApplicationAutoScaling::ScalingPolicy"))
	assert.Contains(t, metrics, "ECSServiceAverageCPUUtilization")
	assert.Contains(t, metrics, "ALBRequestCountPerTarget")
	for id, lg := range byType(tpl, "AWS::Logs::LogGroup") {
		assert.NotNil(t, lg["RetentionInDays"], id)
		assert.Nil(t, lg["KmsKeyId"], "no key configured")
	}
}

// The task role can do exactly what the gateway needs, and nothing else.
func TestCentralTaskRole(t *testing.T) {
	tpl := synth(t, example, nil, nil)[central]
	role := roleNamed(t, tpl, "ACME-GenAIGateway-TaskRole")
	assert.Nil(t, role["ManagedPolicyArns"])
	grants := map[string][]string{}
	for _, p := range role["Policies"].([]any) {
		for _, raw := range p.(map[string]any)["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := raw.(map[string]any)
			for _, r := range strs(st["Resource"]) {
				grants[r] = append(grants[r], strs(st["Action"])...)
			}
		}
	}
	// GetParametersByPath is authorised against the path in the request,
	// GetParameter against the parameter named (Parameter Store user guide).
	assert.Equal(t, map[string][]string{
		"arn:aws:elasticache:us-east-1:111111111111:replicationgroup:acme-genai-gateway": {"elasticache:Connect"},
		"arn:aws:elasticache:us-east-1:111111111111:user:genai-gateway":                  {"elasticache:Connect"},
		"arn:aws:ssm:us-east-1:111111111111:parameter/ACME/GenAIGateway/routing":         {"ssm:GetParametersByPath"},
		"arn:aws:ssm:us-east-1:111111111111:parameter/ACME/GenAIGateway/routing/*":       {"ssm:GetParameter"},
	}, grants)
	doc := js(role["Policies"])
	assert.NotContains(t, doc, "secretsmanager:", "callers bring their own tokens: no client secret to read")
	assert.NotContains(t, doc, "sts:", "AssumeRoleWithWebIdentity needs no caller permission")
	for id, p := range byType(tpl, "AWS::IAM::Policy") {
		assert.NotContains(t, js(p["Roles"]), "TaskRole", "%s: nothing else is attached to the task role", id)
	}
}

func TestCentralCache(t *testing.T) {
	tpl := synth(t, example, nil, nil)[central]
	rg := only(t, tpl, "AWS::ElastiCache::ReplicationGroup")
	assert.Equal(t, "valkey", rg["Engine"])
	assert.Equal(t, true, rg["AtRestEncryptionEnabled"])
	assert.Equal(t, true, rg["TransitEncryptionEnabled"])
	assert.Equal(t, true, rg["MultiAZEnabled"])
	assert.EqualValues(t, 2, rg["NumCacheClusters"])
	assert.Equal(t, "cache.t4g.small", rg["CacheNodeType"])
	// Retained together: a retained cache keeps its users, group and subnets.
	retained := map[string]int{}
	for _, r := range resources(tpl) {
		res := r.(map[string]any)
		if typ := res["Type"].(string); strings.HasPrefix(typ, "AWS::ElastiCache::") {
			assert.Equal(t, "Retain", res["DeletionPolicy"], typ)
			assert.Equal(t, "Retain", res["UpdateReplacePolicy"], typ)
			retained[typ]++
		}
	}
	assert.Equal(t, map[string]int{"AWS::ElastiCache::ReplicationGroup": 1, "AWS::ElastiCache::User": 2, "AWS::ElastiCache::UserGroup": 1, "AWS::ElastiCache::SubnetGroup": 1}, retained)
	users := map[string]map[string]any{}
	for _, u := range byType(tpl, "AWS::ElastiCache::User") {
		users[u["UserName"].(string)] = u
	}
	assert.Equal(t, map[string]any{"Type": "iam"}, users["genai-gateway"]["AuthenticationMode"])
	assert.Equal(t, "genai-gateway", users["genai-gateway"]["UserId"], "IAM auth needs user id = user name")
	assert.True(t, strings.HasPrefix(users["default"]["AccessString"].(string), "off"), "default user disabled")
	for id, sg := range byType(tpl, "AWS::EC2::SecurityGroup") {
		if strings.HasPrefix(id, "CacheSecurityGroup") {
			assert.Nil(t, sg["SecurityGroupIngress"], "no CIDR ingress")
		}
	}
	ingress := js(byType(tpl, "AWS::EC2::SecurityGroupIngress"))
	assert.Contains(t, ingress, `"FromPort":6379`)

	// Left out, cacheReplicas is 1 (as documented): Multi-AZ with one replica.
	omitted := build(t, "omitted.yaml", exampleWith(t, "    cacheReplicas: 1\n", ""), nil)
	rg = only(t, template(omitted.Central.Stack), "AWS::ElastiCache::ReplicationGroup")
	assert.EqualValues(t, 2, rg["NumCacheClusters"])
	assert.Equal(t, true, rg["MultiAZEnabled"])
}

// Every use case gets a routing parameter; a new use case gets one with no code change.
func TestCentralRouting(t *testing.T) {
	grown := withUseCaseE(t)
	tpl := synth(t, "grown.yaml", grown, nil)[central]
	params := map[string]map[string]any{}
	for _, p := range byType(tpl, "AWS::SSM::Parameter") {
		params[p["Name"].(string)] = p
	}
	require.Len(t, params, 5)
	var e struct {
		UseCase              string
		CredentialTTLSeconds int
		Routes               []struct {
			Account, RoleArn, Via string
			Models                map[string][]string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(params["/ACME/GenAIGateway/routing/UseCaseE"]["Value"].(string)), &e))
	assert.Equal(t, "UseCaseE", e.UseCase)
	assert.Equal(t, 900, e.CredentialTTLSeconds)
	require.Len(t, e.Routes, 1)
	assert.Equal(t, "arn:aws:iam::222222222222:role/ACME-GenAI-UseCaseE-BedrockInvokeRole", e.Routes[0].RoleArn)
	assert.Equal(t, map[string][]string{"us-west-2": {"anthropic.claude-3-haiku-20240307-v1:0", "meta.llama3-8b-instruct-v1:0"}}, e.Routes[0].Models)

	var b struct {
		Routes []struct{ RoleArn, Via string }
	}
	require.NoError(t, json.Unmarshal([]byte(params["/ACME/GenAIGateway/routing/UseCaseB"]["Value"].(string)), &b))
	assert.Contains(t, js(b.Routes), `"RoleArn":"arn:aws:iam::333333333333:role/ACME-GenAI-Marketing-BedrockInvokeRole","Via":"group:Marketing"`)
	outputs := js(tpl["Outputs"])
	for _, o := range []string{"AlbDnsName", "CacheEndpoint", "RoutingParameterPath"} {
		assert.Contains(t, outputs, o)
	}
}

// An imported VPC (no lookups) with endpoints, an internet-facing ALB, plain
// HTTP opted in, an image by tag, a created KMS key and a longer timeout:
// served, and the risky choices flagged in the synth output.
func TestCentralVariant(t *testing.T) {
	variant := exampleWith(t, "    internetFacing: false\n    ingressCidrs: [10.0.0.0/8]\n", `    internetFacing: true
    allowPlainHttp: true
    requestTimeoutSeconds: 900
    createKmsKey: true
    vpc:
      id: vpc-0123456789abcdef0
      cidr: 10.20.0.0/16
      availabilityZones: [us-east-1a, us-east-1b]
      publicSubnetIds: [subnet-0aaaaaaaaaaaaaaa1, subnet-0aaaaaaaaaaaaaaa2]
      privateSubnetIds: [subnet-0bbbbbbbbbbbbbbb1, subnet-0bbbbbbbbbbbbbbb2]
      privateRouteTableIds: [rtb-0ccccccccccccccc1, rtb-0ccccccccccccccc2]
      createEndpoints: true
`, "cacheReplicas: 1", "cacheReplicas: 2", gatewayAnchor, "    image: 111111111111.dkr.ecr.us-east-1.amazonaws.com/genai-gateway:2.3.0\n"+gatewayAnchor)
	built := build(t, "variant.yaml", variant, nil)
	tpl := template(built.Central.Stack)

	assert.Empty(t, byType(tpl, "AWS::EC2::VPC"), "imported, not created")
	assert.Empty(t, byType(tpl, "AWS::EC2::NatGateway"))
	assert.Len(t, byType(tpl, "AWS::EC2::VPCEndpoint"), 7, "createEndpoints")
	for _, e := range byType(tpl, "AWS::EC2::VPCEndpoint") {
		if e["VpcEndpointType"] == "Gateway" {
			assert.Equal(t, []any{"rtb-0ccccccccccccccc1", "rtb-0ccccccccccccccc2"}, e["RouteTableIds"])
		}
	}
	lb := only(t, tpl, "AWS::ElasticLoadBalancingV2::LoadBalancer")
	assert.Equal(t, "internet-facing", lb["Scheme"])
	assert.Contains(t, js(lb["LoadBalancerAttributes"]), `{"Key":"idle_timeout.timeout_seconds","Value":"915"}`)
	task := only(t, tpl, "AWS::ECS::TaskDefinition")
	container := task["ContainerDefinitions"].([]any)[0].(map[string]any)
	assert.Equal(t, "900", containerEnv(t, container)["REQUEST_TIMEOUT_SECONDS"])
	assert.Contains(t, js(container["Image"]), "genai-gateway:2.3.0")
	assert.Contains(t, js(only(t, tpl, "AWS::ElastiCache::SubnetGroup")["SubnetIds"]), "subnet-0bbbbbbbbbbbbbbb1")
	rg := only(t, tpl, "AWS::ElastiCache::ReplicationGroup")
	assert.Equal(t, true, rg["MultiAZEnabled"])
	assert.Equal(t, float64(3), rg["NumCacheClusters"])

	// The created key: rotated, retained, used by the cache and both kinds of
	// log group, and open to CloudWatch Logs of this region for this account's log groups only.
	var keyID string
	for id, r := range resources(tpl) {
		if res := r.(map[string]any); res["Type"] == "AWS::KMS::Key" {
			keyID = id
			assert.Equal(t, "Retain", res["DeletionPolicy"])
			props := res["Properties"].(map[string]any)
			assert.Equal(t, true, props["EnableKeyRotation"])
			policy := js(props["KeyPolicy"])
			assert.Contains(t, policy, `"Principal":{"Service":"logs.us-east-1.amazonaws.com"}`)
			assert.Contains(t, policy, `"Condition":{"ArnLike":{"kms:EncryptionContext:aws:logs:arn":"arn:aws:logs:us-east-1:111111111111:log-group:*"}}`)
		}
	}
	require.NotEmpty(t, keyID)
	keyArn := map[string]any{"Fn::GetAtt": []any{keyID, "Arn"}}
	assert.Equal(t, keyArn, rg["KmsKeyId"])
	for id, lg := range byType(tpl, "AWS::Logs::LogGroup") {
		assert.Equal(t, keyArn, lg["KmsKeyId"], id)
	}

	var plain map[string]any
	for _, l := range byType(tpl, "AWS::ElasticLoadBalancingV2::Listener") {
		if l["Protocol"] == "HTTP" {
			plain = l
		}
	}
	require.NotNil(t, plain)
	assert.Contains(t, js(plain["DefaultActions"]), `"Type":"forward"`)
	ann := assertions.Annotations_FromStack(built.Central.Stack)
	for _, want := range []string{"plain HTTP", "pinned by tag.*name it by digest"} {
		warnings := ann.FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String(want)))
		assert.Len(t, *warnings, 1, want)
	}
	errs := ann.FindError(jsii.String("*"), assertions.Match_AnyValue())
	assert.Empty(t, *errs)
}

// Without central.gateway.image the gateway is built from the repository as
// a Docker image asset: synth stages only what the build needs, and needs no Docker.
func TestCentralImageAsset(t *testing.T) {
	src := t.TempDir()
	for _, f := range []string{"go.mod", "go.sum", "cmd/gateway/Dockerfile", "cmd/gateway/main.go", "internal/gateway/proxy.go", "internal/gateway/proxy_test.go",
		"internal/gateway/testdata/jwks.json", "config/usecases.yaml", "node_modules/aws-cdk/package.json", "cdk.out/manifest.json", "test/central_test.go", ".git/HEAD", "README.md", "cmd/estatectl/main.go"} {
		require.NoError(t, os.MkdirAll(filepath.Join(src, filepath.Dir(f)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(src, f), []byte(f), 0o644))
	}
	data := exampleWith(t)
	c, err := config.Parse("asset.yaml", data)
	require.NoError(t, err)
	e, err := estate.Build(c)
	require.NoError(t, err)
	out := t.TempDir()
	app := awscdk.NewApp(&awscdk.AppProps{Context: withFlags(t, nil), Outdir: jsii.String(out)})
	s := stacks.NewCentralStack(app, central, &stacks.CentralStackProps{Estate: e, GatewaySource: src})
	tpl := template(s.Stack)
	container := only(t, tpl, "AWS::ECS::TaskDefinition")["ContainerDefinitions"].([]any)[0].(map[string]any)
	assert.Regexp(t, `cdk-hnb659fds-container-assets-111111111111-us-east-1:[0-9a-f]{64}`, js(container["Image"]))

	var manifest struct {
		DockerImages map[string]struct {
			Source struct {
				Directory, DockerFile, Platform string
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(out, central+".assets.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &manifest))
	require.Len(t, manifest.DockerImages, 1)
	for _, img := range manifest.DockerImages {
		assert.Equal(t, "cmd/gateway/Dockerfile", img.Source.DockerFile)
		assert.Equal(t, "linux/arm64", img.Source.Platform, "the example runs on ARM64")
		var staged []string
		root := filepath.Join(out, img.Source.Directory)
		require.NoError(t, filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(root, p)
				staged = append(staged, filepath.ToSlash(rel))
			}
			return err
		}))
		assert.ElementsMatch(t, []string{"go.mod", "go.sum", "cmd/gateway/Dockerfile", "cmd/gateway/main.go", "internal/gateway/proxy.go", "config/usecases.yaml"}, staged,
			"only the build's inputs: no node_modules, cdk.out, test, .git, tests or other commands")
	}
	assert.Empty(t, *assertions.Annotations_FromStack(s.Stack).FindError(jsii.String("*"), assertions.Match_AnyValue()))

	// No Dockerfile where the gateway is looked for: a located synth error, not a panic.
	app = awscdk.NewApp(&awscdk.AppProps{Context: withFlags(t, inspectErrors), Outdir: jsii.String(t.TempDir())})
	s = stacks.NewCentralStack(app, central, &stacks.CentralStackProps{Estate: e, GatewaySource: t.TempDir()})
	errs := assertions.Annotations_FromStack(s.Stack).FindError(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("cmd/gateway/Dockerfile was not found.*set central.gateway.image")))
	assert.Len(t, *errs, 1)
}

// Config errors of the gateway section: located (line and path), explained.
func TestCentralConfigErrors(t *testing.T) {
	tests := []struct {
		name, old, new string
		path, problem  string
	}{
		{"client secrets are gone", gatewayAnchor, "    clientSecretArns: [arn:aws:secretsmanager:us-east-1:111111111111:secret:genai/okta-client-AbCdEf]\n" + gatewayAnchor,
			"central.gateway.clientSecretArns", "callers now authenticate with their own IdP tokens"},
		{"central provider is gone", "  gateway:\n", "  oidcProviderArn: arn:aws:iam::111111111111:oidc-provider/acme.okta.com/oauth2/default\n  gateway:\n",
			"central.oidcProviderArn", "registers no IAM OIDC provider"},
		{"public vpc cidr", gatewayAnchor, "    vpcCidr: 8.8.0.0/16\n" + gatewayAnchor, "central.gateway.vpcCidr", "not a private range"},
		{"vpc cidr too large", gatewayAnchor, "    vpcCidr: 10.0.0.0/8\n" + gatewayAnchor, "central.gateway.vpcCidr", "outside /16 to /24"},
		{"vpc cidr too small", gatewayAnchor, "    vpcCidr: 10.0.0.0/25\n" + gatewayAnchor, "central.gateway.vpcCidr", "outside /16 to /24"},
		{"vpc cidr host bits", gatewayAnchor, "    vpcCidr: 10.0.0.1/16\n" + gatewayAnchor, "central.gateway.vpcCidr", "host bits"},
		{"vpc cidr not a cidr", gatewayAnchor, "    vpcCidr: ten-oh\n" + gatewayAnchor, "central.gateway.vpcCidr", "not an IPv4 CIDR"},
		{"timeout too long", gatewayAnchor, "    requestTimeoutSeconds: 4000\n" + gatewayAnchor, "central.gateway.requestTimeoutSeconds", "4000 is out of range (1 to 3600)"},
		{"timeout negative", gatewayAnchor, "    requestTimeoutSeconds: -5\n" + gatewayAnchor, "central.gateway.requestTimeoutSeconds", "-5 is out of range (1 to 3600)"},
		{"single-node cache", "    cacheReplicas: 1\n", "    cacheReplicas: 0\n", "central.gateway.cacheReplicas", "0 is out of range (1 to 5)"},
		{"kms key of another region", gatewayAnchor, "    kmsKeyArn: arn:aws:kms:eu-west-1:111111111111:key/0f3c4a2e-1b7d-4c55-9e2a-6d8f1a2b3c4d\n" + gatewayAnchor, "central.gateway.kmsKeyArn", "the key is in eu-west-1"},
		{"kms alias", gatewayAnchor, "    kmsKeyArn: arn:aws:kms:us-east-1:111111111111:alias/genai\n" + gatewayAnchor, "central.gateway.kmsKeyArn", "not a KMS key ARN"},
		{"jwks of an unknown IdP", "issuerUrl: https://acme.okta.com/oauth2/default", "issuerUrl: https://idp.acme.example/realms/genai", "identityProvider.jwksUrl", "not known for this issuer"},
		{"jwks over http", "issuerUrl: https://acme.okta.com/oauth2/default\n", "issuerUrl: https://acme.okta.com/oauth2/default\n  jwksUrl: http://acme.okta.com/keys\n", "identityProvider.jwksUrl", "not an https JWKS URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := exampleWith(t, tc.old, tc.new)
			_, err := config.Parse("bad.yaml", data)
			require.Error(t, err)
			var list config.ErrorList
			require.True(t, errors.As(err, &list), "%v", err)
			var found *config.Error
			for _, e := range list {
				if e.Path == tc.path {
					found = e
				}
			}
			require.NotNil(t, found, "no error at %s in:\n%v", tc.path, err)
			assert.Contains(t, found.Problem, tc.problem)
			assert.NotEmpty(t, found.Fix)
			// The line that names the key, or for a missing key its parent's first line.
			key := tc.path[strings.LastIndex(tc.path, ".")+1:]
			want := lineOf(data, "  "+key+":")
			if want == 0 {
				want = lineOf(data, "  name: Okta")
			}
			assert.Equal(t, want, found.Line, "%v", found)
		})
	}
}

// lineOf is the first line that holds s after its indentation.
func lineOf(data []byte, s string) int {
	for i, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(strings.TrimLeft(l, " "), strings.TrimLeft(s, " ")) {
			return i + 1
		}
	}
	return 0
}

// A pinned image is used as given: by digest, with no warning and no asset.
func TestCentralPinnedImage(t *testing.T) {
	built := build(t, "pinned.yaml", exampleWith(t, gatewayAnchor, pinnedImage+gatewayAnchor), nil)
	task := only(t, template(built.Central.Stack), "AWS::ECS::TaskDefinition")
	image := js(task["ContainerDefinitions"].([]any)[0].(map[string]any)["Image"])
	assert.Contains(t, image, "111111111111.dkr.ecr.us-east-1.")
	assert.Contains(t, image, "/genai-gateway@sha256:69673fa811a34bd1c61fce66250f7c956b4e312109fe1e813d27a52df940e4ce")
	assert.NotContains(t, image, "container-assets")
	ann := assertions.Annotations_FromStack(built.Central.Stack)
	assert.Empty(t, *ann.FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("pinned by tag"))))
}

// An imported key encrypts the cache and the log groups; no key is created.
func TestCentralImportedKey(t *testing.T) {
	const key = "arn:aws:kms:us-east-1:111111111111:key/0f3c4a2e-1b7d-4c55-9e2a-6d8f1a2b3c4d"
	built := build(t, "key.yaml", exampleWith(t, gatewayAnchor, "    kmsKeyArn: "+key+"\n"+gatewayAnchor), nil)
	tpl := template(built.Central.Stack)
	assert.Empty(t, byType(tpl, "AWS::KMS::Key"))
	assert.Equal(t, key, only(t, tpl, "AWS::ElastiCache::ReplicationGroup")["KmsKeyId"])
	groups := byType(tpl, "AWS::Logs::LogGroup")
	require.Len(t, groups, 2, "gateway and flow logs")
	for id, lg := range groups {
		assert.Equal(t, key, lg["KmsKeyId"], id)
	}
}
