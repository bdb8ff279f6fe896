package config

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"

	"github.com/acme/genai-estate/config/field"
)

// Cost attribution modes: how a role's invoke grants reach the models.
const (
	// CostProfiles grants calls only through the role's own tagged
	// application inference profiles, so every call is attributed.
	CostProfiles = "profiles"
	// CostDirect grants the models (and system profiles) directly.
	CostDirect = "direct"
	// CostBoth grants both.
	CostBoth = "both"
)

// Guardrail is a Bedrock guardrail every invoke call of a role must carry.
// A guardrail id belongs to one account and region, so a guardrail applies
// to roles granted in exactly that one model account and region.
type Guardrail struct {
	ID      string `yaml:"id" doc:"Guardrail id (lower-case letters and digits), in the model account and region where the role is granted." required:"true"`
	Version string `yaml:"version" doc:"Guardrail version: a number, or DRAFT." required:"true"`
	// Profile is the guardrail's own cross-Region configuration, which the
	// toolkit cannot read from the guardrail: AWS requires
	// bedrock:ApplyGuardrail on the profile in each destination region.
	Profile        string   `yaml:"profile,omitempty" doc:"The guardrail profile the guardrail uses for cross-Region guardrail inference (its crossRegionConfig), e.g. us.guardrail.v1:0; the roles may then apply it in the profile's destination regions."`
	ProfileRegions []string `yaml:"profileRegions,omitempty" doc:"Destination regions of the guardrail profile from the guardrail's region (Bedrock user guide, cross-Region guardrail inference). Default: known for the us and us-gov profiles; required for others." schema:"region"`
}

// guardrailProfileRegions are the destination regions of the guardrail
// profiles, by profile and source region, as the Bedrock user guide lists
// them ("Supported Regions for cross-Region guardrail inference"). Profiles
// not listed here need guardrail.profileRegions.
var guardrailProfileRegions = map[string]map[string][]string{
	"us.guardrail.v1:0": {
		"us-east-1": {"us-east-1", "us-east-2", "us-west-2"},
		"us-east-2": {"us-east-1", "us-east-2", "us-west-2"},
		"us-west-1": {"us-east-1", "us-east-2", "us-west-1", "us-west-2"},
		"us-west-2": {"us-east-1", "us-east-2", "us-west-2"},
	},
	"us-gov.guardrail.v1:0": {
		"us-gov-east-1": {"us-gov-east-1", "us-gov-west-1"},
		"us-gov-west-1": {"us-gov-east-1", "us-gov-west-1"},
	},
}

// GuardrailProfileRegions are the regions where a role calling the guardrail
// from source may be routed through its profile: the config's list, else
// the known table; none without a profile.
func (g *Guardrail) GuardrailProfileRegions(source string) []string {
	if g == nil || g.Profile == "" {
		return nil
	}
	if len(g.ProfileRegions) > 0 {
		return g.ProfileRegions
	}
	return guardrailProfileRegions[g.Profile][source]
}

// Logging is model invocation logging, in every model account and region
// where a role is granted (README, "Governance"). Bedrock keeps one logging
// configuration per account and region, so the toolkit owns it there.
type Logging struct {
	CloudWatch    *CloudWatchLogging `yaml:"cloudWatch,omitempty" doc:"Deliver invocation logs to a CloudWatch Logs log group in each account and region."`
	S3            *S3Logging         `yaml:"s3,omitempty" doc:"Deliver invocation logs to an S3 bucket in each account and region; with cloudWatch, bodies over 100 KB and binary data go there too."`
	TextData      bool               `yaml:"textData,omitempty" doc:"Log the text of requests and responses (prompts and completions), not only their metadata." default:"true"`
	ImageData     bool               `yaml:"imageData,omitempty" doc:"Log image inputs and outputs." default:"false"`
	EmbeddingData bool               `yaml:"embeddingData,omitempty" doc:"Log embedding inputs and outputs." default:"false"`
	VideoData     bool               `yaml:"videoData,omitempty" doc:"Log video inputs and outputs." default:"false"`
}

