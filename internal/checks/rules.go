package checks

// Rule is one of the toolkit's own checks. Its id leads every finding it
// makes and the README's threat model cites it, so a failed synth can be
// traced to the threat it guards; TestREADMECitesEveryRule keeps the two in
// step.
type Rule struct {
	ID      string
	Summary string
}

// The rules, in the order the README lists them.
var (
	TrustAnyPrincipal = Rule{"GE-TRUST-ANY", "no role is assumable by any principal"}
	TrustAudience     = Rule{"GE-TRUST-AUD", "every web-identity trust conditions on <issuer>:aud"}
	TrustSubject      = Rule{"GE-TRUST-SUB", "every web-identity trust conditions on <issuer>:sub"}
	TrustExternalID   = Rule{"GE-TRUST-EXTID", "a cross-account (vendor) trust requires sts:ExternalId"}
	BedrockPrefix     = Rule{"GE-BEDROCK-PREFIX", "Bedrock actions use the bedrock: prefix (bedrock-runtime: is not an IAM prefix)"}
	BedrockAction     = Rule{"GE-BEDROCK-ACTION", "no wildcard in Bedrock actions"}
	BedrockResource   = Rule{"GE-BEDROCK-RESOURCE", "no wildcard in the resources of a Bedrock grant"}
	DataRetained      = Rule{"GE-DATA-RETAIN", "stateful resources are retained on delete"}
	DataEncrypted     = Rule{"GE-DATA-ENCRYPT", "buckets, tables and caches are encrypted at rest (caches also in transit)"}
	LogRetention      = Rule{"GE-LOG-RETENTION", "log groups have a retention period"}
	PlaintextSecret   = Rule{"GE-SECRET-ENV", "no plaintext secret in a Lambda or ECS environment"}
	TemplateSize      = Rule{"GE-TEMPLATE-SIZE", "every template stays under CloudFormation's size limit"}
	TemplateNotEmpty  = Rule{"GE-TEMPLATE-EMPTY", "no stack without resources"}
)

// Rules is every rule.
var Rules = []Rule{
	TrustAnyPrincipal, TrustAudience, TrustSubject, TrustExternalID,
	BedrockPrefix, BedrockAction, BedrockResource,
	DataRetained, DataEncrypted, LogRetention, PlaintextSecret,
	TemplateSize, TemplateNotEmpty,
}

// Violation is one rule broken by one resource or document.
type Violation struct {
	Rule    Rule
	Problem string
	Fix     string
}

func (v Violation) String() string { return v.Rule.ID + ": " + v.Problem + "; fix: " + v.Fix }

func violation(r Rule, problem, fix string) Violation {
	return Violation{Rule: r, Problem: problem, Fix: fix}
}
