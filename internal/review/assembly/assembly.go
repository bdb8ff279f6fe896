// Package assembly reads a CDK cloud assembly (cdk.out) the way CloudFormation
// would see it: each stack's template with its account and region, and its
// intrinsic functions resolved as far as a review needs (Ref, Fn::GetAtt,
// Fn::Join, Fn::Sub, Fn::Select, Fn::Split).
package assembly

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/acme/genai-estate/internal/arn"
)

// Stack is one CloudFormation stack of the assembly.
type Stack struct {
	Name      string
	Account   string
	Region    string
	Partition string
	Resources map[string]Resource // by logical id
}

// Resource is one template resource; Properties are resolved.
type Resource struct {
	Type       string
	Properties map[string]any
}

// Read loads every stack of the assembly in dir, sorted by name. A nested
// assembly (a CDK Stage) is read too.
func Read(dir string) ([]*Stack, error) {
	var out []*Stack
	if err := read(dir, &out); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

type manifest struct {
	Artifacts map[string]struct {
		Type         string   `json:"type"`
		Environment  string   `json:"environment"`
		Dependencies []string `json:"dependencies"`
		Properties   struct {
			TemplateFile  string `json:"templateFile"`
			StackName     string `json:"stackName"`
			DirectoryName string `json:"directoryName"`
		} `json:"properties"`
	} `json:"artifacts"`
}

// Artifact is one stack listed by an assembly's manifest.
type Artifact struct {
	Name string
	// Environment is the manifest's aws://account/region, as written.
	Environment string
	// Template is the path of the stack's template file.
	Template string
	// DependsOn names the stacks of the same assembly this one depends on.
	DependsOn []string
}

// Artifacts lists the stacks of the assembly in dir and of every nested
// assembly (a CDK Stage), each manifest's stacks in artifact-id order.
func Artifacts(dir string) ([]Artifact, error) {
	var out []Artifact
	return out, artifacts(dir, &out)
}

func artifacts(dir string, out *[]Artifact) error {
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return fmt.Errorf("%s is not a cloud assembly: %w (run `npx cdk synth` to create it)", dir, err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(dir, "manifest.json"), err)
	}
	names := map[string]string{} // artifact id -> stack name
	for id, a := range m.Artifacts {
		if a.Type == "aws:cloudformation:stack" {
			names[id] = a.Properties.StackName
			if names[id] == "" {
				names[id] = id
			}
		}
	}
	ids := make([]string, 0, len(m.Artifacts))
	for id := range m.Artifacts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		a := m.Artifacts[id]
		switch a.Type {
		case "cdk:cloud-assembly":
			if err := artifacts(filepath.Join(dir, a.Properties.DirectoryName), out); err != nil {
				return err
			}
		case "aws:cloudformation:stack":
			art := Artifact{Name: names[id], Environment: a.Environment, Template: filepath.Join(dir, a.Properties.TemplateFile)}
			for _, d := range a.Dependencies {
				if n, ok := names[d]; ok {
					art.DependsOn = append(art.DependsOn, n)
				}
			}
			*out = append(*out, art)
		}
	}
	return nil
}

func read(dir string, out *[]*Stack) error {
	arts, err := Artifacts(dir)
	if err != nil {
		return err
	}
	for _, a := range arts {
		account, region, ok := parseEnv(a.Environment)
		if !ok {
			return fmt.Errorf("stack %s has environment %q: every stack needs an explicit account and region to be reviewed", a.Name, a.Environment)
		}
		s, err := load(a.Template, a.Name, account, region)
		if err != nil {
			return err
		}
		*out = append(*out, s)
	}
	return nil
}

func parseEnv(env string) (account, region string, ok bool) {
	rest, found := strings.CutPrefix(env, "aws://")
	account, region, _ = strings.Cut(rest, "/")
	if !found || len(account) != 12 || region == "" || strings.HasPrefix(region, "unknown") {
		return "", "", false
	}
	return account, region, true
}

type template struct {
	Parameters map[string]struct {
		Default any `json:"Default"`
	} `json:"Parameters"`
	Resources map[string]struct {
		Type       string         `json:"Type"`
		Properties map[string]any `json:"Properties"`
	} `json:"Resources"`
}

func load(path, name, account, region string) (*Stack, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var t template
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s := &Stack{Name: name, Account: account, Region: region, Partition: arn.PartitionOf(region), Resources: map[string]Resource{}}
	r := &resolver{s: s, t: &t}
	for id, res := range t.Resources {
		props, _ := r.resolve(res.Properties).(map[string]any)
		s.Resources[id] = Resource{Type: res.Type, Properties: props}
	}
	return s, nil
}

// ResourceIDs lists the logical ids of one type, sorted.
func (s *Stack) ResourceIDs(typ string) []string {
	var ids []string
	for id, r := range s.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// AppProfileArn is the ARN an application inference profile of this stack
// stands for in the review. Its real id is generated at deploy; the logical
// id takes its place, so every reference to the profile reads the same ARN
// and a wildcard that would match the real one matches this one too.
func (s *Stack) AppProfileArn(logicalID string) string {
	return arn.Bedrock(s.Partition, s.Region, s.Account, "application-inference-profile", logicalID)
}
