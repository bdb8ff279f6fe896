package stacks

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapplicationautoscaling"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsec2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecr"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsecs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awselasticache"
	elbv2 "github.com/aws/aws-cdk-go/awscdk/v2/awselasticloadbalancingv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsssm"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/catalog"
	"github.com/acme/genai-estate/internal/deployplan"
	"github.com/acme/genai-estate/internal/estate"
	"github.com/acme/genai-estate/internal/naming"
)

// CentralStackProps configures the central gateway account's stack.
type CentralStackProps struct {
	awscdk.StackProps
	Estate *estate.Estate
}

// CentralStack holds the IdP registration and the gateway: network, ALB,
// Fargate service, credential cache, task role and routing data.
type CentralStack struct {
	awscdk.Stack
	// Provider is nil when the provider is imported, or created by the model
	// account stack of the same account.
	Provider      awsiam.CfnOIDCProvider
	VPC           awsec2.IVpc
	LoadBalancer  elbv2.ApplicationLoadBalancer
	Service       awsecs.FargateService
	TaskRole      awsiam.Role
	ExecutionRole awsiam.Role
	Cache         awselasticache.CfnReplicationGroup
	CacheUser     awselasticache.CfnUser
	Routing       map[string]awsssm.StringParameter // by use case
}

// Cache identifiers: IAM authentication needs the user id to equal its name.
const (
	cachePort   = 6379
	cacheUserID = "genai-gateway"
)

// CentralStackName is the central stack's name.
func CentralStackName(c *config.Config) string { return deployplan.CentralStackName(c) }

