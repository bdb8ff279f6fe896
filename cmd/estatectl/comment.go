package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/acme/genai-estate/internal/review/md"
)

// commentCmd joins review reports into one pull-request comment that GitHub
// accepts: a summary (the title and each report's one-line summary) first,
// then the reports in order, each cut to fit with a pointer to its file.
func commentCmd(args []string, stdout, stderr io.Writer) int {
	fs := flags("comment", stderr)
	out := fs.String("o", "", "write the comment to this file (default: standard output)")
	title := fs.String("title", "Review", "the comment's heading, e.g. \"Review of HEAD @ abc1234 against origin/main @ def5678\"")
	limit := fs.Int("max", md.MaxComment, "the most characters the comment may have")
	if !parse(fs, args, 100, stderr) || fs.NArg() == 0 {
		if fs.NArg() == 0 {
			fmt.Fprintln(stderr, "comment needs at least one report")
		}
		return exitUsage
	}
	var sections []md.Section
	summary := []string{"## " + *title, ""}
	for _, f := range fs.Args() {
		data, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitInvalid
		}
		body := string(data)
		sections = append(sections, md.Section{Body: body, File: filepath.ToSlash(f), Whole: strings.Contains(body, "```mermaid")})
		if line := summaryLine(body); line != "" {
			summary = append(summary, "- "+line)
		}
	}
	c := md.Comment(strings.Join(summary, "\n"), sections, *limit)
	if *out == "" {
		io.WriteString(stdout, c)
		return exitOK
	}
	if err := os.WriteFile(*out, []byte(c), 0o644); err != nil {
		fmt.Fprintln(stderr, err)
		return exitInvalid
	}
	return exitOK
}

// summaryLine is a report's first paragraph line under its heading: the
// plan's "From … to …: **…**." and the matrix's counts.
// A report that opens with a code block (a diagram) has none.
func summaryLine(body string) string {
	for _, line := range strings.Split(body, "\n") {
		switch line = strings.TrimSpace(line); {
		case strings.HasPrefix(line, "```"):
			return ""
		case line != "" && !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, ">"):
			return line
		}
	}
	return ""
}
