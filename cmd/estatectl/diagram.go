package main

import (
	"fmt"
	"io"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/naming"
	"github.com/acme/genai-estate/internal/review/diagram"
)

func diagramCmd(args []string, stdout, stderr io.Writer) int {
	fs := flags("diagram", stderr)
	cfg := fs.String("c", config.DefaultPath, "config the cdk.out was synthesized from")
	detail := fs.String("detail", diagram.Auto, "auto, full (every role and policy) or summary (one node per account)")
	if !parse(fs, args, 1, stderr) {
		return exitUsage
	}
	if *detail != diagram.Auto && *detail != diagram.Full && *detail != diagram.Summary {
		fmt.Fprintf(stderr, "-detail: %q is not auto, full or summary\n", *detail)
		return exitUsage
	}
	s, err := load(argOr(fs, "cdk.out"), *cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitInvalid
	}
	if err := diagram.Write(stdout, diagram.Props{Matrix: s.matrix(), Inventory: s.inv, Central: s.central(), Detail: *detail, Estate: s.e}); err != nil {
		fmt.Fprintln(stderr, "warning:", err)
	}
	return exitOK
}

// central names the gateway account from the config or, without one, from
// the task role and provider found in the templates.
func (s *source) central() diagram.Central {
	if s.e != nil {
		c := s.e.Config
		return diagram.Central{Account: c.Central.Account, TaskRole: naming.TaskRole{Org: c.Org}.String(),
			IdP: naming.IdP{Org: c.Org, Provider: c.IdentityProvider.Name}.String(), Issuer: c.Issuer()}
	}
	var out diagram.Central
	for _, r := range s.inv.Roles {
		if _, err := naming.ParseTaskRole(r.Name); err == nil {
			out.Account, out.TaskRole = r.Account, r.Name
		}
	}
	for _, p := range s.inv.Providers {
		if p.Account == out.Account || out.IdP == "" {
			out.IdP, out.Issuer = p.Name, p.Issuer
		}
	}
	return out
}
