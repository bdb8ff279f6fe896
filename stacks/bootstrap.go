package stacks

import (
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudformation"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/acme/genai-estate/internal/bootstrap"
	"github.com/acme/genai-estate/internal/estate"
)

// BootstrapStackProps configures the bootstrap StackSet stack.
type BootstrapStackProps struct {
	awscdk.StackProps
	Estate *estate.Estate
}

// BootstrapStack holds a service-managed StackSet that CDK-bootstraps every
// account of the model accounts' OUs, in their deploy regions, trusting the
// tooling account: accounts that join an OU are bootstrapped automatically.
// It deploys with the CLI's own credentials in the management (or a
// delegated-administrator) account, which therefore needs no bootstrap.
type BootstrapStack struct {
	awscdk.Stack
	StackSet awscloudformation.CfnStackSet
}

// DefaultExecutionPolicy is what the CloudFormation execution role in a model
// account gets by default: its stacks hold only IAM roles, managed policies
// and the OIDC provider.
const DefaultExecutionPolicy = "IAMFullAccess"

// NewBootstrapStack builds the stack.
func NewBootstrapStack(scope constructs.Construct, id string, props *BootstrapStackProps) *BootstrapStack {
	c := props.Estate.Config
	p := c.Pipeline
	b := p.Bootstrap
	sp := props.StackProps
	sp.Env = &awscdk.Environment{Account: jsii.String(b.Account), Region: jsii.String(b.Region)}
	sp.Synthesizer = awscdk.NewCliCredentialsStackSynthesizer(nil)
	if sp.Description == nil {
		sp.Description = jsii.String("CDK bootstrap (version " + bootstrap.Version() + ") of every model account, trusting the tooling account " + p.Account)
	}
	s := &BootstrapStack{Stack: awscdk.NewStack(scope, jsii.String(id), &sp)}
	policies := b.ExecutionPolicies
	if len(policies) == 0 {
		policies = []string{"arn:" + *s.Partition() + ":iam::aws:policy/" + DefaultExecutionPolicy}
	}
	callAs := "SELF"
	if b.CallAsDelegatedAdmin {
		callAs = "DELEGATED_ADMIN"
	}
	param := func(k, v string) *awscloudformation.CfnStackSet_ParameterProperty {
		return &awscloudformation.CfnStackSet_ParameterProperty{ParameterKey: jsii.String(k), ParameterValue: jsii.String(v)}
	}
	s.StackSet = awscloudformation.NewCfnStackSet(s.Stack, jsii.String("CDKBootstrap"), &awscloudformation.CfnStackSetProps{
		StackSetName:    jsii.String(id),
		Description:     jsii.String("CDK bootstrap of the GenAI model accounts, trusting tooling account " + p.Account),
		PermissionModel: jsii.String("SERVICE_MANAGED"),
		CallAs:          jsii.String(callAs),
		AutoDeployment: &awscloudformation.CfnStackSet_AutoDeploymentProperty{
			Enabled: jsii.Bool(true),
			// An account leaving the OU keeps its bootstrap: stacks deployed
			// with it would otherwise lose their asset bucket and roles.
			RetainStacksOnAccountRemoval: jsii.Bool(true),
		},
		Capabilities:     jsii.Strings("CAPABILITY_NAMED_IAM"),
		ManagedExecution: &awscloudformation.CfnStackSet_ManagedExecutionProperty{Active: jsii.Bool(true)},
		OperationPreferences: &awscloudformation.CfnStackSet_OperationPreferencesProperty{
			MaxConcurrentPercentage:    jsii.Number(float64(b.MaxConcurrentPercentage)),
			FailureTolerancePercentage: jsii.Number(10),
			RegionConcurrencyType:      jsii.String("PARALLEL"),
		},
		Parameters: &[]interface{}{
			param("TrustedAccounts", p.Account),
			param("CloudFormationExecutionPolicies", strings.Join(policies, ",")),
		},
		StackInstancesGroup: &[]interface{}{&awscloudformation.CfnStackSet_StackInstancesProperty{
			DeploymentTargets: &awscloudformation.CfnStackSet_DeploymentTargetsProperty{OrganizationalUnitIds: jsii.Strings(b.OrganizationalUnitIDs...)},
			Regions:           jsii.Strings(BootstrapRegions(props.Estate)...),
		}},
		TemplateBody: jsii.String(bootstrap.Template),
	})
	return s
}

// BootstrapRegions are the regions the StackSet bootstraps: the configured
// ones, or every model account's deploy region.
func BootstrapRegions(e *estate.Estate) []string {
	if r := e.Config.Pipeline.Bootstrap.Regions; len(r) > 0 {
		return slices.Sorted(slices.Values(r))
	}
	var out []string
	for _, a := range e.Accounts {
		out = append(out, a.Region())
	}
	slices.Sort(out)
	return slices.Compact(out)
}
