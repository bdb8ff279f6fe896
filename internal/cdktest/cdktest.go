// Package cdktest holds what every test package that synthesizes with CDK
// shares.
package cdktest

import (
	"os"
	"testing"

	"github.com/aws/jsii-runtime-go"
)

// Main runs a package's tests, as its TestMain, against a fresh jsii node
// process with CDK's built-in template validation off (it costs seconds per
// synth; test/app_test.go runs the app with it on) and node's end-of-life
// notice silenced, and stops node after them.
func Main(m *testing.M) {
	os.Setenv("CDK_VALIDATION", "false")
	os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
	jsii.Close() // jsii starts node at package init: restart it so it sees the variables
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}
