// Command app is the CDK app: it synthesizes one stack per shared model
// account from the use-case/model matrix.
//
//	cdk synth                                  # config/usecases.yaml
//	cdk synth -c config=path/to/estate.yaml
//	cdk deploy -c accounts=SharedModelsA ACME-GenAI-SharedModelsA
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/estate"
	"github.com/acme/genai-estate/stacks"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	path := contextString(app, "config", "config/usecases.yaml")
	var accounts []string
	if s := contextString(app, "accounts", ""); s != "" {
		accounts = strings.Split(s, ",")
	}
	e, err := plan(path, accounts)
	if err != nil {
		// Nothing has been added to the app: an invalid config writes no template.
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	stacks.Build(app, e, &stacks.BuildProps{Accounts: accounts})
	app.Synth(nil)
}

// plan loads, validates and plans the estate, in pure Go.
func plan(path string, accounts []string) (*estate.Estate, error) {
	c, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	var list config.ErrorList
	for _, name := range accounts {
		if _, ok := c.Account(name); !ok {
			var names []string
			for _, a := range c.ModelAccounts {
				names = append(names, a.Name)
			}
			list = append(list, &config.Error{File: "cdk context", Path: "accounts", Problem: fmt.Sprintf("unknown model account %q", name),
				Fix: config.DidYouMean(name, names, "use names from modelAccounts: "+strings.Join(names, ","))})
		}
	}
	if len(list) > 0 {
		return nil, list
	}
	return estate.Build(c)
}

func contextString(app awscdk.App, key, def string) string {
	if v, ok := app.Node().TryGetContext(jsii.String(key)).(string); ok && v != "" {
		return v
	}
	return def
}
