package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/acme/genai-estate/internal/review/diff"
)

func planCmd(args []string, stdout, stderr io.Writer) int {
	fs := flags("plan", stderr)
	base := fs.String("base", "", "the base estate: a cdk.out directory or a config file")
	head := fs.String("head", "", "the proposed estate: a cdk.out directory or a config file")
	baseCfg := fs.String("base-config", "", "config the base cdk.out was synthesized from")
	headCfg := fs.String("head-config", "", "config the head cdk.out was synthesized from")
	asJSON := jsonFlags(fs)
	failOn := fs.String("fail-on", "", "broadening and/or replacement, comma-separated: exit 3 when the plan has one")
	baseLabel := fs.String("base-label", "", "how the report names the base, e.g. \"origin/main @ abc1234\" (default: its path)")
	headLabel := fs.String("head-label", "", "how the report names the head (default: its path)")
	if !parse(fs, args, 0, stderr) || !formatOK(fs, stderr) || *base == "" || *head == "" {
		if *base == "" || *head == "" {
			fmt.Fprintln(stderr, "plan needs -base and -head")
		}
		return exitUsage
	}
	if !oneOf(*failOn, stderr, "", "broadening", "replacement") {
		return exitUsage
	}
	var sides [2]diff.Side
	for i, in := range [][2]string{{*base, *baseCfg}, {*head, *headCfg}} {
		s, err := load(in[0], in[1])
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitInvalid
		}
		stacks, err := loadStacks(in[0])
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitInvalid
		}
		sides[i] = diff.Side{Inventory: s.inv, Matrix: s.matrix(), Stacks: stacks}
	}
	p := diff.Compare(sides[0], sides[1])
	if *baseLabel != "" {
		p.Base = *baseLabel
	}
	if *headLabel != "" {
		p.Head = *headLabel
	}
	if asJSON() {
		writeJSON(stdout, p)
	} else {
		p.Markdown(stdout)
	}
	code := exitOK
	if strings.Contains(*failOn, "broadening") && p.Broadening() {
		fmt.Fprintf(stderr, "broadening: %d grants gained, %d new grants beyond the config\n", len(p.Gained), len(p.NewExcess))
		code = exitFailOn
	}
	if strings.Contains(*failOn, "replacement") && p.Replacements() > 0 {
		fmt.Fprintf(stderr, "replacement: %d roles or policies replaced\n", p.Replacements())
		code = exitFailOn
	}
	return code
}
