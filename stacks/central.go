package stacks

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapplicationautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecr"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecrassets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticache"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/arn"
	"github.com/acme/genai-estate/internal/catalog"
	"github.com/acme/genai-estate/internal/deployplan"
	"github.com/acme/genai-estate/internal/estate"
	"github.com/acme/genai-estate/internal/gateway/env"
	"github.com/acme/genai-estate/internal/naming"
)

// CentralStackProps configures the central gateway account's stack.
type CentralStackProps struct {
	awscdk.StackProps
	Estate *estate.Estate
	// GatewaySource is the repository root the gateway image is built from
	// when central.gateway.image is not set. Default: the nearest directory
	// holding cmd/gateway/Dockerfile, from the working directory upwards
	// (cdk synth runs at the root, go test in a package directory).
	GatewaySource string
}

// CentralStack holds the gateway: network, ALB, Fargate service, credential
// cache, task role and routing data. It registers no IAM OIDC provider: STS
// checks a web identity token against the provider in the account of the
// role assumed, and no role in this account trusts one.
type CentralStack struct {
	awscdk.Stack
	VPC           awsec2.IVpc
	LoadBalancer  elbv2.ApplicationLoadBalancer
	Service       awsecs.FargateService
	TaskRole      awsiam.Role
	ExecutionRole awsiam.Role
	Cache         awselasticache.CfnReplicationGroup
	CacheUser     awselasticache.CfnUser
	Routing       map[string]awsssm.StringParameter // by use case
	// Key is the customer-managed key of the cache and log groups, or nil.
	Key awskms.IKey
	// Environment is the gateway container's environment, by variable name.
	Environment map[string]*string
}

// Cache identifiers: IAM authentication needs the user id to equal its name.
const (
	cachePort   = env.DefaultCachePort
	cacheUserID = "genai-gateway"
)

// The gateway image: its Dockerfile, relative to the build context (the
// repository root), and the only paths the build needs. Everything else
// (node_modules, cdk.out, test, .git) stays out of the staged context, so
// the asset hash moves only when the gateway's inputs do.
const gatewayDockerfile = "cmd/gateway/Dockerfile"

var gatewayContext = []string{"*", "!go.mod", "!go.sum", "!cmd/gateway", "!internal", "!config", "**/*_test.go", "**/testdata"}

// nonRootUser is distroless's nonroot user, as in cmd/gateway/Dockerfile.
const nonRootUser = "65532"

// CentralStackName is the central stack's name.
func CentralStackName(c *config.Config) string { return deployplan.CentralStackName(c) }

