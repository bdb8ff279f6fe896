// Package config loads and validates the use-case/model matrix: the one YAML
// file from which every account's CloudFormation is generated.
package config

import "github.com/acme/genai-estate/internal/catalog"

// Config is the whole estate.
type Config struct {
	Org              string            `yaml:"org" doc:"Organisation prefix of every name, e.g. ACME." required:"true" pattern:"name"`
	Layer            string            `yaml:"layer" doc:"Layer field of role and policy names, e.g. GenAI." required:"true" pattern:"name"`
	Capability       string            `yaml:"capability,omitempty" doc:"Capability field of role names; the role is <Org>-<Layer>-<UseCase>-<Capability>Role. Default BedrockInvoke."`
	IdentityProvider IdentityProvider  `yaml:"identityProvider" doc:"The enterprise OIDC identity provider whose tokens the gateway exchanges." required:"true"`
	Central          Central           `yaml:"central" doc:"The central gateway account." required:"true"`
	Limits           Limits            `yaml:"limits,omitempty" doc:"IAM quotas raised for every account; a model account can raise them further."`
	Tags             map[string]string `yaml:"tags,omitempty" doc:"Extra tags on every resource."`
	ModelAccounts    []ModelAccount    `yaml:"modelAccounts" doc:"The shared model accounts." required:"true"`
	UseCases         []UseCase         `yaml:"useCases" doc:"The use cases and the models each may call." required:"true"`
	Groups           []Group           `yaml:"groups,omitempty" doc:"Domain roles shared by several use cases."`
	Vendors          []Vendor          `yaml:"vendors,omitempty" doc:"Third-party vendors given roles guarded by sts:ExternalId."`
	RAG              *RAG              `yaml:"rag,omitempty" doc:"The RAG agent's base and Lambda/API stacks."`
	// Governance (README, "Governance").
	CostAttribution string          `yaml:"costAttribution,omitempty" doc:"profiles: every grant goes through the role's own tagged application inference profiles (recommended; the example uses it); direct: models granted directly (the default, so existing estates keep their grants); both." enum:"profiles,direct,both"`
	Guardrail       *Guardrail      `yaml:"guardrail,omitempty" doc:"Guardrail every invoke call must carry, for roles without their own (use cases and groups may override it)."`
	Perimeter       *Perimeter      `yaml:"perimeter,omitempty" doc:"Network origins invoke calls must come from, in every model account."`
	Logging         *Logging        `yaml:"logging,omitempty" doc:"Model invocation logging in every model account and granted region; off without it (README, Governance)."`
	Pipeline        *Pipeline       `yaml:"pipeline,omitempty" doc:"Optional CDK Pipelines deployment in a tooling account, and the bootstrap StackSet."`
	Models          []catalog.Model `yaml:"models,omitempty" doc:"Catalog entries added to or overriding the embedded model catalog."`

	// File is the path the config was read from, for messages.
	File string `yaml:"-"`
	// Pos maps each field path to where it stands in File.
	Pos map[string]Pos `yaml:"-"`
	// Catalog is the embedded catalog with Models applied.
	Catalog *catalog.Catalog `yaml:"-"`
	// Warnings are what the config allows but advises against.
	Warnings ErrorList  `yaml:"-"`
	index    *nameIndex // see Config.UseCase
}

// IdentityProvider is the enterprise IdP, registered as an IAM OIDC provider
// in every account whose roles trust it.
type IdentityProvider struct {
	Name        string   `yaml:"name" doc:"Provider name used in <Org>-IdP-<Name>, e.g. Okta." required:"true" pattern:"name"`
	IssuerURL   string   `yaml:"issuerUrl" doc:"The token issuer (iss), an https URL." required:"true"`
	Audiences   []string `yaml:"audiences" doc:"Client ids (token aud values) the roles accept." required:"true"`
	Thumbprints []string `yaml:"thumbprints,omitempty" doc:"Optional SHA-1 thumbprints (40 hex digits, at most 5); IAM verifies the certificate without them."`
	JWKSURL     string   `yaml:"jwksUrl,omitempty" doc:"The issuer's JWKS endpoint (https), against which the gateway's ALB and the gateway verify callers' tokens. Default for an Okta custom authorization server or a Cognito user pool: derived from the issuer; otherwise required when central.gateway is set."`
}

