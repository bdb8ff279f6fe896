// Command app is the CDK app: one stack per shared model account, generated
// from the use-case/model matrix.
//
//	cdk synth                                  # reads config/usecases.yaml
//	cdk synth -c config=path/to/estate.yaml
//	cdk deploy -c accounts=SharedModelsA ACME-GenAI-SharedModelsA
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/acme/genai-estate/stacks"
)

func main() {
	if os.Getenv("GENAI_PHASES") != "" {
		// scripts/bench-synth.sh reads these lines.
		mark := time.Now()
		stacks.Trace = func(phase string) {
			fmt.Fprintf(os.Stderr, "genai-estate phase %s %.3fs\n", phase, time.Since(mark).Seconds())
			mark = time.Now()
		}
	}
	app := awscdk.NewApp(nil)
	stacks.Trace("start")
	e, props, err := stacks.FromContext(app)
	if err != nil {
		// Nothing was added to the app: an invalid config writes no template.
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	stacks.Build(app, e, props)
	stacks.Trace("constructs")
	_, err = stacks.Synth(app)
	jsii.Close()
	if err != nil {
		// A security or limit finding: the templates must not be deployed.
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