// CloudWatchLogging is the log group destination.
type CloudWatchLogging struct {
	RetentionDays int `yaml:"retentionDays,omitempty" doc:"Days CloudWatch Logs keeps invocation logs (a value CloudWatch Logs accepts)." default:"90" enum:"1,3,5,7,14,30,60,90,120,150,180,365,400,545,731,1096,1827,2192,2557,2922,3288,3653"`
}

// S3Logging is the bucket destination.
type S3Logging struct {
	ExpirationDays int `yaml:"expirationDays,omitempty" doc:"Days after which log objects are deleted." default:"365" minimum:"1"`
}

// EnforcedGuardrail is an account-level enforced guardrail: Bedrock applies
// it to every model invocation in the account and region, whoever calls.
type EnforcedGuardrail struct {
	Region  string `yaml:"region" doc:"Region of the guardrail and of its enforcement; one of the account's regions." required:"true" schema:"region"`
	ID      string `yaml:"id" doc:"Guardrail id (lower-case letters and digits) in this account and region." required:"true"`
	Version string `yaml:"version" doc:"Published guardrail version number (enforcement does not take DRAFT)." required:"true"`
}

// Perimeter limits where invoke calls may come from. Any one match admits a call.
type Perimeter struct {
	SourceVpcEndpoints []string `yaml:"sourceVpcEndpoints,omitempty" doc:"Interface VPC endpoint ids (vpce-...) of bedrock-runtime the gateway calls through; matched with aws:SourceVpce."`
	SourceVpcs         []string `yaml:"sourceVpcs,omitempty" doc:"VPC ids (vpc-...) calls may come from through a VPC endpoint; matched with aws:SourceVpc."`
	SourceIps          []string `yaml:"sourceIps,omitempty" doc:"Public CIDRs calls may come from without a VPC endpoint (e.g. the NAT gateways' addresses); matched with aws:SourceIp."`
}

// Attribution is the effective cost attribution mode (direct when unset, so
// an existing estate keeps its grants until it opts in).
func (c *Config) Attribution() string {
	if c.CostAttribution == "" {
		return CostDirect
	}
	return c.CostAttribution
}

// UseCaseGuardrail is the guardrail of a use case's own role: its own, else the estate's.
func (c *Config) UseCaseGuardrail(u UseCase) *Guardrail {
	if u.Guardrail != nil {
		return u.Guardrail
	}
	return c.Guardrail
}

// GroupGuardrail is the guardrail of a group's role: its own, else the estate's.
func (c *Config) GroupGuardrail(g Group) *Guardrail {
	if g.Guardrail != nil {
		return g.Guardrail
	}
	return c.Guardrail
}

var (
	guardrailIDRE      = regexp.MustCompile(`^[a-z0-9]{1,64}$`)
	guardrailVersionRE = regexp.MustCompile(`^([1-9][0-9]{0,7}|DRAFT)$`)
	vpceRE             = regexp.MustCompile(`^vpce-([0-9a-f]{8}|[0-9a-f]{17})$`)
	vpcRE              = regexp.MustCompile(`^vpc-([0-9a-f]{8}|[0-9a-f]{17})$`)
)

