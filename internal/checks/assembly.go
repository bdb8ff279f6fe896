package checks

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/acme/genai-estate/internal/estate"
)

// Finding is one failed check, located at the construct that made the
// resource (or at the stack, for a finding about the whole template).
type Finding struct {
	Stack     string
	LogicalID string // empty for a finding about the whole template
	Path      string // construct path, e.g. ACME-GenAI-SharedModelsA/UseCaseA/Role
	Rule      Rule
	Problem   string
	Fix       string
}

func (f Finding) String() string {
	return fmt.Sprintf("[genai-estate %s] %s: %s\n  fix: %s", f.Rule.ID, f.Path, f.Problem, f.Fix)
}

// Findings is every finding of one synth; as an error, it fails the synth.
type Findings []Finding

func (fs Findings) Error() string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(f.String())
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "%d security or limit finding(s): the synthesized templates must not be deployed", len(fs))
	return b.String()
}

// templateSizeWarning is the id of CDK's own warning for a template over 80%
// of CloudFormation's limit; the estate is sharded to stay under it.
const templateSizeWarning = "@aws-cdk/core:Stack.templateSize"

// Assembly checks every stack of the cloud assembly in dir (nested
// assemblies too): every rule on every resource, the template's size, that
// it has resources at all, and CDK's template-size warning.
func Assembly(dir string) (Findings, error) {
	var out Findings
	if err := assembly(dir, &out); err != nil {
		return nil, err
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Stack != out[j].Stack {
			return out[i].Stack < out[j].Stack
		}
		return out[i].Path < out[j].Path
	})
	return out, nil
}

// MetadataEntry is one entry of a stack's metadata in the manifest.
type MetadataEntry struct {
	Type string `json:"type"`
	Data any    `json:"data"`
}

type manifest struct {
	Artifacts map[string]struct {
		Type       string `json:"type"`
		Properties struct {
			TemplateFile  string `json:"templateFile"`
			StackName     string `json:"stackName"`
			DirectoryName string `json:"directoryName"`
		} `json:"properties"`
		Metadata               map[string][]MetadataEntry `json:"metadata"`
		AdditionalMetadataFile string                     `json:"additionalMetadataFile"`
	} `json:"artifacts"`
}

func assembly(dir string, out *Findings) error {
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return fmt.Errorf("%s is not a cloud assembly: %w", dir, err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(dir, "manifest.json"), err)
	}
	for _, id := range slices.Sorted(maps.Keys(m.Artifacts)) {
		a := m.Artifacts[id]
		switch a.Type {
		case "cdk:cloud-assembly":
			if err := assembly(filepath.Join(dir, a.Properties.DirectoryName), out); err != nil {
				return err
			}
		case "aws:cloudformation:stack":
			md := a.Metadata
			if a.AdditionalMetadataFile != "" {
				b, err := os.ReadFile(filepath.Join(dir, a.AdditionalMetadataFile))
				if err != nil {
					return err
				}
				if err := json.Unmarshal(b, &md); err != nil {
					return fmt.Errorf("%s: %w", a.AdditionalMetadataFile, err)
				}
			}
			body, err := os.ReadFile(filepath.Join(dir, a.Properties.TemplateFile))
			if err != nil {
				return err
			}
			name := a.Properties.StackName
			if name == "" {
				name = id
			}
			fs, err := Template(name, body, md)
			if err != nil {
				return fmt.Errorf("%s: %w", a.Properties.TemplateFile, err)
			}
			*out = append(*out, fs...)
		}
	}
	return nil
}

// Template checks one synthesized stack template; md is the stack's
// metadata from the manifest (construct path -> entries), which maps
// logical ids to construct paths and carries CDK's warnings.
func Template(stack string, body []byte, md map[string][]MetadataEntry) (Findings, error) {
	var t struct {
		Resources map[string]struct {
			Type           string         `json:"Type"`
			Properties     map[string]any `json:"Properties"`
			DeletionPolicy string         `json:"DeletionPolicy"`
		} `json:"Resources"`
	}
	if err := json.Unmarshal(body, &t); err != nil {
		return nil, err
	}
	paths := map[string]string{}
	stackPath := stack
	var out Findings
	for _, p := range slices.Sorted(maps.Keys(md)) {
		for _, e := range md[p] {
			switch e.Type {
			case "aws:cdk:logicalId":
				if id, ok := e.Data.(string); ok {
					paths[id] = strings.TrimPrefix(p, "/")
				}
			case "aws:cdk:warning":
				if msg, _ := e.Data.(string); strings.Contains(msg, templateSizeWarning) {
					out = append(out, Finding{Stack: stack, Path: strings.TrimPrefix(p, "/"), Rule: TemplateSize, Problem: "CDK warns: " + msg,
						Fix: fmt.Sprintf("keep every template under %d bytes: raise the account's stackShards, or move roles to another account", estate.TemplateBytesBudget)})
				}
			}
		}
	}
	if n := len(body); n > estate.MaxTemplateBytes {
		out = append(out, Finding{Stack: stack, Path: stackPath, Rule: TemplateSize,
			Problem: fmt.Sprintf("template is %d bytes, %d over CloudFormation's limit of %d", n, n-estate.MaxTemplateBytes, estate.MaxTemplateBytes),
			Fix:     "raise the account's stackShards, or move roles to another account"})
	}
	real := 0
	for _, id := range slices.Sorted(maps.Keys(t.Resources)) {
		r := t.Resources[id]
		if r.Type != "AWS::CDK::Metadata" {
			real++
		}
		path := paths[id]
		if path == "" {
			path = stack + "/" + id
		}
		for _, v := range Resource(r.Type, r.Properties, r.DeletionPolicy) {
			out = append(out, Finding{Stack: stack, LogicalID: id, Path: path, Rule: v.Rule, Problem: v.Problem, Fix: v.Fix})
		}
	}
	if real == 0 {
		out = append(out, Finding{Stack: stack, Path: stackPath, Rule: TemplateNotEmpty, Problem: "the stack has no resources, and CloudFormation rejects a template without resources",
			Fix: "remove the stack from the app (the toolkit skips empty shards; a stack added by hand needs a resource)"})
	}
	return out, nil
}