// Central is the gateway account.
type Central struct {
	Account string   `yaml:"account" doc:"12-digit account id, quoted." required:"true" pattern:"account"`
	Region  string   `yaml:"region" doc:"Region of the gateway." required:"true" schema:"region"`
	Gateway *Gateway `yaml:"gateway,omitempty" doc:"The gateway service; without it the central stack is empty."`
	// OidcProviderArn is no longer read; kept so that a config still naming
	// it gets an explanation instead of "unknown field".
	OidcProviderArn string `yaml:"oidcProviderArn,omitempty" doc:"Removed: the central stack registers no IAM OIDC provider. Delete it."`
}

// Gateway is the ECS Fargate gateway, its load balancer, cache and routing data.
type Gateway struct {
	Image                 string   `yaml:"image,omitempty" doc:"ECR image URI with a tag or @sha256 digest (a tag gets a synth warning). Default: the gateway built from this repository (cmd/gateway/Dockerfile) as a Docker image asset; deploying then needs Docker."`
	CPU                   int      `yaml:"cpu,omitempty" doc:"Task CPU units." default:"1024" enum:"256,512,1024,2048,4096"`
	MemoryMB              int      `yaml:"memoryMb,omitempty" doc:"Task memory in MB." default:"2048" minimum:"512" maximum:"30720"`
	Port                  int      `yaml:"port,omitempty" doc:"Container port." default:"8080" minimum:"1" maximum:"65535"`
	HealthCheckPath       string   `yaml:"healthCheckPath,omitempty" doc:"Target group health check path." default:"/health"`
	ARM64                 bool     `yaml:"arm64,omitempty" doc:"Run on ARM64 (Graviton) instead of x86_64."`
	DesiredCount          int      `yaml:"desiredCount,omitempty" doc:"Tasks at deploy." default:"2" minimum:"0" maximum:"5000"`
	MinCount              int      `yaml:"minCount,omitempty" doc:"Autoscaling minimum." default:"2" minimum:"0" maximum:"5000"`
	MaxCount              int      `yaml:"maxCount,omitempty" doc:"Autoscaling maximum." default:"10" minimum:"1" maximum:"5000"`
	TargetCPUPercent      int      `yaml:"targetCpuPercent,omitempty" doc:"Scale on CPU at this utilisation." default:"60" minimum:"1" maximum:"100"`
	RequestsPerTarget     int      `yaml:"requestsPerTarget,omitempty" doc:"Scale on ALB requests per target." default:"1000" minimum:"1"`
	LogRetentionDays      int      `yaml:"logRetentionDays,omitempty" doc:"Days to keep gateway logs." default:"30" minimum:"1"`
	CredentialTTLSeconds  int      `yaml:"credentialTtlSeconds,omitempty" doc:"TTL of cached STS credentials, 900-3600." default:"900" minimum:"900" maximum:"3600"`
	RequestTimeoutSeconds int      `yaml:"requestTimeoutSeconds,omitempty" doc:"Longest request the gateway serves (streams included; the gateway's own ceiling is 3600); the ALB idle timeout is this plus 15 s." default:"300" minimum:"1" maximum:"3600"`
	CertificateArn        string   `yaml:"certificateArn" doc:"ACM certificate ARN of the HTTPS listener." required:"true"`
	InternetFacing        bool     `yaml:"internetFacing,omitempty" doc:"Internet-facing ALB; default internal."`
	IngressCidrs          []string `yaml:"ingressCidrs,omitempty" doc:"CIDRs admitted to the ALB. Default 0.0.0.0/0 when internet-facing, the VPC's CIDR when internal."`
	AllowPlainHTTP        bool     `yaml:"allowPlainHttp,omitempty" doc:"Serve plain HTTP too (flagged at synth). Default: HTTP only redirects."`
	VPC                   *VPC     `yaml:"vpc,omitempty" doc:"Import an existing VPC; default a new one with two AZs."`
	CacheNodeType         string   `yaml:"cacheNodeType,omitempty" doc:"ElastiCache node type." default:"cache.t4g.small"`
	VPCCidr               string   `yaml:"vpcCidr,omitempty" doc:"IPv4 CIDR of the new VPC: a private range, /16 to /24. Default 10.0.0.0/16. Not with vpc."`
	CacheReplicas         int      `yaml:"cacheReplicas,omitempty" doc:"Read replicas; the cache is always Multi-AZ with automatic failover (a single node has none, and cdk-nag's AwsSolutions-AEC4 requires Multi-AZ)." default:"1" minimum:"1" maximum:"5"`
	KMSKeyArn             string   `yaml:"kmsKeyArn,omitempty" doc:"Customer-managed KMS key (a key ARN in the central region) for the cache and the gateway and flow log groups. Default: AWS-owned keys."`
	CreateKMSKey          bool     `yaml:"createKmsKey,omitempty" doc:"Create a customer-managed KMS key (rotation on, retained) for the cache and the log groups. Not with kmsKeyArn."`
	// ClientSecretArns is no longer read; kept so that a config still naming
	// it gets an explanation instead of "unknown field".
	ClientSecretArns []string `yaml:"clientSecretArns,omitempty" doc:"Removed: callers authenticate with their own tokens and the gateway holds no client secret. Delete it."`
}

