package estate

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/naming"
)

// The CloudFormation of a model-account shard, rendered in Go. The stack
// hands it to CDK in one piece (package include), so creating a shard
// costs a handful of jsii calls whatever its size, and the same rendering
// gives the byte count that sharding keeps under CloudFormation's limit.
//
// Logical ids are the ones CDK gave the construct tree this replaced
// (<subject>/Role, <subject>/<Provider>Policy, <subject>/Arn), so deployed
// stacks keep their resources.

// LogicalID is the logical id CDK allocates to a construct at path (the
// construct ids below the stack), as aws-cdk-lib's makeUniqueId does.
func LogicalID(path ...string) string {
	parts, human, hashed := logicalID(path)
	if !hashed {
		return human
	}
	sum := md5.Sum([]byte(strings.Join(parts, "/")))
	return human + strings.ToUpper(hex.EncodeToString(sum[:])[:8])
}

// logicalIDLen is len(LogicalID(path...)) without hashing: the hash suffix
// is always 8 characters, and the plan sizes every role's entries before
// any id is written.
func logicalIDLen(path ...string) int {
	_, human, hashed := logicalID(path)
	if hashed {
		return len(human) + 8
	}
	return len(human)
}

// logicalID is the readable part of a logical id (the whole id when no hash
// follows), and the path components the hash is taken over.
func logicalID(path []string) (parts []string, human string, hashed bool) {
	for _, p := range path {
		if p != "Default" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 1 {
		if id := alnum(parts[0]); len(id) <= 255 {
			return parts, id, false
		}
	}
	// CDK drops a component that the previous one ends with, then "Resource".
	var dedup, readable []string
	for _, p := range parts {
		if len(dedup) == 0 || !strings.HasSuffix(dedup[len(dedup)-1], p) {
			dedup = append(dedup, p)
		}
	}
	for _, p := range dedup {
		if p != "Resource" {
			readable = append(readable, p)
		}
	}
	h := alnum(strings.Join(readable, ""))
	return parts, h[:min(len(h), 240)], true
}

// alnum keeps the ASCII letters and digits of s: what the regexp it
// replaced kept, at a fraction of the cost (LogicalID runs several times per role).
func alnum(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			b = append(b, c)
		}
	}
	return string(b)
}

// Template is a template fragment whose sections keep insertion order, so
// CDK creates (and writes) the resources in the order they were planned.
type Template struct {
	Resources ordered `json:"Resources"`
	Outputs   ordered `json:"Outputs,omitempty"`
}

type ordered []member

type member struct {
	key   string
	value any
}

func (o *ordered) add(key string, value any) { *o = append(*o, member{key, value}) }

// MarshalJSON writes the members in order, each value as encoding/json
// writes it without HTML escaping (the keys too).
func (o ordered) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, m := range o {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, m.key, false)
		b = append(b, ':')
		v, err := marshal(m.value)
		if err != nil {
			return nil, err
		}
		b = append(b, v...)
	}
	return append(b, '}'), nil
}

func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// JSON is the template, minified: what encoding/json writes for it
// (TestTemplateJSON), without its reflection. The app renders every shard
// of the estate on each synth, and this was a third of that.
func (t *Template) JSON() []byte {
	b := make([]byte, 0, 4096)
	b = append(b, `{"Resources":`...)
	b = appendValue(b, t.Resources)
	if len(t.Outputs) > 0 {
		b = append(b, `,"Outputs":`...)
		b = appendValue(b, t.Outputs)
	}
	return append(b, '}')
}

// ProviderID is the logical id of the account's OIDC provider: its
// convention name, so the id reads as one.
func (a *Account) ProviderID() string { return LogicalID(a.IdPName.String()) }

// RoleID is the logical id of a role.
func (r *Role) RoleID() string { return LogicalID(r.Name.Subject, "Role") }

// PolicyID is the logical id of one of the role's managed policies: from the
// provider name and part, so it does not depend on list positions.
func (r *Role) PolicyID(p *Policy) string { return LogicalID(r.Name.Subject, p.ConstructID()) }

// ConstructID is the id of the policy's construct below its role's
// (<Provider>[<part>]Policy), which PolicyID hashes.
func (p *Policy) ConstructID() string {
	child := p.Name.Provider
	if p.Name.Part > 1 {
		child += strconv.Itoa(p.Name.Part)
	}
	return child + "Policy"
}

// PolicyDescription is the description of one of the role's managed policies.
func (r *Role) PolicyDescription(p *Policy) string {
	return "Bedrock models of " + r.Name.Subject + " from " + p.Name.Provider
}

// OwnTags are the tags a role carries in its template besides the app's.
func (r *Role) OwnTags() []Tag {
	return []Tag{{naming.TagUseCase, r.Name.Subject}, {naming.TagRoleKind, r.Kind}, {naming.TagTrustPolicy, r.TrustName.String()}}
}

// ProviderTags are the tags of the account's OIDC provider besides the app's.
func (a *Account) ProviderTags() []Tag { return []Tag{{"Name", a.IdPName.String()}} }

// StackDescription is the description of the account's shard stacks.
func (a *Account) StackDescription() string {
	return "Bedrock invoke roles of shared model account " + a.Name + " (generated from the use-case/model matrix)"
}

// OutputID is the logical id of the output holding the role's ARN.
func (r *Role) OutputID() string { return LogicalID(r.Name.Subject, "Arn") }