// NewCentralStack creates the stack.
func NewCentralStack(scope constructs.Construct, id string, props *CentralStackProps) *CentralStack {
	e := props.Estate
	c, cen := e.Config, e.Config.Central
	sp := props.StackProps
	sp.Env = &awscdk.Environment{Account: jsii.String(cen.Account), Region: jsii.String(cen.Region)}
	if sp.Description == nil {
		sp.Description = jsii.String("Central GenAI gateway account: ALB with JWT verification, ECS Fargate gateway, credential cache, routing data")
	}
	s := &CentralStack{Stack: awscdk.NewStack(scope, jsii.String(id), &sp), Routing: map[string]awsssm.StringParameter{}}
	g := cen.Gateway
	if g == nil {
		return s
	}
	if g.VPC == nil {
		// The new VPC's AZs are fixed here; answering CDK's AZ lookup from
		// them keeps synth offline and deterministic.
		key := fmt.Sprintf("availability-zones:account=%s:region=%s", cen.Account, cen.Region)
		s.Node().SetContext(jsii.String(key), newVPCZones(cen.Region))
	}
	part, _ := catalog.Partition(cen.Region)
	s.Key = s.kmsKey(g, part, cen.Region, cen.Account)

	s.VPC = s.network(g, cen.Region, cen.Account)
	private := &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS}

	// Security groups admit only what each hop needs.
	albSG := awsec2.NewSecurityGroup(s.Stack, jsii.String("AlbSecurityGroup"), &awsec2.SecurityGroupProps{Vpc: s.VPC, AllowAllOutbound: jsii.Bool(false), Description: jsii.String("Gateway ALB: HTTPS (and HTTP for the redirect) from the allowed CIDRs")})
	svcSG := awsec2.NewSecurityGroup(s.Stack, jsii.String("ServiceSecurityGroup"), &awsec2.SecurityGroupProps{Vpc: s.VPC, AllowAllOutbound: jsii.Bool(false), Description: jsii.String("Gateway tasks: the container port from the ALB; out to HTTPS (endpoints, STS and Bedrock of other regions, the IdP) and the cache")})
	cacheSG := awsec2.NewSecurityGroup(s.Stack, jsii.String("CacheSecurityGroup"), &awsec2.SecurityGroupProps{Vpc: s.VPC, AllowAllOutbound: jsii.Bool(false), Description: jsii.String("Credential cache: the cache port from the gateway tasks only")})
	cidrs := g.IngressCidrs
	if len(cidrs) == 0 {
		if g.InternetFacing {
			cidrs = []string{"0.0.0.0/0"}
		} else {
			cidrs = []string{*s.VPC.VpcCidrBlock()}
		}
	}
	if g.InternetFacing && slices.Contains(cidrs, "0.0.0.0/0") {
		cdknag.NagSuppressions_AddResourceSuppressions(albSG, &[]*cdknag.NagPackSuppression{{
			Id: jsii.String("AwsSolutions-EC23"), Reason: jsii.String("central.gateway.internetFacing is set without ingressCidrs: a public HTTPS endpoint (port 80 only redirects)."),
		}}, nil)
	}
	for _, cidr := range cidrs {
		albSG.AddIngressRule(awsec2.Peer_Ipv4(jsii.String(cidr)), awsec2.Port_Tcp(jsii.Number(443)), jsii.String("HTTPS"), nil)
		albSG.AddIngressRule(awsec2.Peer_Ipv4(jsii.String(cidr)), awsec2.Port_Tcp(jsii.Number(80)), jsii.String("HTTP, redirected to HTTPS"), nil)
	}
	albSG.AddEgressRule(svcSG, awsec2.Port_Tcp(jsii.Number(float64(g.Port))), jsii.String("to the gateway tasks"), nil)
	svcSG.AddIngressRule(albSG, awsec2.Port_Tcp(jsii.Number(float64(g.Port))), jsii.String("from the ALB"), nil)
	cacheSG.AddIngressRule(svcSG, awsec2.Port_Tcp(jsii.Number(cachePort)), jsii.String("from the gateway tasks"), nil)
	// HTTPS anywhere: the VPC endpoints, and through the NAT gateways STS and
	// Bedrock of other regions and the IdP's JWKS; the cache on its port only.
	svcSG.AddEgressRule(awsec2.Peer_AnyIpv4(), awsec2.Port_Tcp(jsii.Number(443)), jsii.String("HTTPS: VPC endpoints, AWS APIs of other regions, the IdP"), nil)
	svcSG.AddEgressRule(cacheSG, awsec2.Port_Tcp(jsii.Number(cachePort)), jsii.String("to the credential cache"), nil)
	if g.VPC == nil || g.VPC.CreateEndpoints {
		s.endpoints(g, svcSG, private)
	}

	// ALB with access logs, TLS 1.3 policy, header hygiene.
	logs := awss3.NewBucket(s.Stack, jsii.String("AlbAccessLogs"), &awss3.BucketProps{
		Encryption: awss3.BucketEncryption_S3_MANAGED, BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		EnforceSSL: jsii.Bool(true), RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
		LifecycleRules: &[]*awss3.LifecycleRule{{Expiration: awscdk.Duration_Days(jsii.Number(365))}},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(logs, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-S1"), Reason: jsii.String("This bucket receives the ALB's access logs; logging it into itself would loop."),
	}}, nil)
	subnets := private
	if g.InternetFacing {
		subnets = &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PUBLIC}
	}
	s.LoadBalancer = elbv2.NewApplicationLoadBalancer(s.Stack, jsii.String("Alb"), &elbv2.ApplicationLoadBalancerProps{
		Vpc: s.VPC, InternetFacing: jsii.Bool(g.InternetFacing), SecurityGroup: albSG, VpcSubnets: subnets,
		DropInvalidHeaderFields: jsii.Bool(true), DesyncMitigationMode: elbv2.DesyncMitigationMode_DEFENSIVE,
		DeletionProtection: jsii.Bool(true),
		// The gateway times a request out first, so the caller gets its answer.
		IdleTimeout: awscdk.Duration_Seconds(jsii.Number(float64(g.RequestTimeoutSeconds + config.ALBIdleMarginSeconds))),
	})
	s.LoadBalancer.LogAccessLogs(logs, jsii.String("alb"))
	https := s.LoadBalancer.AddListener(jsii.String("Https"), &elbv2.BaseApplicationListenerProps{
		Port: jsii.Number(443), Protocol: elbv2.ApplicationProtocol_HTTPS, Open: jsii.Bool(false),
		Certificates: &[]elbv2.IListenerCertificate{elbv2.ListenerCertificate_FromArn(jsii.String(g.CertificateArn))},
		SslPolicy:    elbv2.SslPolicy_RECOMMENDED_TLS, // ELBSecurityPolicy-TLS13-1-2-2021-06
	})

	// Roles: the task role can do exactly what the gateway needs.
	cacheARN := func(kind, id string) string {
		return arn.Regional(part, "elasticache", cen.Region, cen.Account, kind+":"+id)
	}
	rgID := strings.ToLower(c.Org) + "-genai-gateway"
	routingPath := estate.RoutingPath(c)
	paramARN := arn.Regional(part, "ssm", cen.Region, cen.Account, "parameter"+routingPath)
	statements := []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Sid: jsii.String("ConnectToCredentialCache"), Actions: jsii.Strings("elasticache:Connect"),
			Resources: jsii.Strings(cacheARN("replicationgroup", rgID), cacheARN("user", cacheUserID))}),
		// Parameter Store authorises GetParametersByPath against the path in
		// the request, and GetParameter against the parameter named.
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Sid: jsii.String("ReadRoutingData"), Actions: jsii.Strings("ssm:GetParametersByPath"),
			Resources: jsii.Strings(paramARN)}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Sid: jsii.String("ReadRoutingParameter"), Actions: jsii.Strings("ssm:GetParameter"),
			Resources: jsii.Strings(paramARN + "/*")}),
	}
	s.TaskRole = awsiam.NewRole(s.Stack, jsii.String("TaskRole"), &awsiam.RoleProps{
		RoleName:    jsii.String(naming.TaskRole{Org: c.Org}.String()),
		Description: jsii.String("GenAI gateway tasks: cache connect, own routing data. AssumeRoleWithWebIdentity with the caller's token needs no permission."),
		AssumedBy: awsiam.NewServicePrincipal(jsii.String("ecs-tasks.amazonaws.com"), &awsiam.ServicePrincipalOpts{
			Conditions: &map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": cen.Account}},
		}),
		InlinePolicies: &map[string]awsiam.PolicyDocument{"Gateway": awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{Statements: &statements})},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(s.TaskRole, &[]*cdknag.NagPackSuppression{{
		Id:        jsii.String("AwsSolutions-IAM5"),
		Reason:    jsii.String("The gateway reads the routing parameters under its own path only; one parameter per use case, so the set grows without a role change."),
		AppliesTo: &[]any{jsii.String("Resource::" + paramARN + "/*")},
	}}, jsii.Bool(true))
	s.ExecutionRole = awsiam.NewRole(s.Stack, jsii.String("ExecutionRole"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("ecs-tasks.amazonaws.com"), nil),
		Description: jsii.String("ECS agent: pull the gateway image and write its logs"),
	})

	// Credential cache: Valkey with IAM auth, default user disabled.
	var subnetIDs []any
	for _, id := range *s.VPC.SelectSubnets(private).SubnetIds {
		subnetIDs = append(subnetIDs, id)
	}
	cacheSubnets := awselasticache.NewCfnSubnetGroup(s.Stack, jsii.String("CacheSubnets"), &awselasticache.CfnSubnetGroupProps{
		Description: jsii.String("Private subnets of the credential cache"), SubnetIds: &subnetIDs,
	})
	cacheSubnets.ApplyRemovalPolicy(awscdk.RemovalPolicy_RETAIN, nil)
	s.CacheUser = awselasticache.NewCfnUser(s.Stack, jsii.String("CacheUser"), &awselasticache.CfnUserProps{
		UserId: jsii.String(cacheUserID), UserName: jsii.String(cacheUserID), Engine: jsii.String("valkey"),
		AccessString:       jsii.String("on ~* +@all -@dangerous"),
		AuthenticationMode: map[string]any{"Type": "iam"},
	})
	disabled := awselasticache.NewCfnUser(s.Stack, jsii.String("CacheDefaultUser"), &awselasticache.CfnUserProps{
		UserId: jsii.String(cacheUserID + "-default-off"), UserName: jsii.String("default"), Engine: jsii.String("valkey"),
		AccessString: jsii.String("off -@all"), NoPasswordRequired: jsii.Bool(true),
	})
	group := awselasticache.NewCfnUserGroup(s.Stack, jsii.String("CacheUserGroup"), &awselasticache.CfnUserGroupProps{
		UserGroupId: jsii.String(cacheUserID), Engine: jsii.String("valkey"), UserIds: jsii.Strings(cacheUserID, cacheUserID+"-default-off"),
	})
	group.AddResourceDependency(s.CacheUser, jsii.String("the group lists the user"))
	group.AddResourceDependency(disabled, jsii.String("the group lists the disabled default user"))
	// Retained with the cache: a retained cache whose user group and users
	// were deleted (or replaced) could no longer be authenticated against, and
	// CloudFormation cannot delete a group still attached to a cache.
	for _, r := range []awscdk.CfnResource{s.CacheUser, disabled, group} {
		r.ApplyRemovalPolicy(awscdk.RemovalPolicy_RETAIN, nil)
	}
	var kmsKeyID *string
	if s.Key != nil {
		kmsKeyID = s.Key.KeyArn()
	}
	s.Cache = awselasticache.NewCfnReplicationGroup(s.Stack, jsii.String("Cache"), &awselasticache.CfnReplicationGroupProps{
		ReplicationGroupId:          jsii.String(rgID),
		ReplicationGroupDescription: jsii.String("GenAI gateway STS credential cache"),
		Engine:                      jsii.String("valkey"), EngineVersion: jsii.String("8.0"),
		CacheNodeType:            jsii.String(g.CacheNodeType),
		NumCacheClusters:         jsii.Number(float64(g.CacheReplicas + 1)),
		AutomaticFailoverEnabled: jsii.Bool(true), MultiAzEnabled: jsii.Bool(true),
		AtRestEncryptionEnabled: jsii.Bool(true), TransitEncryptionEnabled: jsii.Bool(true), KmsKeyId: kmsKeyID,
		UserGroupIds:         jsii.Strings(cacheUserID),
		CacheSubnetGroupName: cacheSubnets.Ref(),
		SecurityGroupIds:     jsii.Strings(*cacheSG.SecurityGroupId()),
		Port:                 jsii.Number(cachePort),
	})
	s.Cache.AddResourceDependency(group, jsii.String("the cache authenticates through the user group"))
	s.Cache.ApplyRemovalPolicy(awscdk.RemovalPolicy_RETAIN, nil)
	cdknag.NagSuppressions_AddResourceSuppressions(s.Cache, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-AEC5"), Reason: jsii.String("The default port is reachable only from the gateway tasks' security group; a non-default port adds no protection here."),
	}, {
		Id: jsii.String("AwsSolutions-AEC6"), Reason: jsii.String("Clients authenticate with IAM through an RBAC user group (the default user is disabled), which replaces a shared AUTH token."),
	}}, nil)

	// Routing data: one parameter per use case, computed in Go and size-checked.
	for _, p := range e.Routing {
		tier := awsssm.ParameterTier_STANDARD
		if p.Advanced {
			tier = awsssm.ParameterTier_ADVANCED
		}
		s.Routing[p.UseCase] = awsssm.NewStringParameter(s.Stack, jsii.String("Routing"+p.UseCase), &awsssm.StringParameterProps{
			ParameterName: jsii.String(p.Name), StringValue: jsii.String(p.Value), Tier: tier,
			Description: jsii.String("Gateway routing of use case " + p.UseCase),
		})
	}

	// The gateway service.
	cluster := awsecs.NewCluster(s.Stack, jsii.String("Cluster"), &awsecs.ClusterProps{Vpc: s.VPC, ContainerInsightsV2: awsecs.ContainerInsights_ENABLED})
	arch := awsecs.CpuArchitecture_X86_64()
	if g.ARM64 {
		arch = awsecs.CpuArchitecture_ARM64()
	}
	task := awsecs.NewFargateTaskDefinition(s.Stack, jsii.String("Task"), &awsecs.FargateTaskDefinitionProps{
		Cpu: jsii.Number(float64(g.CPU)), MemoryLimitMiB: jsii.Number(float64(g.MemoryMB)),
		TaskRole: s.TaskRole, ExecutionRole: s.ExecutionRole,
		RuntimePlatform: &awsecs.RuntimePlatform{CpuArchitecture: arch, OperatingSystemFamily: awsecs.OperatingSystemFamily_LINUX()},
	})
	// Exactly what the gateway reads (internal/gateway/env); settings the
	// config does not expose keep the gateway's own defaults, written out.
	s.Environment = map[string]*string{
		env.Port:                    jsii.String(strconv.Itoa(g.Port)),
		env.RoutingParameterPath:    jsii.String(routingPath),
		env.RoutingRefreshSeconds:   jsii.String(strconv.Itoa(env.DefaultRoutingRefreshSeconds)),
		env.IdPIssuerURL:            jsii.String(c.IdentityProvider.IssuerURL),
		env.IdPAudience:             jsii.String(strings.Join(c.IdentityProvider.Audiences, ",")),
		env.IdPJWKSURL:              jsii.String(c.IdentityProvider.JWKS()),
		env.CacheEndpoint:           s.Cache.AttrPrimaryEndPointAddress(),
		env.CachePort:               jsii.String(strconv.Itoa(cachePort)),
		env.CacheUser:               jsii.String(cacheUserID),
		env.CacheReplicationGroupID: jsii.String(rgID),
		env.CacheTLS:                jsii.String("true"),
		env.CacheIAMAuth:            jsii.String("true"),
		env.CredentialTTLSeconds:    jsii.String(strconv.Itoa(g.CredentialTTLSeconds)),
		env.RequestTimeoutSeconds:   jsii.String(strconv.Itoa(g.RequestTimeoutSeconds)),
		env.MaxBodyBytes:            jsii.String(strconv.Itoa(env.DefaultMaxBodyBytes)),
	}
	logGroup := retainedLogGroup(s.Stack, "GatewayLogs", g.LogRetentionDays)
	s.encrypt(logGroup)
	task.AddContainer(jsii.String("Gateway"), &awsecs.ContainerDefinitionOptions{
		Image:        s.image(g, props.GatewaySource, part),
		Logging:      awsecs.LogDriver_AwsLogs(&awsecs.AwsLogDriverProps{StreamPrefix: jsii.String("gateway"), LogGroup: logGroup}),
		PortMappings: &[]*awsecs.PortMapping{{ContainerPort: jsii.Number(float64(g.Port))}},
		Environment:  &s.Environment,
		// distroless nonroot; the gateway writes nothing to disk.
		User: jsii.String(nonRootUser), ReadonlyRootFilesystem: jsii.Bool(true),
	})
	cdknag.NagSuppressions_AddResourceSuppressions(task, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-ECS2"), Reason: jsii.String("The environment holds non-secret settings only (endpoints, names, timeouts); the gateway has no secret at all (callers bring their own tokens, the cache uses IAM auth), and the toolkit's own check rejects plaintext secrets."),
	}}, nil)
	cdknag.NagSuppressions_AddResourceSuppressions(s.ExecutionRole, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-IAM5"), Reason: jsii.String("ecr:GetAuthorizationToken has no resource-level permissions; CDK grants it with Resource *."),
		AppliesTo: &[]any{jsii.String("Resource::*")},
	}}, jsii.Bool(true))
	s.Service = awsecs.NewFargateService(s.Stack, jsii.String("Service"), &awsecs.FargateServiceProps{
		Cluster: cluster, TaskDefinition: task, DesiredCount: jsii.Number(float64(g.DesiredCount)),
		SecurityGroups: &[]awsec2.ISecurityGroup{svcSG}, VpcSubnets: private, AssignPublicIp: jsii.Bool(false),
		CircuitBreaker:    &awsecs.DeploymentCircuitBreaker{Enable: jsii.Bool(true), Rollback: jsii.Bool(true)},
		MinHealthyPercent: jsii.Number(100),
	})
	// Health checks go from the ALB nodes straight to the targets, not
	// through the listener's actions, so /health needs no token.
	targets := elbv2.NewApplicationTargetGroup(s.Stack, jsii.String("GatewayTargets"), &elbv2.ApplicationTargetGroupProps{
		Vpc: s.VPC, Port: jsii.Number(float64(g.Port)), Protocol: elbv2.ApplicationProtocol_HTTP,
		Targets:     &[]elbv2.IApplicationLoadBalancerTarget{s.Service},
		HealthCheck: &elbv2.HealthCheck{Path: jsii.String(g.HealthCheckPath)},
	})
	s.verifyTokens(https, targets, c.IdentityProvider)
	if g.AllowPlainHTTP {
		plain := s.LoadBalancer.AddListener(jsii.String("Http"), &elbv2.BaseApplicationListenerProps{
			Port: jsii.Number(80), Protocol: elbv2.ApplicationProtocol_HTTP, Open: jsii.Bool(false),
			DefaultTargetGroups: &[]elbv2.IApplicationTargetGroup{targets},
		})
		awscdk.Annotations_Of(plain).AddWarningV2(jsii.String("genai-estate:plain-http"), jsii.String("central.gateway.allowPlainHttp is set: the gateway also serves plain HTTP on port 80, so tokens and prompts can cross the network unencrypted, and the ALB verifies no token there (JWT verification needs HTTPS; the gateway still verifies every token)."))
	} else {
		s.LoadBalancer.AddRedirect(&elbv2.ApplicationLoadBalancerRedirectConfig{SourcePort: jsii.Number(80), TargetPort: jsii.Number(443), Open: jsii.Bool(false)})
	}
	scaling := s.Service.AutoScaleTaskCount(&awsapplicationautoscaling.EnableScalingProps{MinCapacity: jsii.Number(float64(g.MinCount)), MaxCapacity: jsii.Number(float64(g.MaxCount))})
	scaling.ScaleOnCpuUtilization(jsii.String("Cpu"), &awsecs.CpuUtilizationScalingProps{TargetUtilizationPercent: jsii.Number(float64(g.TargetCPUPercent))})
	scaling.ScaleOnRequestCount(jsii.String("Requests"), &awsecs.RequestCountScalingProps{RequestsPerTarget: jsii.Number(float64(g.RequestsPerTarget)), TargetGroup: targets})

	awscdk.NewCfnOutput(s.Stack, jsii.String("AlbDnsName"), &awscdk.CfnOutputProps{Value: s.LoadBalancer.LoadBalancerDnsName()})
	awscdk.NewCfnOutput(s.Stack, jsii.String("CacheEndpoint"), &awscdk.CfnOutputProps{Value: s.Cache.AttrPrimaryEndPointAddress()})
	awscdk.NewCfnOutput(s.Stack, jsii.String("RoutingParameterPath"), &awscdk.CfnOutputProps{Value: jsii.String(routingPath)})
	return s
}