// VPC imports an existing VPC without lookups.
type VPC struct {
	ID                string   `yaml:"id" doc:"vpc-... id." required:"true"`
	CIDR              string   `yaml:"cidr" doc:"The VPC's IPv4 CIDR." required:"true"`
	AvailabilityZones []string `yaml:"availabilityZones" doc:"AZs of the subnets, in order." required:"true"`
	PublicSubnetIDs   []string `yaml:"publicSubnetIds,omitempty" doc:"One per AZ; needed for an internet-facing ALB."`
	PrivateSubnetIDs  []string `yaml:"privateSubnetIds" doc:"One per AZ, with egress; tasks and cache run here." required:"true"`
	// The S3 gateway endpoint needs the private subnets' route tables.
	PrivateRouteTableIDs []string `yaml:"privateRouteTableIds,omitempty" doc:"Route table of each private subnet, in order; needed with createEndpoints (the S3 gateway endpoint)."`
	CreateEndpoints      bool     `yaml:"createEndpoints,omitempty" doc:"Create the gateway's VPC endpoints (sts, bedrock-runtime, ssm, ecr.api, ecr.dkr, logs, and S3) in this VPC. Default false: an imported VPC usually has them."`
}

// Quota is a use case's rate limit, enforced by the gateway.
type Quota struct {
	RequestsPerMinute int `yaml:"requestsPerMinute,omitempty" json:"requestsPerMinute,omitempty" doc:"Requests per minute." minimum:"1"`
	TokensPerMinute   int `yaml:"tokensPerMinute,omitempty" json:"tokensPerMinute,omitempty" doc:"Tokens per minute." minimum:"1"`
}

// Limits are quotas that an account may have raised. Each field's minimum
// is AWS's default quota, which EffectiveLimits uses when none is set.
type Limits struct {
	TrustPolicyChars       int `yaml:"trustPolicyChars,omitempty" doc:"Role trust policy size quota, as raised in this estate; absent means AWS's default, the minimum." minimum:"2048" maximum:"4096"`
	ManagedPoliciesPerRole int `yaml:"managedPoliciesPerRole,omitempty" doc:"Managed policies per role quota, as raised; absent means AWS's default, the minimum." minimum:"10" maximum:"25"`
	RolesPerAccount        int `yaml:"rolesPerAccount,omitempty" doc:"Roles per account quota, as raised; absent means AWS's default, the minimum." minimum:"1000" maximum:"5000"`
	// ManagedPoliciesPerAccount is the customer managed policies quota.
	ManagedPoliciesPerAccount int `yaml:"managedPoliciesPerAccount,omitempty" doc:"Customer managed policies per account quota, as raised; absent means AWS's default, the minimum." minimum:"1500" maximum:"5000"`
	// InferenceProfilesPerRegion is Bedrock's "Inference profiles per
	// account" quota (L-40EC9882), per region.
	InferenceProfilesPerRegion int `yaml:"inferenceProfilesPerRegion,omitempty" doc:"Bedrock inference profiles per account and region quota (L-40EC9882), as raised in Service Quotas; absent means AWS's default, the minimum." minimum:"1000"`
}

