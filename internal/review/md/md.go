// Package md is the Markdown every review report is written in: one
// escaping rule for table cells and list items (a subject such as
// `auth0|abc` must not split a table row), and pull-request comments that fit
// GitHub's size limit.
package md

import (
	"fmt"
	"strings"
)

// textEscapes are the characters that would start formatting, a link, HTML
// or an entity, or end a table cell. A backslash before any ASCII
// punctuation is a literal in CommonMark, and GitHub's table parser turns
// `\|` into a pipe before anything else, so one rule serves cells and lists.
var textEscapes = func() *strings.Replacer {
	var pairs []string
	for _, c := range "\\`*_[]<>|~#!" {
		pairs = append(pairs, string(c), `\`+string(c))
	}
	pairs = append(pairs, "&", "&amp;", "\r\n", " ", "\n", " ", "\r", " ")
	return strings.NewReplacer(pairs...)
}()

// Plural is word for a count of n: "1 role", "2 roles", "3 policies".
func Plural(n int, word string) string {
	switch {
	case n == 1:
		return word
	case strings.HasSuffix(word, "y"):
		return word[:len(word)-1] + "ies"
	}
	return word + "s"
}

// Text is s as literal Markdown text, safe in a table cell or a list item.
func Text(s string) string { return textEscapes.Replace(s) }

// Code is s as a code span, safe in a table cell: the fence is longer than
// any run of backticks inside, and `|` is escaped (GitHub removes the
// backslash inside code spans in tables too). Empty s is empty.
func Code(s string) string {
	if s == "" {
		return ""
	}
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "|", `\|`).Replace(s)
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if longest > 0 || strings.HasPrefix(s, " ") || strings.HasSuffix(s, " ") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// Row is a table row of cells already made safe by Text or Code.
func Row(cells ...string) string { return "| " + strings.Join(cells, " | ") + " |\n" }

// Head is a table's header row and delimiter row.
func Head(cells ...string) string {
	return Row(cells...) + "|" + strings.Repeat("---|", len(cells)) + "\n"
}

// MaxComment is the most characters GitHub accepts in an issue or
// pull-request comment body.
const MaxComment = 65536

// Section is one report in a comment: its text and the file it was written
// to, which a truncated comment points to.
type Section struct {
	Body string
	File string
	// Whole sections (a Mermaid diagram) are left out rather than cut.
	Whole bool
}

// Comment joins a summary and sections into one comment body of at most
// limit bytes (so at most limit characters): the summary first, then each
// section in order, cut at a line boundary (outside any code block) when it
// no longer fits, with a pointer to the full file. Sections with no room
// left, and Whole ones that do not fit, are named at the end.
func Comment(summary string, sections []Section, limit int) string {
	var files []string
	for _, s := range sections {
		files = append(files, s.File)
	}
	noteRoom := len(omitted(files, limit))
	var b strings.Builder
	b.WriteString(strings.TrimRight(summary, "\n") + "\n\n")
	var left []string
	for i, s := range sections {
		reserve := noteRoom
		for _, later := range sections[i+1:] {
			reserve += len(pointer(later.File, len(later.Body)))
		}
		body := strings.TrimRight(s.Body, "\n") + "\n\n"
		if b.Len()+len(body)+reserve <= limit {
			b.WriteString(body)
			continue
		}
		p := pointer(s.File, len(s.Body))
		room := limit - reserve - b.Len() - len(p)
		if s.Whole || room < 200 {
			left = append(left, s.File)
			continue
		}
		b.WriteString(cut(body, room))
		b.WriteString(p)
	}
	if len(left) > 0 {
		b.WriteString(omitted(left, limit))
	}
	return b.String()
}

func omitted(files []string, limit int) string {
	return fmt.Sprintf("Not shown here, as the comment would exceed GitHub's %d characters: %s.\n", limit, strings.Join(quoteAll(files), ", "))
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = "`" + s + "`"
	}
	return out
}

func pointer(file string, size int) string {
	return fmt.Sprintf("\n> [!NOTE]\n> Truncated to fit a comment: the full report (%d characters) is `%s`.\n\n", size, file)
}

// cut keeps the whole lines of s that fit in n bytes, ending outside any
// fenced code block; a table cut between rows stays a valid table.
func cut(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	end, inFence := 0, false
	for pos := 0; pos < len(s); {
		nl := strings.IndexByte(s[pos:], '\n')
		if nl < 0 {
			break
		}
		line := s[pos : pos+nl]
		next := pos + nl + 1
		if next > n {
			break
		}
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inFence = !inFence
		}
		if !inFence {
			end = next
		}
		pos = next
	}
	return s[:end]
}
