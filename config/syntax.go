package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	goyaml "github.com/goccy/go-yaml"
	goparser "github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
	"gopkg.in/yaml.v3"
)

const syntaxFix = "fix the YAML syntax (indentation, a missing colon, or an unclosed quote or bracket)"

// parseYAML reads the one YAML document of a config file. It returns the
// document's root node, or one located error: the file is not UTF-8 text,
// is not YAML, is empty, or holds more than one document.
func parseYAML(file string, data []byte) (*yaml.Node, *lineMap, *Error) {
	if e := checkEncoding(file, data); e != nil {
		return nil, nil, e
	}
	lines := newLineMap(data)
	if root, ok := fastParse(data); ok {
		return root, lines, nil // one document, as yaml.v3 would read it
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := safeDecode(dec, &doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, &Error{Severity: SeverityError, Kind: KindSyntax, File: file, Line: 1, Column: 1, Problem: "the file is empty", Fix: "start from config/usecases.yaml"}
		}
		return nil, nil, syntaxError(file, data, lines, err)
	}
	root := doc.Content[0]
	if root.ShortTag() == "!!null" && root.Kind == yaml.ScalarNode {
		return nil, nil, &Error{Severity: SeverityError, Kind: KindSyntax, File: file, Line: 1, Column: 1, Problem: "the file is empty", Fix: "start from config/usecases.yaml"}
	}
	// Whatever a later document holds, even broken YAML, the file has one
	// too many: report that, where it starts.
	var extra yaml.Node
	if err := safeDecode(dec, &extra); !errors.Is(err, io.EOF) {
		first, _ := lines.at(root.Line, root.Column)
		line := secondDocument(data, first)
		if line == 0 && err == nil {
			line, _ = lines.at(extra.Line, extra.Column)
		}
		if line < 1 {
			line = max(first, 1) // content right after the first, on its line: "[]0"
		}
		return nil, nil, &Error{Severity: SeverityError, Kind: KindSyntax, File: file, Line: line, Column: 1, Path: "---",
			Problem: "the file holds more than one YAML document", Fix: "keep one estate per file: remove this --- and what follows, or move it to its own file"}
	}
	return root, lines, nil
}

// safeDecode turns a parser panic into an error, so that no input can crash
// the loader.
func safeDecode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("yaml: %v", p)
		}
	}()
	return dec.Decode(n)
}

// secondDocument finds the line where a second document starts: a ---
// marker after the first document's content, or what follows a ... marker.
func secondDocument(data []byte, after int) int {
	ended := false
	for i, l := range bytes.Split(data, []byte("\n")) {
		line := i + 1
		l = bytes.TrimRight(l, "\r")
		trimmed := bytes.TrimSpace(l)
		switch {
		case line <= after:
		case marker(l, "---"):
			return line
		case marker(l, "..."):
			ended = true
		case ended && len(trimmed) > 0 && trimmed[0] != '#':
			return line
		}
	}
	return 0
}

func marker(l []byte, m string) bool {
	return bytes.HasPrefix(l, []byte(m)) && (len(l) == 3 || l[3] == ' ' || l[3] == '\t')
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError locates a YAML syntax error. yaml.v3 often names a line far
// from the mistake (a tab, a mis-indented list item, an unclosed quote can be
// reported many lines away, always at column 1), so the position and message
// come from goccy/go-yaml's parser, which points at the offending token;
// yaml.v3's are kept only when that parser finds nothing wrong.
func syntaxError(file string, data []byte, lines *lineMap, err error) *Error {
	e := &Error{Severity: SeverityError, Kind: KindSyntax, File: file, Line: 1, Column: 1, Problem: strings.TrimPrefix(err.Error(), "yaml: "), Fix: syntaxFix}
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		e.Line, _ = lines.at(n, 1)
		e.Column = len(leadingSpace(lineOf(data, e.Line))) + 1
		e.Problem = m[2]
	}
	// Both parsers notice a mistake at or after it, never before; goccy names
	// the token it stopped at, which may start a line earlier (a plain
	// scalar continued on a mis-indented line): take the later of the two,
	// unless goccy's is the opening of a quote left unclosed.
	if line, col, msg, ok, opened := locate(data); ok && (line >= e.Line || opened) {
		e.Line, e.Column, e.Problem = line, col, msg
	}
	if l := lineOf(data, e.Line); bytes.ContainsRune(leadingSpace(l), '\t') || strings.Contains(e.Problem, "\t") {
		e.Fix = "indent with spaces: YAML does not allow tabs in indentation"
	}
	return e
}