// network is a new two-AZ VPC with flow logs, or the configured one, imported
// without lookups so that synth stays offline.
func (s *CentralStack) network(g *config.Gateway, region, account string) awsec2.IVpc {
	if n := g.VPC; n != nil {
		attrs := &awsec2.VpcAttributes{
			VpcId: jsii.String(n.ID), VpcCidrBlock: jsii.String(n.CIDR), AvailabilityZones: jsii.Strings(n.AvailabilityZones...),
			PublicSubnetIds: jsii.Strings(n.PublicSubnetIDs...), PrivateSubnetIds: jsii.Strings(n.PrivateSubnetIDs...),
		}
		if len(n.PrivateRouteTableIDs) > 0 {
			attrs.PrivateSubnetRouteTableIds = jsii.Strings(n.PrivateRouteTableIDs...)
		}
		return awsec2.Vpc_FromVpcAttributes(s.Stack, jsii.String("Vpc"), attrs)
	}
	zones := newVPCZones(region)
	private, public := subnetMasks(g.VPCCidr)
	vpc := awsec2.NewVpc(s.Stack, jsii.String("Vpc"), &awsec2.VpcProps{
		IpAddresses:       awsec2.IpAddresses_Cidr(jsii.String(g.VPCCidr)),
		AvailabilityZones: jsii.Strings(zones...),
		// One NAT gateway per AZ: an AZ outage takes neither the other AZ's
		// egress (IdP, other regions' STS and Bedrock) nor cross-AZ charges.
		NatGateways: jsii.Number(float64(len(zones))),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{
			{Name: jsii.String("public"), SubnetType: awsec2.SubnetType_PUBLIC, CidrMask: jsii.Number(float64(public))},
			{Name: jsii.String("private"), SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS, CidrMask: jsii.Number(float64(private))},
		},
		// Removes the default security group's rules (a custom resource), so
		// nothing placed in it by mistake can talk.
		RestrictDefaultSecurityGroup: jsii.Bool(true),
	})
	flowLogs := retainedLogGroup(s.Stack, "FlowLogGroup", 90)
	s.encrypt(flowLogs)
	vpc.AddFlowLog(jsii.String("FlowLogs"), &awsec2.FlowLogOptions{
		Destination: awsec2.FlowLogDestination_ToCloudWatchLogs(flowLogs, nil),
	})
	return vpc
}

