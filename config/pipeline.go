package config

import (
	"regexp"
	"strings"

	"github.com/acme/genai-estate/config/field"
)

// Pipeline is the optional CDK Pipelines deployment: a self-mutating
// CodePipeline in a tooling account that deploys every stack in waves, and
// the StackSet that CDK-bootstraps the model accounts to trust it.
type Pipeline struct {
	Account       string `yaml:"account" doc:"The tooling account that runs the pipeline, 12 digits, quoted." required:"true" pattern:"^[0-9]{12}$"`
	Region        string `yaml:"region" doc:"Region of the pipeline." required:"true" schema:"region"`
	ConnectionArn string `yaml:"connectionArn" doc:"ARN of the CodeConnections (formerly CodeStar Connections) connection to the repository host." required:"true"`
	Repository    string `yaml:"repository" doc:"The repository, owner/name." required:"true" pattern:"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"`
	Branch        string `yaml:"branch,omitempty" doc:"Branch that deploys. Default main."`
	WaveSize      int    `yaml:"waveSize,omitempty" doc:"Stacks per wave, 1-25: a stack is two actions and a CodePipeline stage holds at most 50. Default 25."`
	// ManualApprovalOnBroadening is a pointer so that an explicit false is kept.
	ManualApprovalOnBroadening *bool      `yaml:"manualApprovalOnBroadening,omitempty" doc:"Hold the deployment for a manual approval when the access plan broadens access. Default true."`
	Bootstrap                  *Bootstrap `yaml:"bootstrap,omitempty" doc:"The StackSet that CDK-bootstraps every model account, trusting the tooling account."`
}

// Bootstrap is the service-managed StackSet, deployed in the management or a
// delegated-administrator account, that bootstraps the model accounts' OUs.
type Bootstrap struct {
	Account                 string   `yaml:"account" doc:"The management or CloudFormation delegated-administrator account, quoted." required:"true" pattern:"^[0-9]{12}$"`
	Region                  string   `yaml:"region" doc:"Region of the StackSet stack." required:"true" schema:"region"`
	OrganizationalUnitIDs   []string `yaml:"organizationalUnitIds" doc:"OUs (ou-... or r-... ids) holding the model accounts; accounts joining them are bootstrapped automatically." required:"true"`
	ExecutionPolicies       []string `yaml:"executionPolicies,omitempty" doc:"Managed policy ARNs for the CloudFormation execution role in each account. Default: IAMFullAccess, all a model-account stack needs."`
	Regions                 []string `yaml:"regions,omitempty" doc:"Regions to bootstrap. Default: every model account's deploy region." schema:"region"`
	CallAsDelegatedAdmin    bool     `yaml:"callAsDelegatedAdmin,omitempty" doc:"The account is a delegated administrator, not the management account."`
	MaxConcurrentPercentage int      `yaml:"maxConcurrentPercentage,omitempty" doc:"StackSet operation concurrency, 1-100 percent of accounts. Default 25."`
}

// Pipeline defaults.
const (
	DefaultPipelineBranch = "main"
	// MaxPipelineWaveSize: CodePipeline allows 50 actions per stage and CDK
	// Pipelines gives each stack two (create and execute a change set).
	MaxPipelineWaveSize  = 25
	DefaultBootstrapConc = 25
)

var (
	connectionArnRE = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:(codeconnections|codestar-connections):[a-z0-9-]+:[0-9]{12}:connection/[0-9a-f-]{36}$`)
	ouRE            = regexp.MustCompile(`^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$`)
	managedPolicyRE = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:iam::([0-9]{12}|aws):policy/[\w+=,.@/-]+$`)
)

// Defaults fills the documented defaults.
func (p *Pipeline) Defaults() {
	if p.Branch == "" {
		p.Branch = DefaultPipelineBranch
	}
	if p.WaveSize == 0 {
		p.WaveSize = MaxPipelineWaveSize
	}
	if p.ManualApprovalOnBroadening == nil {
		t := true
		p.ManualApprovalOnBroadening = &t
	}
	if b := p.Bootstrap; b != nil && b.MaxConcurrentPercentage == 0 {
		b.MaxConcurrentPercentage = DefaultBootstrapConc
	}
}

func (v *validator) pipeline() {
	p := v.c.Pipeline
	if p == nil {
		return
	}
	defer p.Defaults()
	at := field.NewPath("pipeline")
	v.account(at.Child("account"), p.Account)
	v.region(at.Child("region"), p.Region, true)
	if v.required(at.Child("connectionArn"), p.ConnectionArn == "", "the CodeConnections connection ARN, e.g. arn:aws:codeconnections:us-east-1:123456789012:connection/<uuid>") && !connectionArnRE.MatchString(p.ConnectionArn) {
		v.err(at.Child("connectionArn"), KindPattern, "use arn:<partition>:codeconnections:<region>:<account>:connection/<uuid>, from the console's Connections page", "%q is not a connection ARN", p.ConnectionArn)
	}
	if v.required(at.Child("repository"), p.Repository == "", "owner/name, e.g. acme/genai-estate") {
		if owner, name, ok := strings.Cut(p.Repository, "/"); !ok || owner == "" || name == "" || strings.Contains(name, "/") {
			v.err(at.Child("repository"), KindPattern, "use owner/name, e.g. acme/genai-estate", "%q is not owner/name", p.Repository)
		}
	}
	if p.WaveSize < 0 || p.WaveSize > MaxPipelineWaveSize {
		v.err(at.Child("waveSize"), KindRange, "use 1 to 25: each stack is two CodePipeline actions and a stage holds at most 50", "%d stacks per wave is out of range", p.WaveSize)
	}
	b := p.Bootstrap
	if b == nil {
		return
	}
	bp := at.Child("bootstrap")
	v.account(bp.Child("account"), b.Account)
	v.region(bp.Child("region"), b.Region, true)
	ous := bp.Child("organizationalUnitIds")
	if len(b.OrganizationalUnitIDs) == 0 && !v.r.Has(ous) {
		v.err(ous, KindRequired, "list the OUs of the model accounts, e.g. [ou-ab12-cdefgh34]", "required field is missing")
	}
	for i, ou := range b.OrganizationalUnitIDs {
		if !ouRE.MatchString(ou) {
			v.err(ous.Index(i), KindPattern, "use an OU id (ou-xxxx-xxxxxxxx) or the root id (r-xxxx)", "%q is not an organizational unit id", ou)
		}
	}
	for i, arn := range b.ExecutionPolicies {
		if !managedPolicyRE.MatchString(arn) {
			v.err(bp.Child("executionPolicies").Index(i), KindPattern, "use a managed policy ARN, e.g. arn:aws:iam::aws:policy/IAMFullAccess", "%q is not a managed policy ARN", arn)
		}
	}
	for i, r := range b.Regions {
		v.region(bp.Child("regions").Index(i), r, true)
	}
	if n := b.MaxConcurrentPercentage; n < 0 || n > 100 {
		v.err(bp.Child("maxConcurrentPercentage"), KindRange, "use 1 to 100", "%d%% is out of range", n)
	}
}
