package config

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/acme/genai-estate/config/field"
)

// Severity says whether a diagnostic stops the config (error) or only
// advises (warning).
type Severity string

// Severities.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Kinds of diagnostic, for tools that filter or count them.
const (
	KindSyntax    = "syntax"    // the file is not YAML, or not one YAML document
	KindUnknown   = "unknown"   // a key the config does not have
	KindDuplicate = "duplicate" // a key or value given twice
	KindType      = "type"      // a list where a value belongs, a word where a number does
	KindRequired  = "required"  // a required field is missing
	KindPattern   = "pattern"   // a value does not have the declared form
	KindEnum      = "enum"      // a value outside the declared set
	KindRange     = "range"     // a number outside the declared or service range
	KindReference = "reference" // a name that nothing in the config defines
	KindInvalid   = "invalid"   // any other value a service would reject
	KindLimit     = "limit"     // an AWS quota the estate would exceed
	KindSecurity  = "security"  // allowed, but weaker than it should be
)

// Error is one located diagnostic in a config file: its severity and kind,
// where it is, what is wrong and how to fix it.
type Error struct {
	Severity Severity `json:"severity"`
	Kind     string   `json:"kind"`
	File     string   `json:"file"`
	Line     int      `json:"line,omitempty"`
	Column   int      `json:"column,omitempty"`
	Path     string   `json:"path,omitempty"` // field path, e.g. useCases[2].access[0].models[1]
	Problem  string   `json:"message"`
	Fix      string   `json:"fix,omitempty"`
}

// MarshalJSON writes an Error built without severity or kind (outside this
// package) as the error it is.
func (e *Error) MarshalJSON() ([]byte, error) {
	type plain Error
	c := plain(*e)
	if c.Severity == "" {
		c.Severity = SeverityError
	}
	if c.Kind == "" {
		c.Kind = KindInvalid
	}
	return json.Marshal(c)
}

// IsWarning reports whether the diagnostic only advises.
func (e *Error) IsWarning() bool { return e.Severity == SeverityWarning }

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	b.WriteString(": ")
	if e.IsWarning() {
		b.WriteString("warning: ")
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Problem)
	if e.Fix != "" {
		b.WriteString("\n    fix: " + e.Fix)
	}
	return b.String()
}

// ErrorList aggregates every diagnostic found in one run: the errors and,
// alongside them, the warnings.
type ErrorList []*Error

func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	errs, warns := l.Count()
	head := plural(errs, "config error")
	if warns > 0 {
		head += ", " + plural(warns, "warning")
	}
	return fmt.Sprintf("%s:\n%s", head, strings.Join(msgs, "\n"))
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// Count returns the number of errors and of warnings.
func (l ErrorList) Count() (errs, warns int) {
	for _, e := range l {
		if e.IsWarning() {
			warns++
		} else {
			errs++
		}
	}
	return errs, warns
}

// Warnings returns the warnings only.
func (l ErrorList) Warnings() ErrorList {
	var out ErrorList
	for _, e := range l {
		if e.IsWarning() {
			out = append(out, e)
		}
	}
	return out
}

// Sort orders diagnostics by file position, so output is stable and reads top to bottom.
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

// Err returns nil when the list holds no error (warnings alone do not fail
// a config), so callers can `return errs.Err()`.
func (l ErrorList) Err() error {
	if errs, _ := l.Count(); errs == 0 {
		return nil
	}
	l.Sort()
	return l
}

