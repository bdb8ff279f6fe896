package main

import (
	"fmt"
	"io"
	"os"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/deployplan"
	"github.com/acme/genai-estate/internal/estate"
)

func deployPlanCmd(args []string, stdout, stderr io.Writer) int {
	fs := flags("deploy-plan", stderr)
	base := fs.String("base", "", "what is deployed now: a cdk.out directory or a config file; without it every stack is deployed")
	head := fs.String("head", "", "what to deploy: a cdk.out directory or a config file")
	wave := fs.Int("wave", deployplan.DefaultWaveSize, "stacks per wave")
	asJSON := fs.Bool("json", false, "print JSON (a GitHub Actions matrix per wave) instead of Markdown")
	format := fs.String("o", "markdown", "output: markdown or json")
	if !parse(fs, args, 0, stderr) {
		return exitUsage
	}
	if *head == "" {
		fmt.Fprintln(stderr, "deploy-plan needs -head")
		return exitUsage
	}
	if *wave < 1 {
		fmt.Fprintf(stderr, "-wave %d: a wave holds at least one stack\n", *wave)
		return exitUsage
	}
	if *format != "markdown" && *format != "json" {
		fmt.Fprintf(stderr, "-o %q: use markdown or json\n", *format)
		return exitUsage
	}
	var b []deployplan.Stack
	if *base != "" {
		var err error
		if b, err = loadStacks(*base); err != nil {
			fmt.Fprintln(stderr, err)
			return exitInvalid
		}
	}
	h, err := loadStacks(*head)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitInvalid
	}
	if b == nil && *base != "" {
		b = []deployplan.Stack{}
	}
	p := deployplan.Order(b, h, *wave)
	if *asJSON || *format == "json" {
		writeJSON(stdout, p)
	} else {
		p.Markdown(stdout)
	}
	return exitOK
}

// loadStacks reads the stacks of a cdk.out directory, or of a config's plan.
func loadStacks(src string) ([]deployplan.Stack, error) {
	fi, err := os.Stat(src)
	if err != nil {
		return nil, fmt.Errorf("%w: name a cdk.out directory (run `npx cdk synth` to create one) or a config file", err)
	}
	if fi.IsDir() {
		return deployplan.FromAssembly(src)
	}
	c, err := config.Load(src)
	if err != nil {
		return nil, err
	}
	e, err := estate.Build(c)
	if err != nil {
		return nil, err
	}
	return deployplan.FromEstate(e), nil
}