// subnetMasks sizes the private and public subnets of a new VPC: /22 and /24
// in a /16 to /20, halved with the VPC below that, so that two AZs of each
// always fit (a /24 VPC gets /26 private and /27 public subnets).
func subnetMasks(cidr string) (private, public int) {
	prefix := 16
	if i := strings.LastIndex(cidr, "/"); i >= 0 {
		prefix, _ = strconv.Atoi(cidr[i+1:])
	}
	return max(22, prefix+2), max(24, prefix+3)
}

// endpoints gives the tasks private paths to every AWS API they or the ECS
// agent call in this region: STS, Bedrock runtime, SSM (routing data), ECR
// (image pull, layers from S3) and CloudWatch Logs.
func (s *CentralStack) endpoints(g *config.Gateway, tasks awsec2.SecurityGroup, private *awsec2.SubnetSelection) {
	sg := awsec2.NewSecurityGroup(s.Stack, jsii.String("EndpointSecurityGroup"), &awsec2.SecurityGroupProps{Vpc: s.VPC, AllowAllOutbound: jsii.Bool(false), Description: jsii.String("VPC interface endpoints: HTTPS from the gateway tasks")})
	sg.AddIngressRule(tasks, awsec2.Port_Tcp(jsii.Number(443)), jsii.String("from the gateway tasks"), nil)
	for _, e := range []struct {
		id  string
		svc awsec2.InterfaceVpcEndpointAwsService
	}{
		{"Sts", awsec2.InterfaceVpcEndpointAwsService_STS()},
		{"BedrockRuntime", awsec2.InterfaceVpcEndpointAwsService_BEDROCK_RUNTIME()},
		{"Ssm", awsec2.InterfaceVpcEndpointAwsService_SSM()},
		{"EcrApi", awsec2.InterfaceVpcEndpointAwsService_ECR()},
		{"EcrDocker", awsec2.InterfaceVpcEndpointAwsService_ECR_DOCKER()},
		{"Logs", awsec2.InterfaceVpcEndpointAwsService_CLOUDWATCH_LOGS()},
	} {
		awsec2.NewInterfaceVpcEndpoint(s.Stack, jsii.String(e.id+"Endpoint"), &awsec2.InterfaceVpcEndpointProps{
			Vpc: s.VPC, Service: e.svc, Subnets: private, PrivateDnsEnabled: jsii.Bool(true),
			SecurityGroups: &[]awsec2.ISecurityGroup{sg}, Open: jsii.Bool(false),
		})
	}
	awsec2.NewGatewayVpcEndpoint(s.Stack, jsii.String("S3Endpoint"), &awsec2.GatewayVpcEndpointProps{
		Vpc: s.VPC, Service: awsec2.GatewayVpcEndpointAwsService_S3(), Subnets: &[]*awsec2.SubnetSelection{private},
	})
}

