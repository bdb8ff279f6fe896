// Command estatectl checks the use-case/model matrix and reviews what it
// deploys, without CDK or node:
//
//	estatectl validate [-c config] [-json]         same checks as synth; exit 1 on errors
//	estatectl schema                               print the config's JSON Schema
//	estatectl matrix  [-c config] [-json] [SOURCE] who can call which model where
//	estatectl diagram [-c config] [SOURCE]         Mermaid diagram of the estate
//	estatectl plan -base SOURCE -head SOURCE       what a change does to access
//	estatectl deploy-plan [-base SOURCE] -head SOURCE  stacks to deploy, in order, in waves
//	estatectl comment [-o FILE] [-title T] REPORT.md...  one PR comment within GitHub's size limit
//
// SOURCE is a cdk.out directory (default) or a config file, whose plan is
// reviewed without synthesizing.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/estate"
	"github.com/acme/genai-estate/internal/review/access"
	"github.com/acme/genai-estate/internal/review/assembly"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

const usage = `usage:
  estatectl validate [-c config] [-json|-o json]
                                           check a config as synth does; warnings do not fail it
  estatectl schema                         print the config's JSON Schema
  estatectl matrix [-c config] [-json|-o json] [-fail-on excess] [-label L] [SOURCE]
                                           who can call which model where, and what exceeds the config
  estatectl diagram [-c config] [-detail auto|full|summary] [SOURCE]
                                           Mermaid diagram of the estate
  estatectl plan -base SOURCE -head SOURCE [-base-config F] [-head-config F] [-base-label L] [-head-label L]
               [-json|-o json] [-fail-on broadening,replacement]
                                           access gained and lost, roles and policies added, removed, replaced,
                                           and who can assume each added or changed role
  estatectl comment [-o FILE] [-title T] [-max N] REPORT.md...
                                           one pull-request comment of the reports: summary first, each
                                           cut to fit GitHub's 65,536 characters with a pointer to its file
  estatectl deploy-plan [-base SOURCE] -head SOURCE [-wave N] [-json|-o json]
                                           the stacks to deploy, in order, in waves of at most N (default 50)
  estatectl policies [-c config] [-o DIR]   service control policies for the model accounts' OU
                                           (README, "Governance"), one JSON file each

  estatectl help | -h | --help              this text
  estatectl version | --version            the version of this build

SOURCE is a cdk.out directory (default cdk.out) or a config file (its plan,
without synthesizing). -c is the config a cdk.out was synthesized from
(default config/usecases.yaml; "" to skip the comparison). Flags may come
before or after SOURCE.
Exit codes: 0 ok (warnings included), 1 invalid config or unreadable input,
2 bad usage, 3 a -fail-on condition was met.`

// Exit codes.
const (
	exitOK      = 0
	exitInvalid = 1
	exitUsage   = 2
	exitFailOn  = 3
)

// run returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		fmt.Fprintln(stdout, usage)
		return exitOK
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "estatectl", version())
		return exitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "unknown command %q\n%s\n", args[0], usage)
		return exitUsage
	}
	if slices.ContainsFunc(args[1:], isHelp) {
		fmt.Fprintln(stdout, usage)
		return exitOK
	}
	return cmd(args[1:], stdout, stderr)
}

func isHelp(a string) bool { return a == "-h" || a == "-help" || a == "--help" }

// version is the module version the binary was built from (go install
// ...@v1.2.3), or "devel" with the commit when built from a checkout.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	v := bi.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
		if s.Key == "vcs.modified" && s.Value == "true" {
			v += "+dirty"
		}
	}
	return v + " (" + bi.GoVersion + ")"
}

var commands = map[string]func(args []string, stdout, stderr io.Writer) int{
	"schema": func(args []string, stdout, stderr io.Writer) int {
		stdout.Write(config.Schema())
		return exitOK
	},
	"validate": func(args []string, stdout, stderr io.Writer) int {
		fs := flags("validate", stderr)
		path := fs.String("c", config.DefaultPath, "config file")
		asJSON := jsonFlags(fs)
		if !parse(fs, args, 0, stderr) || !formatOK(fs, stderr) {
			return exitUsage
		}
		return validate(*path, asJSON(), stdout, stderr)
	},
	"matrix":      matrix,
	"diagram":     diagramCmd,
	"plan":        planCmd,
	"policies":    policiesCmd,
	"deploy-plan": deployPlanCmd,
	"comment":     commentCmd,
}

func flags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses flags, before or after the positional arguments (the
// standard library stops at the first of them), and allows at most maxArgs
// positional arguments; fs.Args() holds them afterwards.
func parse(fs *flag.FlagSet, args []string, maxArgs int, stderr io.Writer) bool {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			fmt.Fprintln(stderr, usage)
			return false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			positional = append(positional, rest...) // after --, all are arguments
			break
		}
		positional, args = append(positional, rest[0]), rest[1:]
	}
	if err := fs.Parse(append([]string{"--"}, positional...)); err != nil || fs.NArg() > maxArgs {
		fmt.Fprintln(stderr, usage)
		return false
	}
	return true
}

// jsonFlags adds -json and -o text|json to a reporting command; the result
// says whether JSON was asked for.
func jsonFlags(fs *flag.FlagSet) func() bool {
	asJSON := fs.Bool("json", false, "print JSON")
	fs.String("o", "text", "output format: text or json")
	return func() bool { return *asJSON || fs.Lookup("o").Value.String() == "json" }
}