// ModelAccount is one shared model account.
type ModelAccount struct {
	Name            string   `yaml:"name" doc:"Short name used in references and stack names, e.g. SharedModelsA." required:"true" pattern:"name"`
	Account         string   `yaml:"account" doc:"12-digit account id, quoted." required:"true" pattern:"account"`
	Regions         []string `yaml:"regions" doc:"Regions where Bedrock is called in this account." required:"true" schema:"region"`
	DeployRegion    string   `yaml:"deployRegion,omitempty" doc:"Region of the account's stack (IAM is global). Default: the first of regions." schema:"region"`
	OidcProviderArn string   `yaml:"oidcProviderArn,omitempty" doc:"ARN of an IAM OIDC provider for the issuer that already exists in this account; it is imported instead of created."`
	StackShards     int      `yaml:"stackShards,omitempty" doc:"Spread the account's roles over this many stacks. Default: as few as fit CloudFormation's limits. Pin it once an account is sharded." minimum:"1" maximum:"50"`
	Limits          Limits   `yaml:"limits,omitempty" doc:"Quotas raised in this account."`
	// EnforcedGuardrails (README, "Governance").
	EnforcedGuardrails []EnforcedGuardrail `yaml:"enforcedGuardrails,omitempty" doc:"Account-level enforced guardrails: Bedrock applies each to every invocation in its region of this account."`
}

// PolicyLayout says how a role's grants are split into managed policies.
const (
	PerProvider = "perProvider" // one policy per model provider (default)
	MultiModel  = "multiModel"  // one <...>-MultiModel-InvokePolicy
)

// UseCase is one consumer of the gateway.
type UseCase struct {
	Name         string     `yaml:"name" doc:"Use case name, the <UseCaseOrGroup> of its role." required:"true" pattern:"name"`
	Description  string     `yaml:"description,omitempty" doc:"Free text, copied to the role description."`
	Subjects     []string   `yaml:"subjects" doc:"The IdP token sub values that identify this use case." required:"true"`
	PolicyLayout string     `yaml:"policyLayout,omitempty" doc:"perProvider (default) or multiModel." enum:"perProvider,multiModel"`
	Quota        Quota      `yaml:"quota,omitempty" doc:"Rate limits the gateway applies to this use case."`
	Access       []Access   `yaml:"access,omitempty" doc:"Models this use case may call through its own role."`
	Guardrail    *Guardrail `yaml:"guardrail,omitempty" doc:"Guardrail every invoke call of this use case's own role must carry; overrides the estate's."`
}

// Group is a domain role shared by several use cases.
type Group struct {
	Name         string     `yaml:"name" doc:"Domain name, the <UseCaseOrGroup> of its role." required:"true" pattern:"name"`
	Description  string     `yaml:"description,omitempty" doc:"Free text, copied to the role description."`
	Members      []string   `yaml:"members" doc:"Use cases whose subjects may assume the domain role." required:"true"`
	PolicyLayout string     `yaml:"policyLayout,omitempty" doc:"perProvider (default) or multiModel." enum:"perProvider,multiModel"`
	Access       []Access   `yaml:"access" doc:"Models the domain role may call." required:"true"`
	Guardrail    *Guardrail `yaml:"guardrail,omitempty" doc:"Guardrail every invoke call of the domain role must carry; overrides the estate's."`
}

// Vendor is a third party that assumes a role in the model accounts with
// sts:AssumeRole and an external id (against the confused deputy).
type Vendor struct {
	Name         string   `yaml:"name" doc:"Vendor name, the <UseCaseOrGroup> of its role." required:"true" pattern:"name"`
	Description  string   `yaml:"description,omitempty" doc:"Free text, copied to the role description."`
	Principal    string   `yaml:"principal" doc:"The vendor's AWS account id (quoted) or the ARN of its role." required:"true"`
	ExternalID   string   `yaml:"externalId" doc:"The external id the vendor passes to AssumeRole: 2-1224 characters of [A-Za-z0-9+=,.@:/_-], unique to this vendor." required:"true"`
	PolicyLayout string   `yaml:"policyLayout,omitempty" doc:"perProvider (default) or multiModel." enum:"perProvider,multiModel"`
	Access       []Access `yaml:"access" doc:"Models the vendor may call; it gets a role in each account named here." required:"true"`
}

// Access grants models in one account.
type Access struct {
	Account string   `yaml:"account" doc:"Name of a model account." required:"true"`
	Regions []string `yaml:"regions,omitempty" doc:"Subset of the account's regions. Default: all of them." schema:"region"`
	Models  []string `yaml:"models" doc:"Model or inference profile ids from the catalog." required:"true"`
}