func (v *validator) governance() {
	c := v.c
	if a := c.CostAttribution; a != "" && a != CostProfiles && a != CostDirect && a != CostBoth {
		v.err(field.NewPath("costAttribution"), KindEnum, DidYouMean(a, []string{CostProfiles, CostDirect, CostBoth}, "use profiles, direct or both"), "unknown cost attribution %q", a)
	}
	// Each guardrail covers the (account, region) pairs its roles are granted in.
	type scope struct {
		path   *field.Path
		g      *Guardrail
		access [][]Access
	}
	var scopes []scope
	if c.Guardrail != nil {
		s := scope{path: field.NewPath("guardrail"), g: c.Guardrail}
		for _, u := range c.UseCases {
			if u.Guardrail == nil {
				s.access = append(s.access, u.Access)
			}
		}
		for _, g := range c.Groups {
			if g.Guardrail == nil {
				s.access = append(s.access, g.Access)
			}
		}
		for _, vd := range c.Vendors {
			s.access = append(s.access, vd.Access)
		}
		scopes = append(scopes, s)
	}
	for i, u := range c.UseCases {
		if u.Guardrail != nil {
			scopes = append(scopes, scope{field.NewPath("useCases").Index(i).Child("guardrail"), u.Guardrail, [][]Access{u.Access}})
		}
	}
	for i, g := range c.Groups {
		if g.Guardrail != nil {
			scopes = append(scopes, scope{field.NewPath("groups").Index(i).Child("guardrail"), g.Guardrail, [][]Access{g.Access}})
		}
	}
	profileOf := map[string]string{} // guardrail id -> its profile and regions, as first given
	for _, s := range scopes {
		if p, seen := profileOf[s.g.ID]; seen && p != s.g.Profile+" "+strings.Join(s.g.ProfileRegions, ",") {
			v.err(s.path.Child("profile"), KindInvalid, "give guardrail "+s.g.ID+" the same profile and profileRegions everywhere (they describe the guardrail itself)", "guardrail %s is given another profile than before", s.g.ID)
		}
		profileOf[s.g.ID] = s.g.Profile + " " + strings.Join(s.g.ProfileRegions, ",")
		if v.required(s.path.Child("id"), s.g.ID == "", "the guardrail's id, e.g. gr0abc123def") && !guardrailIDRE.MatchString(s.g.ID) {
			v.err(s.path.Child("id"), KindPattern, "use the guardrail's id (lower-case letters and digits), not its ARN or name", "%q is not a guardrail id", s.g.ID)
		}
		if v.required(s.path.Child("version"), s.g.Version == "", `the guardrail version to enforce, e.g. "1"`) && !guardrailVersionRE.MatchString(s.g.Version) {
			v.err(s.path.Child("version"), KindPattern, `quote a published version number, e.g. "1", or use DRAFT`, "%q is not a guardrail version", s.g.Version)
		}
		var places []string
		for _, list := range s.access {
			for _, a := range list {
				acct, ok := c.Account(a.Account)
				if !ok {
					continue
				}
				regions := a.Regions
				if len(regions) == 0 {
					regions = acct.Regions
				}
				for _, r := range regions {
					if p := acct.Name + " " + r; !slices.Contains(places, p) {
						places = append(places, p)
					}
				}
			}
		}
		if len(places) > 1 {
			slices.Sort(places)
			v.err(s.path.Child("id"), KindInvalid, "set the guardrail on use cases or groups that are each granted in a single account and region (a guardrail id exists in one account and region only)", "guardrail %s would apply to calls in %s, but a guardrail belongs to one account and region", s.g.ID, strings.Join(places, ", "))
		}
		v.guardrailProfile(s.path, s.g, places)
	}
	v.perimeter()
	v.logging()
	v.enforcedGuardrails()
}

func (v *validator) logging() {
	l := v.c.Logging
	if l != nil && l.CloudWatch == nil && l.S3 == nil {
		v.err(field.NewPath("logging"), KindRequired, "add cloudWatch: {retentionDays: 90}, s3: {expirationDays: 365} or both, or remove logging", "invocation logging has no destination")
	}
}

var publishedVersionRE = regexp.MustCompile(`^[1-9][0-9]{0,7}$`)

func (v *validator) enforcedGuardrails() {
	root := field.NewPath("modelAccounts")
	for i, ma := range v.c.ModelAccounts {
		seen := map[string]bool{}
		for j, g := range ma.EnforcedGuardrails {
			p := root.Index(i).Child("enforcedGuardrails").Index(j)
			if v.required(p.Child("region"), g.Region == "", "one of the account's regions, e.g. "+firstOr(ma.Regions, "us-east-1")) {
				switch {
				case !slices.Contains(ma.Regions, g.Region):
					v.err(p.Child("region"), KindReference, DidYouMean(g.Region, ma.Regions, "use one of "+strings.Join(ma.Regions, ", ")), "%s is not one of account %s's regions", g.Region, ma.Name)
				case seen[g.Region]:
					v.err(p.Child("region"), KindDuplicate, "keep one enforced guardrail per region", "account %s already enforces a guardrail in %s", ma.Name, g.Region)
				}
				seen[g.Region] = true
			}
			if v.required(p.Child("id"), g.ID == "", "the guardrail's id, e.g. gr0abc123def") && !guardrailIDRE.MatchString(g.ID) {
				v.err(p.Child("id"), KindPattern, "use the guardrail's id (lower-case letters and digits), not its ARN or name", "%q is not a guardrail id", g.ID)
			}
			if v.required(p.Child("version"), g.Version == "", `a published version, e.g. "1"`) && !publishedVersionRE.MatchString(g.Version) {
				v.err(p.Child("version"), KindPattern, `quote a published version number, e.g. "1" (enforcement does not take DRAFT)`, "%q is not a published guardrail version", g.Version)
			}
		}
	}
}