// formatOK checks the value of -o.
func formatOK(fs *flag.FlagSet, stderr io.Writer) bool {
	if o := fs.Lookup("o").Value.String(); o != "text" && o != "json" && o != "markdown" {
		fmt.Fprintf(stderr, "-o %q: use text or json\n", o)
		return false
	}
	return true
}

// validation is validate's JSON output.
type validation struct {
	File        string           `json:"file"`
	Valid       bool             `json:"valid"`
	Errors      int              `json:"errors"`
	Warnings    int              `json:"warnings"`
	Diagnostics config.ErrorList `json:"diagnostics"`
	// What the plan holds, when the config is valid.
	ModelAccounts   int `json:"modelAccounts,omitempty"`
	Roles           int `json:"roles,omitempty"`
	ManagedPolicies int `json:"managedPolicies,omitempty"`
}

// validate runs the config checks and the plan's limit checks: everything
// synth checks before it creates a construct. Warnings are printed and do
// not fail the config.
func validate(path string, asJSON bool, stdout, stderr io.Writer) int {
	out := validation{File: path, Diagnostics: config.ErrorList{}}
	c, err := config.Load(path)
	if err == nil {
		out.Diagnostics = append(out.Diagnostics, c.Warnings...)
		var e *estate.Estate
		if e, err = estate.Build(c); err == nil {
			out.Valid = true
			out.ModelAccounts = len(e.Accounts)
			for _, a := range e.Accounts {
				out.Roles += len(a.Roles)
				for _, r := range a.Roles {
					out.ManagedPolicies += len(r.Policies)
				}
			}
		}
	}
	var list config.ErrorList
	switch {
	case errors.As(err, &list):
		out.Diagnostics = append(out.Diagnostics, list...)
	case err != nil:
		out.Diagnostics = append(out.Diagnostics, &config.Error{Severity: config.SeverityError, Kind: "io", File: path, Problem: err.Error()})
	}
	out.Errors, out.Warnings = out.Diagnostics.Count()
	code := exitOK
	if !out.Valid {
		code = exitInvalid
	}
	if asJSON {
		writeJSON(stdout, out)
		return code
	}
	if !out.Valid {
		fmt.Fprintln(stderr, out.Diagnostics)
		return code
	}
	for _, w := range out.Diagnostics {
		fmt.Fprintln(stderr, w)
	}
	warn := ""
	switch out.Warnings {
	case 0:
	case 1:
		warn = " (1 warning)"
	default:
		warn = fmt.Sprintf(" (%d warnings)", out.Warnings)
	}
	fmt.Fprintf(stdout, "%s: ok: %d model accounts, %d roles, %d managed policies%s\n", path, out.ModelAccounts, out.Roles, out.ManagedPolicies, warn)
	return code
}

// source is what a review reads: the IAM of an estate and, when known, the
// config's plan it is compared with.
type source struct {
	inv *access.Inventory
	e   *estate.Estate
}

// load reads a cdk.out directory (with the config it came from, if any) or a
// config file alone.
func load(src, cfg string) (*source, error) {
	fi, err := os.Stat(src)
	if err != nil {
		return nil, fmt.Errorf("%w: name a cdk.out directory (run `npx cdk synth` to create one) or a config file", err)
	}
	if !fi.IsDir() {
		cfg = src
	}
	s := &source{}
	if cfg != "" {
		c, err := config.Load(cfg)
		if err != nil {
			return nil, err
		}
		if s.e, err = estate.Build(c); err != nil {
			return nil, err
		}
	}
	if !fi.IsDir() {
		s.inv = access.FromEstate(s.e, src)
		return s, nil
	}
	stacks, err := assembly.Read(src)
	if err != nil {
		return nil, err
	}
	s.inv = access.FromAssembly(stacks, src)
	return s, nil
}

func (s *source) matrix() *access.Matrix {
	if s.e == nil {
		return access.Evaluate(s.inv, access.Options{})
	}
	return access.Review(s.inv, s.e)
}

func matrix(args []string, stdout, stderr io.Writer) int {
	fs := flags("matrix", stderr)
	cfg := fs.String("c", config.DefaultPath, "config the cdk.out was synthesized from")
	asJSON := jsonFlags(fs)
	failOn := fs.String("fail-on", "", "excess: exit 3 when anything grants more than the config asks, or less")
	label := fs.String("label", "", "how the report names the source, e.g. \"HEAD @ abc1234\" (default: its path)")
	if !parse(fs, args, 1, stderr) || !formatOK(fs, stderr) || !oneOf(*failOn, stderr, "", "excess") {
		return exitUsage
	}
	s, err := load(argOr(fs, "cdk.out"), *cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitInvalid
	}
	m := s.matrix()
	if *label != "" {
		m.Source = *label
	}
	if asJSON() {
		writeJSON(stdout, m)
	} else {
		m.Markdown(stdout)
	}
	if *failOn == "excess" && len(m.Excess)+len(m.Missing) > 0 {
		fmt.Fprintf(stderr, "%d grants beyond the config, %d missing\n", len(m.Excess), len(m.Missing))
		return exitFailOn
	}
	return exitOK
}

func argOr(fs *flag.FlagSet, def string) string {
	if fs.NArg() > 0 {
		return fs.Arg(0)
	}
	return def
}

// oneOf checks a comma-separated flag value against its allowed words.
func oneOf(v string, stderr io.Writer, allowed ...string) bool {
	for _, w := range strings.Split(v, ",") {
		ok := false
		for _, a := range allowed {
			ok = ok || w == a
		}
		if !ok {
			fmt.Fprintf(stderr, "-fail-on: unknown condition %q (want one of %s)\n", w, strings.Join(allowed[1:], ", "))
			return false
		}
	}
	return true
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}
