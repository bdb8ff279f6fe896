// Package bootstrap holds the CDK bootstrap template that the bootstrap
// StackSet deploys into every model account.
//
// The template is `npx cdk bootstrap --show-template` of the CDK CLI pinned
// in package.json (CLIVersion), which works offline. It is embedded rather
// than read from node_modules at synth time so that synthesis needs no
// node_modules path and no CLI process; a test compares it with the pinned
// CLI's output, so bumping the CLI without refreshing it fails CI:
//
//	npx cdk bootstrap --show-template > internal/bootstrap/cdk-bootstrap-template.yaml
package bootstrap

import (
	_ "embed"
	"regexp"
)

// Template is the CDK bootstrap template (YAML).
//
//go:embed cdk-bootstrap-template.yaml
var Template string

// CLIVersion is the aws-cdk CLI version the template comes from.
const CLIVersion = "2.1148.1"

// Qualifier is the bootstrap qualifier the CDK uses by default; the
// template's roles are named cdk-<qualifier>-<role>-<account>-<region>.
const Qualifier = "hnb659fds"

var versionRE = regexp.MustCompile(`(?m)^  BootstrapVersion:\n(?:    .*\n)*?    Value: "?([0-9]+)"?`)

// Version is the template's bootstrap version (its BootstrapVersion output).
func Version() string {
	m := versionRE.FindStringSubmatch(Template)
	if m == nil {
		return ""
	}
	return m[1]
}
