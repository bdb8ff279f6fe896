// Command estatectl checks the use-case/model matrix without CDK or node.
//
//	estatectl validate [-c config/usecases.yaml]   same checks as synth; exit 1 on errors
//	estatectl schema                                print the config's JSON Schema
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/estate"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

const usage = `usage:
  estatectl validate [-c path]   check a config as synth does (default config/usecases.yaml)
  estatectl schema               print the config's JSON Schema`

// run returns the exit code: 0 ok, 1 invalid config, 2 bad usage.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	switch args[0] {
	case "schema":
		stdout.Write(config.Schema())
		return 0
	case "validate":
		fs := flag.NewFlagSet("validate", flag.ContinueOnError)
		fs.SetOutput(stderr)
		path := fs.String("c", "config/usecases.yaml", "config file")
		if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 {
			fmt.Fprintln(stderr, usage)
			return 2
		}
		return validate(*path, stdout, stderr)
	}
	fmt.Fprintf(stderr, "unknown command %q\n%s\n", args[0], usage)
	return 2
}

// validate runs the config checks and the plan's limit checks: everything
// synth checks before it creates a construct.
func validate(path string, stdout, stderr io.Writer) int {
	c, err := config.Load(path)
	if err == nil {
		var e *estate.Estate
		if e, err = estate.Build(c); err == nil {
			roles, policies := 0, 0
			for _, a := range e.Accounts {
				roles += len(a.Roles)
				for _, r := range a.Roles {
					policies += len(r.Policies)
				}
			}
			fmt.Fprintf(stdout, "%s: ok: %d model accounts, %d roles, %d managed policies\n", path, len(e.Accounts), roles, policies)
			return 0
		}
	}
	fmt.Fprintln(stderr, err)
	return 1
}