// verifyTokens makes the HTTPS listener verify the caller's JWT (signature
// against the issuer's JWKS, iss, exp, and aud as an additional claim)
// before forwarding to the gateway, which verifies it again.
func (s *CentralStack) verifyTokens(https elbv2.ApplicationListener, targets elbv2.ApplicationTargetGroup, idp config.IdentityProvider) {
	https.AddAction(jsii.String("VerifyToken"), &elbv2.AddApplicationActionProps{
		Action: elbv2.ListenerAction_AuthenticateJwt(&elbv2.AuthenticateJwtOptions{
			Issuer: jsii.String(idp.IssuerURL), JwksEndpoint: jsii.String(idp.JWKS()),
			Next: elbv2.ListenerAction_Forward(&[]elbv2.IApplicationTargetGroup{targets}, nil),
		}),
	})
	// The L2 action has no additional claims; aud is a single string in the
	// access tokens of the client-credentials grant (Okta, Cognito, Entra ID).
	https.Node().DefaultChild().(elbv2.CfnListener).AddPropertyOverride(jsii.String("DefaultActions.0.JwtValidationConfig.AdditionalClaims"), []map[string]any{
		{"Name": "aud", "Format": "single-string", "Values": idp.Audiences},
	})
}

// image is the pinned image, or the gateway built from this repository as a
// Docker image asset (staged at synth, built by cdk deploy).
func (s *CentralStack) image(g *config.Gateway, source, part string) awsecs.ContainerImage {
	if g.Image != "" {
		acct, region, repoName, ref := config.ImageParts(g.Image)
		if strings.HasPrefix(ref, ":") {
			awscdk.Annotations_Of(s.Stack).AddWarningV2(jsii.String("genai-estate:image-tag"), jsii.String(fmt.Sprintf("central.gateway.image %s is pinned by tag, which can be moved: name it by digest (%s@sha256:<digest>) so that every task runs the reviewed image.", g.Image, strings.TrimSuffix(g.Image, ref))))
		}
		repo := awsecr.Repository_FromRepositoryArn(s.Stack, jsii.String("Repository"), jsii.String(arn.Regional(part, "ecr", region, acct, "repository/"+repoName)))
		// CDK writes a "sha256:" reference as @digest, anything else as :tag.
		return awsecs.ContainerImage_FromEcrRepository(repo, jsii.String(ref[1:]))
	}
	if source == "" {
		source = findGatewaySource()
	}
	if _, err := os.Stat(filepath.Join(source, gatewayDockerfile)); source == "" || err != nil {
		awscdk.Annotations_Of(s.Stack).AddError(jsii.String(fmt.Sprintf("central.gateway.image is not set, so the gateway is built from this repository, but %s was not found above the working directory: run cdk synth in the repository, or set central.gateway.image", gatewayDockerfile)))
		return awsecs.ContainerImage_FromRegistry(jsii.String("gateway-source-not-found"), nil)
	}
	platform := awsecrassets.Platform_LINUX_AMD64()
	if g.ARM64 {
		platform = awsecrassets.Platform_LINUX_ARM64()
	}
	return awsecs.ContainerImage_FromAsset(jsii.String(source), &awsecs.AssetImageProps{
		File: jsii.String(gatewayDockerfile), Exclude: jsii.Strings(gatewayContext...), IgnoreMode: awscdk.IgnoreMode_DOCKER, Platform: platform,
	})
}