// ShardTemplate renders a shard's resources: the OIDC provider (in the first
// shard, when the account creates it) and each role with its managed
// policies and an output of its ARN. Tags from the app are not in it; CDK
// adds them to every taggable resource.
func (a *Account) ShardTemplate(c *config.Config, shard int) *Template {
	t := &Template{}
	dependsOn := ""
	if a.CreateProvider && shard == 0 {
		idp := c.IdentityProvider
		props := map[string]any{
			"Url":          idp.IssuerURL,
			"ClientIdList": idp.Audiences,
			"Tags":         tagList(a.ProviderTags()),
		}
		if len(idp.Thumbprints) > 0 {
			props["ThumbprintList"] = idp.Thumbprints
		}
		dependsOn = a.ProviderID()
		t.Resources.add(dependsOn, map[string]any{"Type": "AWS::IAM::OIDCProvider", "Properties": props})
	}
	for _, r := range a.ShardRoles(shard) {
		r.render(t, dependsOn, nil)
	}
	return t
}

// render adds the role's resources and output to t; extra are more tags
// (the app's, for a size estimate).
func (r *Role) render(t *Template, dependsOn string, extra []Tag) {
	role := map[string]any{
		"Type": "AWS::IAM::Role",
		"Properties": map[string]any{
			"RoleName":                 r.Name.String(),
			"Description":              r.Description,
			"AssumeRolePolicyDocument": sortedDoc(r.Trust), // sorted keys, as CDK wrote them before
			"MaxSessionDuration":       3600,
			"Tags":                     tagList(append(r.OwnTags(), extra...)),
		},
	}
	if dependsOn != "" {
		role["DependsOn"] = []string{dependsOn}
	}
	id := r.RoleID()
	t.Resources.add(id, role)
	for _, p := range r.Policies {
		t.Resources.add(r.PolicyID(p), map[string]any{
			"Type": "AWS::IAM::ManagedPolicy",
			"Properties": map[string]any{
				"ManagedPolicyName": p.Name.String(),
				"Description":       r.PolicyDescription(p),
				"PolicyDocument":    sortedDoc(p.Document),
				"Roles":             []any{map[string]string{"Ref": id}},
			},
		})
	}
	t.Outputs.add(r.OutputID(), map[string]any{
		"Description": "ARN of " + r.Name.String(),
		"Value":       map[string]any{"Fn::GetAtt": []string{id, "Arn"}},
	})
}

// tagList is tags as a template's Tags property.
func tagList(tags []Tag) []map[string]string {
	out := make([]map[string]string, len(tags))
	for i, t := range tags {
		out[i] = map[string]string{"Key": t.Key, "Value": t.Value}
	}
	return out
}

// templateBytes estimates what a role adds to its stack's template as CDK
// writes it (JSON indented by one space): its resources, with the app's tags
// on the role and CDK's path metadata on each, and its output. It adds up the
// sizes of what render writes, member by member, without building or
// encoding it (size.go); TestTemplateBytesExact holds the two together.
func (r *Role) templateBytes(a *Account, tags []Tag, stack string) int {
	trust := r.trustShape
	if trust == (docShape{}) {
		trust = measure(r.Trust)
	}
	// Logical ids are letters and digits: their JSON size is their length
	// plus quotes, known without computing their hashes.
	id, subject := 2+logicalIDLen(r.Name.Subject, "Role"), r.Name.Subject
	metadata := func(key int) int {
		return field("Metadata", object(1, field("aws:cdk:path", strSize(stack, "/Roles/")+key-2)))
	}
	tag := func(k, v string) int { return object(3, field("Key", strSize(k)), field("Value", strSize(v))) }
	tagSizes := make([]int, 0, 3+len(tags))
	tagSizes = append(tagSizes, tag(naming.TagUseCase, subject), tag(naming.TagRoleKind, r.Kind), tag(naming.TagTrustPolicy, r.TrustName.String()))
	for _, t := range tags {
		tagSizes = append(tagSizes, tag(t.Key, t.Value))
	}
	n := entrySize(id, object(0,
		field("Type", strSize("AWS::IAM::Role")),
		field("Properties", object(1,
			field("RoleName", strSize(r.Name.String())),
			field("Description", strSize(r.Description)),
			field("AssumeRolePolicyDocument", shape(trust).at(2)),
			field("MaxSessionDuration", len("3600")),
			field("Tags", object(2, tagSizes...)))),
		field("DependsOn", object(1, 2+logicalIDLen(a.IdPName.String()))),
		metadata(id)))
	for _, p := range r.Policies {
		doc := p.shape
		if doc == (docShape{}) {
			doc = measure(p.Document)
		}
		pid := 2 + logicalIDLen(r.Name.Subject, p.ConstructID())
		n += entrySize(pid, object(0,
			field("Type", strSize("AWS::IAM::ManagedPolicy")),
			field("Properties", object(1,
				field("ManagedPolicyName", strSize(p.Name.String())),
				field("Description", strSize("Bedrock models of ", subject, " from ", p.Name.Provider)),
				field("PolicyDocument", shape(doc).at(2)),
				field("Roles", object(2, object(3, field("Ref", id)))))),
			metadata(pid)))
	}
	return n + entrySize(2+logicalIDLen(r.Name.Subject, "Arn"), object(0,
		field("Description", strSize("ARN of ", r.Name.String())),
		field("Value", object(1, field("Fn::GetAtt", object(2, id, strSize("Arn")))))))
}

// entrySize is the size of `"key": value,` at depth 2 of an indented
// template, given the sizes of the key (as a JSON string) and the value.
func entrySize(key, value int) int {
	return 2 + key + 2 + value + 1 + 1 // indent, key, ": ", value, newline, comma
}
