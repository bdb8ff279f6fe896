package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/acme/genai-estate/config"
	"github.com/acme/genai-estate/internal/estate"
	"github.com/acme/genai-estate/internal/orgpolicy"
)

// policiesCmd writes the service control policies for the model accounts'
// OU, one JSON file per control; nothing is written when any fails.
func policiesCmd(args []string, stdout, stderr io.Writer) int {
	fs := flags("policies", stderr)
	path := fs.String("c", config.DefaultPath, "config file")
	dir := fs.String("o", "policies", "directory to write the policies to")
	if !parse(fs, args, 0, stderr) {
		return exitUsage
	}
	c, err := config.Load(*path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitInvalid
	}
	e, err := estate.Build(c)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitInvalid
	}
	ps, err := orgpolicy.Generate(e)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitInvalid
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		fmt.Fprintln(stderr, err)
		return exitInvalid
	}
	for _, p := range ps {
		b, _ := json.MarshalIndent(p.Document, "", "  ")
		file := filepath.Join(*dir, c.Org+"-"+p.Name+".json")
		if err := os.WriteFile(file, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintln(stderr, err)
			return exitInvalid
		}
		fmt.Fprintf(stdout, "%s\t%d/%d characters\t%s\n", file, p.Document.Size(), orgpolicy.MaxSCPChars, p.Description)
	}
	return exitOK
}