// findGatewaySource is the nearest directory, from the working directory
// upwards, that holds the gateway's Dockerfile, or "".
func findGatewaySource() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, gatewayDockerfile)); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// kmsKey is the configured key, a new one (rotated, retained, usable by
// CloudWatch Logs in this region), or nil for AWS-owned keys.
func (s *CentralStack) kmsKey(g *config.Gateway, part, region, account string) awskms.IKey {
	switch {
	case g.KMSKeyArn != "":
		return awskms.Key_FromKeyArn(s.Stack, jsii.String("Key"), jsii.String(g.KMSKeyArn))
	case !g.CreateKMSKey:
		return nil
	}
	key := awskms.NewKey(s.Stack, jsii.String("Key"), &awskms.KeyProps{
		Description:       jsii.String("GenAI gateway: credential cache and log groups"),
		EnableKeyRotation: jsii.Bool(true), RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	// What the CloudWatch Logs guide asks of a key policy, limited to this
	// account's log groups in this region.
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("CloudWatchLogs"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("logs."+region+".amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{"ArnLike": map[string]any{"kms:EncryptionContext:aws:logs:arn": arn.Regional(part, "logs", region, account, "log-group:*")}},
	}), nil)
	return key
}

// encrypt puts a log group under the stack's key, if it has one.
func (s *CentralStack) encrypt(lg awslogs.LogGroup) {
	if s.Key != nil {
		lg.Node().DefaultChild().(awslogs.CfnLogGroup).AddPropertyOverride(jsii.String("KmsKeyId"), s.Key.KeyArn())
	}
}

// newVPCZones are the two AZs of a new gateway VPC.
func newVPCZones(region string) []string { return []string{region + "a", region + "b"} }