// NewCentralStack creates the stack.
func NewCentralStack(scope constructs.Construct, id string, props *CentralStackProps) *CentralStack {
	e := props.Estate
	c, cen := e.Config, e.Config.Central
	sp := props.StackProps
	sp.Env = &awscdk.Environment{Account: jsii.String(cen.Account), Region: jsii.String(cen.Region)}
	if sp.Description == nil {
		sp.Description = jsii.String("Central GenAI gateway account: IdP, ALB, ECS Fargate gateway, credential cache, routing data")
	}
	s := &CentralStack{Stack: awscdk.NewStack(scope, jsii.String(id), &sp), Routing: map[string]awsssm.StringParameter{}}
	if cen.Gateway != nil && cen.Gateway.VPC == nil {
		// The new VPC's AZs are fixed here; answering CDK's AZ lookup from
		// them keeps synth offline and deterministic.
		key := fmt.Sprintf("availability-zones:account=%s:region=%s", cen.Account, cen.Region)
		s.Node().SetContext(jsii.String(key), newVPCZones(cen.Region))
	}
	idp := naming.IdP{Org: c.Org, Provider: c.IdentityProvider.Name}
	if cen.OidcProviderArn == "" && !centralIsModelAccount(c) {
		s.Provider = awsiam.NewCfnOIDCProvider(s.Stack, jsii.String(idp.String()), &awsiam.CfnOIDCProviderProps{
			Url:          jsii.String(c.IdentityProvider.IssuerURL),
			ClientIdList: jsii.Strings(c.IdentityProvider.Audiences...),
			Tags:         &[]*awscdk.CfnTag{{Key: jsii.String("Name"), Value: jsii.String(idp.String())}},
		})
	}
	if cen.Gateway == nil {
		return s
	}
	g := cen.Gateway
	part, _ := catalog.Partition(cen.Region)

	s.VPC = s.network(g, cen.Region, cen.Account)
	private := &awsec2.SubnetSelection{SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS}

	// Security groups admit only what each hop needs.
	albSG := awsec2.NewSecurityGroup(s.Stack, jsii.String("AlbSecurityGroup"), &awsec2.SecurityGroupProps{Vpc: s.VPC, AllowAllOutbound: jsii.Bool(false), Description: jsii.String("Gateway ALB: HTTPS (and HTTP for the redirect) from the allowed CIDRs")})
	svcSG := awsec2.NewSecurityGroup(s.Stack, jsii.String("ServiceSecurityGroup"), &awsec2.SecurityGroupProps{Vpc: s.VPC, AllowAllOutbound: jsii.Bool(true), Description: jsii.String("Gateway tasks: the container port from the ALB; out to STS, Bedrock and the IdP")})
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
	})
	s.LoadBalancer.LogAccessLogs(logs, jsii.String("alb"))
	https := s.LoadBalancer.AddListener(jsii.String("Https"), &elbv2.BaseApplicationListenerProps{
		Port: jsii.Number(443), Protocol: elbv2.ApplicationProtocol_HTTPS, Open: jsii.Bool(false),
		Certificates: &[]elbv2.IListenerCertificate{elbv2.ListenerCertificate_FromArn(jsii.String(g.CertificateArn))},
		SslPolicy:    elbv2.SslPolicy_RECOMMENDED_TLS, // ELBSecurityPolicy-TLS13-1-2-2021-06
	})

	// Roles: the task role can do exactly what the gateway needs.
	cacheARN := func(kind, id string) string {
		return fmt.Sprintf("arn:%s:elasticache:%s:%s:%s:%s", part, cen.Region, cen.Account, kind, id)
	}
	rgID := strings.ToLower(c.Org) + "-genai-gateway"
	routingPath := estate.RoutingPath(c)
	paramARN := fmt.Sprintf("arn:%s:ssm:%s:%s:parameter%s", part, cen.Region, cen.Account, routingPath)
	statements := []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Sid: jsii.String("ConnectToCredentialCache"), Actions: jsii.Strings("elasticache:Connect"),
			Resources: jsii.Strings(cacheARN("replicationgroup", rgID), cacheARN("user", cacheUserID))}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Sid: jsii.String("ReadRoutingData"), Actions: jsii.Strings("ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"),
			Resources: jsii.Strings(paramARN, paramARN+"/*")}),
	}
	if len(g.ClientSecretArns) > 0 {
		statements = append(statements, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Sid: jsii.String("ReadIdPClientSecrets"),
			Actions: jsii.Strings("secretsmanager:GetSecretValue"), Resources: jsii.Strings(g.ClientSecretArns...)}))
	}
	s.TaskRole = awsiam.NewRole(s.Stack, jsii.String("TaskRole"), &awsiam.RoleProps{
		RoleName:    jsii.String(naming.TaskRole{Org: c.Org}.String()),
		Description: jsii.String("GenAI gateway tasks: cache connect, own routing data, IdP client secrets. AssumeRoleWithWebIdentity needs no permission."),
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
	multiAZ := g.CacheReplicas > 0
	s.Cache = awselasticache.NewCfnReplicationGroup(s.Stack, jsii.String("Cache"), &awselasticache.CfnReplicationGroupProps{
		ReplicationGroupId:          jsii.String(rgID),
		ReplicationGroupDescription: jsii.String("GenAI gateway STS credential cache"),
		Engine:                      jsii.String("valkey"), EngineVersion: jsii.String("8.0"),
		CacheNodeType:            jsii.String(g.CacheNodeType),
		NumCacheClusters:         jsii.Number(float64(g.CacheReplicas + 1)),
		AutomaticFailoverEnabled: jsii.Bool(multiAZ), MultiAzEnabled: jsii.Bool(multiAZ),
		AtRestEncryptionEnabled: jsii.Bool(true), TransitEncryptionEnabled: jsii.Bool(true),
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
	acct, region, repoName, ref := config.ImageParts(g.Image)
	repo := awsecr.Repository_FromRepositoryArn(s.Stack, jsii.String("Repository"), jsii.String(fmt.Sprintf("arn:%s:ecr:%s:%s:repository/%s", part, region, acct, repoName)))
	task.AddContainer(jsii.String("Gateway"), &awsecs.ContainerDefinitionOptions{
		Image:        awsecs.ContainerImage_FromEcrRepository(repo, jsii.String(ref[1:])),
		Logging:      awsecs.LogDriver_AwsLogs(&awsecs.AwsLogDriverProps{StreamPrefix: jsii.String("gateway"), LogGroup: retainedLogGroup(s.Stack, "GatewayLogs", g.LogRetentionDays)}),
		PortMappings: &[]*awsecs.PortMapping{{ContainerPort: jsii.Number(float64(g.Port))}},
		Environment: &map[string]*string{
			"CACHE_ENDPOINT":             s.Cache.AttrPrimaryEndPointAddress(),
			"CACHE_PORT":                 jsii.String(strconv.Itoa(cachePort)),
			"CACHE_USER":                 jsii.String(cacheUserID),
			"CACHE_REPLICATION_GROUP_ID": jsii.String(rgID),
			"ROUTING_PARAMETER_PATH":     jsii.String(routingPath),
			"IDP_ISSUER_URL":             jsii.String(c.IdentityProvider.IssuerURL),
			"IDP_AUDIENCE":               jsii.String(strings.Join(c.IdentityProvider.Audiences, ",")),
			"IDP_CLIENT_SECRET_ARNS":     jsii.String(strings.Join(g.ClientSecretArns, ",")),
			"CREDENTIAL_TTL_SECONDS":     jsii.String(strconv.Itoa(g.CredentialTTLSeconds)),
		},
	})
	cdknag.NagSuppressions_AddResourceSuppressions(task, &[]*cdknag.NagPackSuppression{{
		Id: jsii.String("AwsSolutions-ECS2"), Reason: jsii.String("The environment holds non-secret settings only (endpoints, names, TTL); secrets are read at run time from Secrets Manager by ARN, and the toolkit's own check rejects plaintext secrets."),
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
	targets := https.AddTargets(jsii.String("Gateway"), &elbv2.AddApplicationTargetsProps{
		Port: jsii.Number(float64(g.Port)), Protocol: elbv2.ApplicationProtocol_HTTP,
		Targets:     &[]elbv2.IApplicationLoadBalancerTarget{s.Service},
		HealthCheck: &elbv2.HealthCheck{Path: jsii.String(g.HealthCheckPath)},
	})
	if g.AllowPlainHTTP {
		plain := s.LoadBalancer.AddListener(jsii.String("Http"), &elbv2.BaseApplicationListenerProps{
			Port: jsii.Number(80), Protocol: elbv2.ApplicationProtocol_HTTP, Open: jsii.Bool(false),
			DefaultTargetGroups: &[]elbv2.IApplicationTargetGroup{targets},
		})
		awscdk.Annotations_Of(plain).AddWarningV2(jsii.String("genai-estate:plain-http"), jsii.String("central.gateway.allowPlainHttp is set: the gateway also serves plain HTTP on port 80, so tokens and prompts can cross the network unencrypted."))
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
		return awsec2.Vpc_FromVpcAttributes(s.Stack, jsii.String("Vpc"), &awsec2.VpcAttributes{
			VpcId: jsii.String(n.ID), VpcCidrBlock: jsii.String(n.CIDR), AvailabilityZones: jsii.Strings(n.AvailabilityZones...),
			PublicSubnetIds: jsii.Strings(n.PublicSubnetIDs...), PrivateSubnetIds: jsii.Strings(n.PrivateSubnetIDs...),
		})
	}
	vpc := awsec2.NewVpc(s.Stack, jsii.String("Vpc"), &awsec2.VpcProps{
		AvailabilityZones: jsii.Strings(newVPCZones(region)...),
		NatGateways:       jsii.Number(1),
		SubnetConfiguration: &[]*awsec2.SubnetConfiguration{
			{Name: jsii.String("public"), SubnetType: awsec2.SubnetType_PUBLIC, CidrMask: jsii.Number(24)},
			{Name: jsii.String("private"), SubnetType: awsec2.SubnetType_PRIVATE_WITH_EGRESS, CidrMask: jsii.Number(22)},
		},
		RestrictDefaultSecurityGroup: jsii.Bool(false),
	})
	vpc.AddFlowLog(jsii.String("FlowLogs"), &awsec2.FlowLogOptions{
		Destination: awsec2.FlowLogDestination_ToCloudWatchLogs(retainedLogGroup(s.Stack, "FlowLogGroup", 90), nil),
	})
	return vpc
}

// newVPCZones are the two AZs of a new gateway VPC.
func newVPCZones(region string) []string { return []string{region + "a", region + "b"} }

// centralIsModelAccount: one provider per issuer per account, so the model
// account's stack owns it.
func centralIsModelAccount(c *config.Config) bool {
	for _, a := range c.ModelAccounts {
		if a.Account == c.Central.Account {
			return true
		}
	}
	return false
}