func firstOr(list []string, def string) string {
	if len(list) > 0 {
		return list[0]
	}
	return def
}

var guardrailProfileRE = regexp.MustCompile(`^[a-z0-9-]+\.guardrail\.v[0-9:]+$`)

// guardrailProfile checks a guardrail's profile; places are the "<account>
// <region>" pairs the guardrail applies to (one, when valid).
func (v *validator) guardrailProfile(path *field.Path, g *Guardrail, places []string) {
	if g.Profile == "" {
		if len(g.ProfileRegions) > 0 {
			v.err(path.Child("profileRegions"), KindInvalid, "add profile: the guardrail profile's id, or remove profileRegions", "profileRegions without a profile")
		}
		return
	}
	if !guardrailProfileRE.MatchString(g.Profile) {
		v.err(path.Child("profile"), KindPattern, "use the guardrail profile's id, e.g. us.guardrail.v1:0, not its ARN", "%q is not a guardrail profile id", g.Profile)
		return
	}
	if len(places) != 1 || len(g.ProfileRegions) > 0 {
		return
	}
	source := places[0][strings.LastIndexByte(places[0], ' ')+1:]
	if len(g.GuardrailProfileRegions(source)) == 0 {
		v.err(path.Child("profile"), KindInvalid, "list profileRegions: the destination regions of "+g.Profile+" from "+source+" (Bedrock user guide, cross-Region guardrail inference)", "the destination regions of guardrail profile %s from %s are not known to the toolkit", g.Profile, source)
	}
}

func (v *validator) perimeter() {
	p := v.c.Perimeter
	if p == nil {
		return
	}
	at := field.NewPath("perimeter")
	if len(p.SourceVpcEndpoints)+len(p.SourceVpcs)+len(p.SourceIps) == 0 {
		v.err(at, KindRequired, "list sourceVpcEndpoints, sourceVpcs or sourceIps, or remove perimeter", "an empty perimeter would deny every invoke call")
	}
	ids := func(name string, list []string, re *regexp.Regexp, example string) {
		seen := map[string]bool{}
		for i, s := range list {
			path := at.Child(name).Index(i)
			switch {
			case !re.MatchString(s):
				v.err(path, KindPattern, "use an id such as "+example, "%q is not a valid id", s)
			case seen[s]:
				v.err(path, KindDuplicate, "remove the duplicate", "%q is listed twice", s)
			}
			seen[s] = true
		}
	}
	ids("sourceVpcEndpoints", p.SourceVpcEndpoints, vpceRE, "vpce-0a1b2c3d4e5f67890 (the central stack's bedrock-runtime endpoint)")
	ids("sourceVpcs", p.SourceVpcs, vpcRE, "vpc-0a1b2c3d4e5f67890")
	for i, s := range p.SourceIps {
		path := at.Child("sourceIps").Index(i)
		ip, n, err := net.ParseCIDR(s)
		switch {
		case err != nil:
			v.err(path, KindPattern, "use a CIDR such as 203.0.113.10/32", "%q is not a CIDR", s)
		case !ip.Equal(n.IP):
			v.err(path, KindInvalid, fmt.Sprintf("use %s", n), "%q has host bits set", s)
		case ones(n) == 0:
			v.err(path, KindInvalid, "list the gateway's public addresses; a perimeter open to every address is no perimeter", "%q admits every address", s)
		}
	}
}

func ones(n *net.IPNet) int { o, _ := n.Mask.Size(); return o }