// locate asks goccy/go-yaml's parser where the syntax error is.
func locate(data []byte) (line, col int, msg string, ok, opened bool) {
	defer func() {
		if recover() != nil {
			ok, opened = false, false
		}
	}()
	_, err := goparser.ParseBytes(data, 0)
	var se *goyaml.SyntaxError
	if !errors.As(err, &se) || se.Token == nil || se.Token.Position == nil || se.Token.Position.Line < 1 {
		return 0, 0, "", false, false
	}
	line, col = se.Token.Position.Line, max(se.Token.Position.Column, 1)
	msg = strings.ReplaceAll(se.Message, "\t", `\t`)
	// A quoted value may span lines, so a missing closing quote shows only
	// where the next quote ends the value: point at where it was opened.
	if q := se.Token.Prev; q != nil && q.Position != nil && (q.Type == token.DoubleQuoteType || q.Type == token.SingleQuoteType) && q.Position.Line < line {
		msg = fmt.Sprintf("the quoted value opened here runs on to line %d: is its closing quote missing?", line)
		line, col, opened = q.Position.Line, max(q.Position.Column, 1), true
	}
	if n := bytes.Count(data, []byte("\n")) + 1; line > n {
		line, col = n, 1
	}
	return line, col, msg, true, opened
}

func lineOf(data []byte, line int) []byte {
	for i, l := range bytes.Split(data, []byte("\n")) {
		if i+1 == line {
			return l
		}
	}
	return nil
}

func leadingSpace(l []byte) []byte {
	return l[:len(l)-len(bytes.TrimLeft(l, " \t"))]
}

// checkEncoding rejects bytes that are not UTF-8 and characters YAML does
// not allow, at their line and column (a parser reports neither).
func checkEncoding(file string, data []byte) *Error {
	line, col := 1, 1
	for i := 0; i < len(data); {
		switch c := data[i]; {
		case c >= 0x20 && c < 0x7f: // printable ASCII, nearly every byte: no rune to decode
			col++
			i++
			continue
		case c == '\n':
			line, col = line+1, 1
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		var problem string
		switch {
		case r == utf8.RuneError && size == 1:
			problem = fmt.Sprintf("byte 0x%02X is not UTF-8 text", data[i])
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r', r == 0x7f, r >= 0x80 && r <= 0x9f && r != 0x85, r == 0xfffe, r == 0xffff:
			problem = fmt.Sprintf("control character %U is not allowed in YAML", r)
		case r == 0xfeff && i > 0:
			problem = "a byte-order mark is only allowed at the start of the file"
		}
		if problem != "" {
			return &Error{Severity: SeverityError, Kind: KindSyntax, File: file, Line: line, Column: col, Problem: problem,
				Fix: "save the file as UTF-8 text, and remove or retype the character at this position"}
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		i += size
	}
	return nil
}

// lineMap translates the YAML parser's lines to the file's. YAML counts a
// lone carriage return as a line break; editors, grep and git count only
// line feeds, so after a stray \r the parser's line numbers would drift.
type lineMap struct {
	phys []int // per parser line (1-based): the file's line
	off  []int // and the column offset of its start in that line
}

func newLineMap(data []byte) *lineMap {
	if !hasLoneCR(data) {
		return nil
	}
	m := &lineMap{phys: []int{0, 1}, off: []int{0, 0}}
	phys, col := 1, 0
	for i := 0; i < len(data); i++ {
		switch c := data[i]; {
		case c == '\n':
			phys, col = phys+1, 0
			m.phys, m.off = append(m.phys, phys), append(m.off, 0)
		case c == '\r':
			if i+1 < len(data) && data[i+1] == '\n' {
				continue
			}
			col++
			m.phys, m.off = append(m.phys, phys), append(m.off, col)
		case c&0xc0 != 0x80:
			col++
		}
	}
	return m
}

func hasLoneCR(data []byte) bool {
	for i := bytes.IndexByte(data, '\r'); i >= 0; {
		if i+1 >= len(data) || data[i+1] != '\n' {
			return true
		}
		j := bytes.IndexByte(data[i+1:], '\r')
		if j < 0 {
			return false
		}
		i += 1 + j
	}
	return false
}

// at maps a parser position to the file's.
func (m *lineMap) at(line, col int) (int, int) {
	if m == nil || line < 1 || line >= len(m.phys) {
		return line, col
	}
	return m.phys[line], col + m.off[line]
}