// WriteJSON writes the diagnostics as a JSON array (never null).
func (l ErrorList) WriteJSON(w io.Writer) error {
	if l == nil {
		l = ErrorList{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(l)
}

// Reporter collects diagnostics against the positions recorded while decoding.
type Reporter struct {
	File string
	Pos  map[string]Pos
	List ErrorList
	// covered marks paths already explained by another error, such as the
	// field that a misspelled key was meant to be.
	covered map[string]bool
	// errAt marks the paths that have an error, errUnder those that have
	// one at or below them, and seen each error's position and words.
	errAt, errUnder map[string]bool
	seen            map[[4]string]bool
	// once keeps one error per path: the first check to explain a value
	// wins, and later checks of the same value stay silent.
	once bool
}

// AddAt records an error of a kind at a typed path. The position is that of
// the path, or of its nearest recorded parent when the field is missing.
func (r *Reporter) AddAt(p *field.Path, kind, fix, format string, args ...any) {
	r.add(SeverityError, kind, p.String(), fix, format, args...)
}

// Warn records a warning of a kind at a typed path: the config is valid, but
// weaker or riskier than it should be.
func (r *Reporter) Warn(p *field.Path, kind, fix, format string, args ...any) {
	r.add(SeverityWarning, kind, p.String(), fix, format, args...)
}

func (r *Reporter) add(sev Severity, kind, path, fix, format string, args ...any) {
	p := r.at(path)
	problem := fmt.Sprintf(format, args...)
	if sev == SeverityError {
		// An aliased value that is wrong is wrong once, wherever the alias
		// repeats it: same position, same words, one error.
		key := [4]string{strconv.Itoa(p.Line), strconv.Itoa(p.Column), problem, fix}
		if r.once && (r.errAt[path] || r.seen[key]) {
			return
		}
		if r.errAt == nil {
			r.errAt, r.errUnder, r.seen = map[string]bool{}, map[string]bool{}, map[[4]string]bool{}
		}
		r.errAt[path], r.seen[key] = true, true
		for q := path; q != "" && !r.errUnder[q]; q = parentPath(q) {
			r.errUnder[q] = true
		}
	}
	r.List = append(r.List, &Error{Severity: sev, Kind: kind, File: r.File, Line: p.Line, Column: p.Column, Path: path, Problem: problem, Fix: fix})
}

// parentPath is the path one step up: useCases[2].name -> useCases[2] -> useCases.
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
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

// Cover marks a path as explained by an error already reported elsewhere,
// so that checks of that path and of everything under it stay silent.
func (r *Reporter) Cover(path string) {
	if r.covered == nil {
		r.covered = map[string]bool{}
	}
	r.covered[path] = true
}

// Has reports whether an error was already recorded at p (or p was
// covered), so that a value that failed to decode is not also reported as
// missing. The nil path is the whole document.
func (r *Reporter) Has(p *field.Path) bool {
	var buf [128]byte // rendered on the stack: Has runs once per role
	path := p.AppendTo(buf[:0])
	return r.covered[string(path)] || r.errAt[string(path)]
}

// HasUnder reports whether an error was recorded at p or below it, or p was
// covered: what depends on that part of the config is then left unchecked,
// so that one root cause gives one error.
func (r *Reporter) HasUnder(p *field.Path) bool {
	var buf [128]byte
	return r.hasUnder(p.AppendTo(buf[:0]))
}

// DidYouMean returns a fix suggesting the closest candidate, or fallback.
// Use it for keys, enums and names of things that grant nothing; never for a
// reference to a principal, where a near miss would grant the wrong one.
func DidYouMean(got string, candidates []string, fallback string) string {
	if best, ok := closest(got, candidates); ok {
		return fmt.Sprintf("did you mean %q?", best)
	}
	return fallback
}

func closest(got string, candidates []string) (string, bool) {
	if len(got) > 128 {
		return "", false // no key or name is that long; spare the quadratic distance
	}
	best, bestD := "", -1
	for _, c := range candidates {
		d := distance(strings.ToLower(got), strings.ToLower(c))
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	// Close enough to be a typo: a third of the word, at least 2 edits.
	return best, bestD >= 0 && bestD <= max(2, len(got)/3)
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

// hasUnder is HasUnder of a rendered path, looked up without allocating.
func (r *Reporter) hasUnder(path []byte) bool {
	return r.covered[string(path)] || r.errUnder[string(path)]
}
