package config

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one located problem in a config file: where it is, what is wrong
// and how to fix it.
type Error struct {
	File    string
	Line    int
	Column  int
	Path    string // field path, e.g. useCases[2].access[0].models[1]
	Problem string
	Fix     string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Problem)
	if e.Fix != "" {
		b.WriteString("\n    fix: " + e.Fix)
	}
	return b.String()
}

// ErrorList aggregates every problem found in one run.
type ErrorList []*Error

func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	noun := "errors"
	if len(l) == 1 {
		noun = "error"
	}
	return fmt.Sprintf("%d config %s:\n%s", len(l), noun, strings.Join(msgs, "\n"))
}

// Sort orders errors by file position, so output is stable and reads top to bottom.
func (l ErrorList) Sort() {
	sort.SliceStable(l, func(i, j int) bool {
		if l[i].Line != l[j].Line {
			return l[i].Line < l[j].Line
		}
		if l[i].Column != l[j].Column {
			return l[i].Column < l[j].Column
		}
		return l[i].Path < l[j].Path
	})
}

// Err returns nil for an empty list, so callers can `return errs.Err()`.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	l.Sort()
	return l
}

// Reporter collects errors against the positions recorded while decoding.
type Reporter struct {
	File string
	Pos  map[string]Pos
	List ErrorList
	// covered marks paths already explained by another error, such as the
	// field that a misspelled key was meant to be.
	covered map[string]bool
}

// Add records a problem at path. The position is that of the path, or of its
// nearest recorded parent when the field is missing.
func (r *Reporter) Add(path, fix, format string, args ...any) {
	p := r.at(path)
	r.List = append(r.List, &Error{File: r.File, Line: p.Line, Column: p.Column, Path: path, Problem: fmt.Sprintf(format, args...), Fix: fix})
}

func (r *Reporter) at(path string) Pos {
	for path != "" {
		if p, ok := r.Pos[path]; ok {
			return p
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return r.Pos[""]
}

// Has reports whether a problem was already recorded at path, so that a
// value that failed to decode is not also reported as missing.
func (r *Reporter) Has(path string) bool {
	if r.covered[path] {
		return true
	}
	for _, e := range r.List {
		if e.Path == path {
			return true
		}
	}
	return false
}

// DidYouMean returns a fix suggesting the closest candidate, or fallback.
func DidYouMean(got string, candidates []string, fallback string) string {
	best, bestD := "", -1
	for _, c := range candidates {
		d := distance(strings.ToLower(got), strings.ToLower(c))
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	// Close enough to be a typo: a third of the word, at least 2 edits.
	if bestD >= 0 && bestD <= max(2, len(got)/3) {
		return fmt.Sprintf("did you mean %q?", best)
	}
	return fallback
}

// distance is the Levenshtein edit distance.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
