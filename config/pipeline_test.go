package config

import (
	"strings"
	"testing"
)

const pipelineYAML = `pipeline:
  account: "444444444444"
  region: us-east-1
  connectionArn: arn:aws:codeconnections:us-east-1:444444444444:connection/12345678-1234-1234-1234-123456789012
  repository: acme/genai-estate
  bootstrap:
    account: "555555555555"
    region: us-east-1
    organizationalUnitIds: [ou-ab12-cdefgh34]
`

func TestPipelineConfig(t *testing.T) {
	c, err := Parse("p.yaml", []byte(base+pipelineYAML))
	if err != nil {
		t.Fatal(err)
	}
	p := c.Pipeline
	if p.Branch != "main" || p.WaveSize != MaxPipelineWaveSize || p.ManualApprovalOnBroadening == nil || !*p.ManualApprovalOnBroadening || p.Bootstrap.MaxConcurrentPercentage != 25 {
		t.Errorf("defaults not applied: %+v %+v", p, p.Bootstrap)
	}
	off, err := Parse("p.yaml", []byte(base+strings.Replace(pipelineYAML, "  bootstrap:", "  manualApprovalOnBroadening: false\n  bootstrap:", 1)))
	if err != nil || *off.Pipeline.ManualApprovalOnBroadening {
		t.Errorf("an explicit false must stay false: %v", err)
	}
	tests := []struct {
		name, from, to, path, contains string
	}{
		{"connection ARN", "arn:aws:codeconnections:us-east-1:444444444444:connection/12345678-1234-1234-1234-123456789012", "arn:aws:s3:::bucket", "pipeline.connectionArn", "not a connection ARN"},
		{"repository", "repository: acme/genai-estate", "repository: genai-estate", "pipeline.repository", "not owner/name"},
		{"wave over a stage's actions", "repository: acme/genai-estate", "repository: acme/genai-estate\n  waveSize: 26", "pipeline.waveSize", "out of range"},
		{"OU id", "ou-ab12-cdefgh34", "acme-models", "pipeline.bootstrap.organizationalUnitIds[0]", "not an organizational unit id"},
		{"execution policy", "    organizationalUnitIds", "    executionPolicies: [AdministratorAccess]\n    organizationalUnitIds", "pipeline.bootstrap.executionPolicies[0]", "not a managed policy ARN"},
		{"tooling account", `account: "444444444444"`, `account: "4444"`, "pipeline.account", "12-digit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			y := strings.Replace(pipelineYAML, tt.from, tt.to, 1)
			if y == pipelineYAML {
				t.Fatalf("%q not in the YAML", tt.from)
			}
			_, err := Parse("p.yaml", []byte(base+y))
			if err == nil {
				t.Fatal("accepted")
			}
			list, ok := err.(ErrorList)
			if !ok {
				t.Fatalf("%T: %v", err, err)
			}
			found := false
			for _, e := range list {
				found = found || (e.Path == tt.path && strings.Contains(e.Problem, tt.contains) && e.Line > 0 && e.Fix != "")
			}
			if !found {
				t.Errorf("want a located error at %s containing %q, got:\n%v", tt.path, tt.contains, err)
			}
		})
	}
}
