package test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const central = "ACME-GenAIGateway-Central"

func js(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestCentralIdPAndNetwork(t *testing.T) {
	tpl := synth(t, example, nil, nil)[central]
	require.NotNil(t, tpl)
	idp := byType(tpl, "AWS::IAM::OIDCProvider")
	require.Contains(t, idp, "ACMEIdPOkta")
	assert.Contains(t, js(idp["ACMEIdPOkta"]["Tags"]), `{"Key":"Name","Value":"ACME-IdP-Okta"}`)
	assert.Len(t, byType(tpl, "AWS::EC2::VPC"), 1)
	assert.Len(t, byType(tpl, "AWS::EC2::Subnet"), 4, "two AZs, public and private")
	assert.Len(t, byType(tpl, "AWS::EC2::FlowLog"), 1)
}

func TestCentralALB(t *testing.T) {
	tpl := synth(t, example, nil, nil)[central]
	lb := only(t, tpl, "AWS::ElasticLoadBalancingV2::LoadBalancer")
	assert.Equal(t, "internal", lb["Scheme"])
	attrs := js(lb["LoadBalancerAttributes"])
	for _, want := range []string{`{"Key":"routing.http.drop_invalid_header_fields.enabled","Value":"true"}`, `{"Key":"routing.http.desync_mitigation_mode","Value":"defensive"}`, `{"Key":"access_logs.s3.enabled","Value":"true"}`} {
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

func TestCentralService(t *testing.T) {
	tpl := synth(t, example, nil, nil)[central]
	task := only(t, tpl, "AWS::ECS::TaskDefinition")
	assert.Equal(t, "1024", task["Cpu"])
	assert.Equal(t, "2048", task["Memory"])
	assert.Equal(t, map[string]any{"CpuArchitecture": "ARM64", "OperatingSystemFamily": "LINUX"}, task["RuntimePlatform"])
	assert.NotEqual(t, js(task["TaskRoleArn"]), js(task["ExecutionRoleArn"]), "separate execution role")
	container := task["ContainerDefinitions"].([]any)[0].(map[string]any)
	assert.Contains(t, js(container["Image"]), "genai-gateway:2.3.0")
	env := map[string]any{}
	for _, e := range container["Environment"].([]any) {
		m := e.(map[string]any)
		env[m["Name"].(string)] = m["Value"]
	}
	for _, k := range []string{"CACHE_ENDPOINT", "CACHE_USER", "ROUTING_PARAMETER_PATH", "IDP_ISSUER_URL", "IDP_AUDIENCE", "CREDENTIAL_TTL_SECONDS"} {
		assert.Contains(t, env, k)
	}
	assert.Equal(t, "/ACME/GenAIGateway/routing", env["ROUTING_PARAMETER_PATH"])
	assert.Equal(t, "900", env["CREDENTIAL_TTL_SECONDS"])
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
	read := []string{"ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"}
	assert.Equal(t, map[string][]string{
		"arn:aws:elasticache:us-east-1:111111111111:replicationgroup:acme-genai-gateway": {"elasticache:Connect"},
		"arn:aws:elasticache:us-east-1:111111111111:user:genai-gateway":                  {"elasticache:Connect"},
		"arn:aws:ssm:us-east-1:111111111111:parameter/ACME/GenAIGateway/routing":         read,
		"arn:aws:ssm:us-east-1:111111111111:parameter/ACME/GenAIGateway/routing/*":       read,
		"arn:aws:secretsmanager:us-east-1:111111111111:secret:genai/okta-client-AbCdEf":  {"secretsmanager:GetSecretValue"},
	}, grants)
	assert.NotContains(t, js(role["Policies"]), "sts:", "AssumeRoleWithWebIdentity needs no caller permission")
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
	for id, r := range resources(tpl) {
		if r.(map[string]any)["Type"] == "AWS::ElastiCache::ReplicationGroup" {
			assert.Equal(t, "Retain", r.(map[string]any)["DeletionPolicy"], id)
		}
	}
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

// An imported VPC (no lookups), an internet-facing ALB, and plain HTTP opted
// in: served, and flagged in the synth output.
func TestCentralVariant(t *testing.T) {
	data, err := os.ReadFile(example)
	require.NoError(t, err)
	variant := strings.Replace(strings.Replace(string(data), "    internetFacing: false\n    ingressCidrs: [10.0.0.0/8]\n", `    internetFacing: true
    allowPlainHttp: true
    vpc:
      id: vpc-0123456789abcdef0
      cidr: 10.20.0.0/16
      availabilityZones: [us-east-1a, us-east-1b]
      publicSubnetIds: [subnet-0aaaaaaaaaaaaaaa1, subnet-0aaaaaaaaaaaaaaa2]
      privateSubnetIds: [subnet-0bbbbbbbbbbbbbbb1, subnet-0bbbbbbbbbbbbbbb2]
`, 1), "cacheReplicas: 1", "cacheReplicas: 2", 1)
	require.NotEqual(t, string(data), variant)
	built := build(t, "variant.yaml", []byte(variant), nil)
	tpl := template(built.Central.Stack)

	assert.Empty(t, byType(tpl, "AWS::EC2::VPC"), "imported, not created")
	assert.Equal(t, "internet-facing", only(t, tpl, "AWS::ElasticLoadBalancingV2::LoadBalancer")["Scheme"])
	assert.Contains(t, js(only(t, tpl, "AWS::ElastiCache::SubnetGroup")["SubnetIds"]), "subnet-0bbbbbbbbbbbbbbb1")
	rg := only(t, tpl, "AWS::ElastiCache::ReplicationGroup")
	assert.Equal(t, true, rg["MultiAZEnabled"])
	assert.Equal(t, float64(3), rg["NumCacheClusters"])
	var plain map[string]any
	for _, l := range byType(tpl, "AWS::ElasticLoadBalancingV2::Listener") {
		if l["Protocol"] == "HTTP" {
			plain = l
		}
	}
	require.NotNil(t, plain)
	assert.Contains(t, js(plain["DefaultActions"]), `"Type":"forward"`)
	ann := assertions.Annotations_FromStack(built.Central.Stack)
	warnings := ann.FindWarning(jsii.String("*"), assertions.Match_StringLikeRegexp(jsii.String("plain HTTP")))
	assert.Len(t, *warnings, 1, "plain HTTP is flagged")
	errs := ann.FindError(jsii.String("*"), assertions.Match_AnyValue())
	assert.Empty(t, *errs)
}
