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

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/acme/genai-estate/stacks"
)

func main() {
	app := awscdk.NewApp(nil)
	e, props, err := stacks.FromContext(app)
	if err != nil {
		// Nothing was added to the app: an invalid config writes no template.
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	stacks.Build(app, e, props)
	app.Synth(nil)
	jsii.Close()
}
