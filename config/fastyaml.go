package config

import (
	"bytes"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// fastParse reads the common shape of a config file — block mappings and
// sequences of plain or simply quoted scalars, with one-line flow lists and
// mappings and comments — into the same nodes yaml.v3 builds, with the same
// kinds, styles, tags, values, lines and columns (FuzzFastYAML and
// TestFastYAMLMatchesYAMLv3 hold the two together). At 20,000 use cases
// yaml.v3 was the largest part of validate's time; this reads the same
// file several times faster and allocates its nodes in blocks.
//
// Anything else — anchors, aliases, tags, block scalars, multi-line
// scalars or flow collections, escapes, document markers, tabs, carriage
// returns, empty values, unusual keys, and every syntax error — makes it
// give up (ok false), and the file is read by yaml.v3, which reports
// errors and handles the rest of YAML. It never reports errors itself.
func fastParse(data []byte) (root *yaml.Node, ok bool) {
	if !plainText(data) {
		return nil, false
	}
	p := &fastParser{data: data, src: string(data), line: 1, split: true}
	defer func() {
		if r := recover(); r != nil {
			if _, give := r.(giveUp); !give {
				panic(r)
			}
			root, ok = nil, false
		}
	}()
	if !p.nextContent() {
		return nil, false // empty: yaml.v3 says how
	}
	if p.indent() != 0 {
		p.fail()
	}
	if p.startsSequence() {
		root = p.blockSequence(0)
	} else {
		root = p.blockMapping(0)
	}
	if p.nextContent() {
		p.fail() // content after the root: a document marker, a dedent, ...
	}
	return root, true
}

// giveUp is the panic that abandons the fast path.
type giveUp struct{}

type fastParser struct {
	data []byte
	// src is data as one string: values are slices of it, not copies, and
	// a config's million values cost one allocation.
	src  string
	pos  int // the byte being read
	line int // its line, from 1
	bol  int // the offset of that line's start
	// nodes is the current block nodes are taken from; ptrs the block
	// collections' children are, once stack has gathered them.
	nodes []yaml.Node
	// split allows a large top-level list to be read in two halves.
	split bool
	ptrs  []*yaml.Node
	stack []*yaml.Node
	depth int
}

// plainText reports whether data holds only characters the fast reader
// treats exactly as yaml.v3 does: printable ASCII and newlines, and the
// non-ASCII characters YAML allows in content. Tabs, carriage returns,
// a byte-order mark, the characters YAML also reads as line breaks
// (U+0085, U+2028, U+2029) and everything YAML rejects as a control
// character (C0, DEL, C1, U+FFFE, U+FFFF, invalid UTF-8) are left to
// yaml.v3, which either handles them or reports them with a position.
func plainText(data []byte) bool {
	for i := 0; i < len(data); {
		c := data[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\n' || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			return false
		case r < 0xA0, r == 0xFEFF, r == 0x2028, r == 0x2029:
			return false
		case r >= 0xD800 && r <= 0xDFFF, r == 0xFFFE, r == 0xFFFF:
			return false
		}
		i += n
	}
	return true
}

func (p *fastParser) fail() { panic(giveUp{}) }

// node returns a new node at pos.
func (p *fastParser) node(kind yaml.Kind, style yaml.Style, tag, value string, pos int) *yaml.Node {
	if len(p.nodes) == 0 {
		p.nodes = make([]yaml.Node, 1024)
	}
	n := &p.nodes[0]
	p.nodes = p.nodes[1:]
	*n = yaml.Node{Kind: kind, Style: style, Tag: tag, Value: value, Line: p.line, Column: p.column(pos)}
	return n
}

// children moves the nodes gathered on the stack since mark into one
// exact-size slice taken from a block: a config has hundreds of thousands
// of small collections, and growing each by appending was a third of the
// reader's allocations.
func (p *fastParser) children(mark int) []*yaml.Node {
	kids := p.stack[mark:]
	if len(kids) == 0 {
		return nil
	}
	if len(p.ptrs) < len(kids) {
		p.ptrs = make([]*yaml.Node, max(4096, len(kids)))
	}
	out := p.ptrs[:len(kids):len(kids)]
	p.ptrs = p.ptrs[len(kids):]
	copy(out, kids)
	clear(kids)
	p.stack = p.stack[:mark]
	return out
}

// column is the 1-based column of pos on the current line, in characters
// as yaml.v3 counts them.
func (p *fastParser) column(pos int) int {
	l := p.data[p.bol:pos]
	for _, c := range l {
		if c >= utf8.RuneSelf {
			return utf8.RuneCount(l) + 1
		}
	}
	return len(l) + 1
}

// nextContent moves to the start of the next line that holds more than
// blanks and a comment, from the start of a line; false at the end.
func (p *fastParser) nextContent() bool {
	for p.pos < len(p.data) {
		i := p.pos
		for i < len(p.data) && p.data[i] == ' ' {
			i++
		}
		if i < len(p.data) && p.data[i] != '\n' && p.data[i] != '#' {
			return true
		}
		for i < len(p.data) && p.data[i] != '\n' {
			i++
		}
		if i < len(p.data) {
			i++
		}
		p.pos = i
		p.line++
		p.bol = i
	}
	return false
}

// indent is the indentation of the current line, from its start.
func (p *fastParser) indent() int {
	i := p.pos
	for i < len(p.data) && p.data[i] == ' ' {
		i++
	}
	return i - p.pos
}

// startsSequence reports whether the line, from its indentation, is a
// block sequence entry.
func (p *fastParser) startsSequence() bool {
	i := p.pos + p.indent()
	return i < len(p.data) && p.data[i] == '-' && (i+1 == len(p.data) || p.data[i+1] == ' ' || p.data[i+1] == '\n')
}

// endLine accepts blanks and a comment up to the end of the line, and
// moves to the next line.
func (p *fastParser) endLine() {
	start := p.pos
	for p.pos < len(p.data) && p.data[p.pos] == ' ' {
		p.pos++
	}
	if p.pos < len(p.data) && p.data[p.pos] == '#' {
		if p.pos == start {
			p.fail() // a # right after a value belongs to it
		}
		for p.pos < len(p.data) && p.data[p.pos] != '\n' {
			p.pos++
		}
	}
	if p.pos < len(p.data) {
		if p.data[p.pos] != '\n' {
			p.fail()
		}
		p.pos++
	}
	p.line++
	p.bol = p.pos
}

func (p *fastParser) enter() {
	if p.depth++; p.depth > 64 {
		p.fail()
	}
}

// blockMapping reads a block mapping whose keys stand at column indent+1,
// the first at pos (at the start of its line, or after a sequence's "- ").
func (p *fastParser) blockMapping(indent int) *yaml.Node {
	p.enter()
	mark := len(p.stack)
	p.pos = p.bol + indent
	m := p.node(yaml.MappingNode, 0, "!!map", "", p.pos)
	defer func() { m.Content = p.children(mark); p.depth-- }()
	for first := true; ; first = false {
		if !first {
			if !p.nextContent() {
				break
			}
			in := p.indent()
			if in < indent {
				break
			}
			if in > indent {
				p.fail() // a continued scalar, or bad indentation
			}
			p.pos += in
		}
		key := p.key()
		v := p.mappingValue(indent) // before reading p.stack: parsing it pushes and pops
		p.stack = append(p.stack, key, v)
	}
	return m
}

// key reads a plain key and its colon.
func (p *fastParser) key() *yaml.Node {
	start := p.pos
	for p.pos < len(p.data) && keyChar(p.data[p.pos]) {
		p.pos++
	}
	if p.pos == start || p.pos >= len(p.data) || p.data[p.pos] != ':' || !keyStart(p.data[start]) || p.pos-start > 128 {
		p.fail() // YAML allows an implicit key 1,024 characters; no config key is near 128
	}
	k := p.scalar(start, p.pos)
	p.pos++ // the colon
	if p.pos < len(p.data) && p.data[p.pos] != ' ' && p.data[p.pos] != '\n' {
		p.fail()
	}
	return k
}

func keyStart(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }

func keyChar(c byte) bool {
	return keyStart(c) || c >= '0' && c <= '9' || c == '-' || c == '.'
}

// mappingValue reads the value after a key's colon: on the same line, or
// a block collection on the lines below.
func (p *fastParser) mappingValue(indent int) *yaml.Node {
	for p.pos < len(p.data) && p.data[p.pos] == ' ' {
		p.pos++
	}
	if p.pos < len(p.data) && p.data[p.pos] != '\n' && p.data[p.pos] != '#' {
		v := p.inline(false)
		p.endLine()
		return v
	}
	p.endLine()
	if !p.nextContent() {
		p.fail() // an empty value: yaml.v3 places its null
	}
	in := p.indent()
	switch {
	case in == indent && p.startsSequence():
		return p.blockSequence(in) // a list at its key's indentation
	case in <= indent:
		p.fail()
	case p.startsSequence():
		return p.blockSequence(in)
	}
	return p.blockMapping(in)
}

// blockSequence reads the entries of a block sequence whose dashes stand at
// column indent+1, from the start of the first entry's line.
func (p *fastParser) blockSequence(indent int) *yaml.Node {
	if p.split && p.depth == 1 {
		if mid, end, ok := p.halves(indent); ok {
			return p.splitSequence(indent, mid, end)
		}
	}
	p.enter()
	mark := len(p.stack)
	s := p.node(yaml.SequenceNode, 0, "!!seq", "", p.bol+indent)
	defer func() { s.Content = p.children(mark); p.depth-- }()
	for first := true; ; first = false {
		if !first {
			if !p.nextContent() || p.indent() != indent || !p.startsSequence() {
				if p.pos < len(p.data) && p.indent() > indent {
					p.fail()
				}
				break
			}
		}
		p.pos = p.bol + indent + 1 // after the dash
		for p.pos < len(p.data) && p.data[p.pos] == ' ' {
			p.pos++
		}
		if p.pos >= len(p.data) || p.data[p.pos] == '\n' || p.data[p.pos] == '#' || p.data[p.pos] == '-' {
			p.fail() // an entry on the next lines, or a nested list
		}
		if p.isKey() {
			v := p.blockMapping(p.pos - p.bol) // before reading p.stack: parsing it pushes and pops
			p.stack = append(p.stack, v)
			continue
		}
		v := p.inline(false) // before reading p.stack: parsing it pushes and pops
		p.stack = append(p.stack, v)
		p.endLine()
	}
	return s
}

// splitMin is the size from which a top-level list (a large estate's use
// cases) is read in two halves at once, on two cores.
var splitMin = 1 << 20

// halves finds the end of the block sequence whose first entry is on the
// current line, and the start of an entry near its middle.
func (p *fastParser) halves(indent int) (mid, end int, ok bool) {
	lines := func(from, to int, stop func(line, content int) bool) int {
		for i := from; i < to; {
			j := i
			for j < to && p.data[j] == ' ' {
				j++
			}
			if j < to && p.data[j] != '\n' && p.data[j] != '#' && stop(i, j) {
				return i
			}
			if nl := bytes.IndexByte(p.data[j:to], '\n'); nl >= 0 {
				i = j + nl + 1
			} else {
				i = to
			}
		}
		return -1
	}
	dash := func(j int) bool {
		return p.data[j] == '-' && (j+1 == len(p.data) || p.data[j+1] == ' ' || p.data[j+1] == '\n')
	}
	end = lines(p.bol, len(p.data), func(line, content int) bool {
		return content-line < indent || content-line == indent && !dash(content)
	})
	if end < 0 {
		end = len(p.data)
	}
	if end-p.bol < splitMin {
		return 0, 0, false
	}
	from := p.bol + (end-p.bol)/2
	if nl := bytes.IndexByte(p.data[from:end], '\n'); nl >= 0 {
		from += nl + 1
	} else {
		return 0, 0, false
	}
	mid = lines(from, end, func(line, content int) bool { return content-line == indent && dash(content) })
	return mid, end, mid > p.bol
}

// splitSequence reads a block sequence's entries before mid here and those
// from mid to end in another goroutine with its own parser, started at
// mid's line, then joins them; either half giving up gives up the whole.
func (p *fastParser) splitSequence(indent, mid, end int) *yaml.Node {
	q := &fastParser{data: p.data[:end], src: p.src, pos: mid, bol: mid, depth: p.depth,
		line: p.line + bytes.Count(p.data[p.bol:mid], []byte("\n"))}
	var second *yaml.Node
	var failed any
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { failed = recover() }()
		second = q.blockSequence(indent)
	}()
	full := p.data
	p.data, p.split = full[:mid], false
	var first *yaml.Node
	func() {
		defer func() {
			p.data, p.split = full, true
			if r := recover(); r != nil {
				<-done
				panic(r)
			}
		}()
		first = p.blockSequence(indent)
	}()
	<-done
	if failed != nil {
		panic(failed)
	}
	first.Content = append(append(make([]*yaml.Node, 0, len(first.Content)+len(second.Content)), first.Content...), second.Content...)
	p.pos, p.line, p.bol = q.pos, q.line, q.bol
	return first
}

// isKey reports whether a plain key and its colon start at pos.
func (p *fastParser) isKey() bool {
	i := p.pos
	if i >= len(p.data) || !keyStart(p.data[i]) {
		return false
	}
	for i < len(p.data) && keyChar(p.data[i]) {
		i++
	}
	return i < len(p.data) && p.data[i] == ':' && (i+1 == len(p.data) || p.data[i+1] == ' ' || p.data[i+1] == '\n')
}

// inline reads a value that ends on its line: a flow collection, a quoted
// scalar or a plain one. In a flow collection, plain scalars end at , ] }.
func (p *fastParser) inline(flow bool) *yaml.Node {
	if p.pos >= len(p.data) {
		p.fail()
	}
	switch c := p.data[p.pos]; c {
	case '[':
		return p.flowSequence()
	case '{':
		return p.flowMapping()
	case '"', '\'':
		return p.quoted(c)
	case '-':
		if p.pos+1 >= len(p.data) || p.data[p.pos+1] == ' ' || p.data[p.pos+1] == '\n' || flowEnd(p.data[p.pos+1]) {
			p.fail()
		}
	case '?', ':', ',', ']', '}', '#', '&', '*', '!', '|', '>', '%', '@', '`':
		p.fail()
	}
	start := p.pos
	end := start // after the last non-blank
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		if c == '\n' || flow && flowEnd(c) {
			break
		}
		if flow && (c == '?' || c == '#') {
			p.fail() // ends a plain scalar, or starts a comment, in a flow collection
		}
		if c == ':' && (p.pos+1 == len(p.data) || p.data[p.pos+1] == ' ' || p.data[p.pos+1] == '\n' || flow && flowEnd(p.data[p.pos+1])) {
			p.fail() // a mapping where a value was expected
		}
		if c == ' ' {
			if p.pos+1 < len(p.data) && p.data[p.pos+1] == '#' {
				break
			}
		} else {
			end = p.pos + 1
		}
		p.pos++
	}
	if flow && p.pos < len(p.data) && (p.data[p.pos] == '[' || p.data[p.pos] == '{') {
		p.fail()
	}
	p.pos = end
	return p.scalar(start, end)
}

func flowEnd(c byte) bool { return c == ',' || c == ']' || c == '}' || c == '[' || c == '{' }

// scalar is a plain scalar, tagged as yaml.v3 resolves it.
func (p *fastParser) scalar(start, end int) *yaml.Node {
	if end-start == 2 && p.src[start:end] == "<<" {
		p.fail() // yaml.v3 tags a plain << !!merge wherever it stands
	}
	n := p.node(yaml.ScalarNode, 0, "", p.src[start:end], start)
	n.Tag = n.ShortTag()
	return n
}

// quoted reads a one-line quoted scalar without escapes.
func (p *fastParser) quoted(q byte) *yaml.Node {
	start := p.pos
	p.pos++
	var buf []byte
	from := p.pos
	for {
		if p.pos >= len(p.data) || p.data[p.pos] == '\n' || q == '"' && p.data[p.pos] == '\\' {
			p.fail() // runs on, or has escapes
		}
		if p.data[p.pos] == q {
			if q == '\'' && p.pos+1 < len(p.data) && p.data[p.pos+1] == '\'' {
				buf = append(buf, p.data[from:p.pos+1]...)
				p.pos += 2
				from = p.pos
				continue
			}
			break
		}
		p.pos++
	}
	v := p.src[from:p.pos]
	if buf != nil {
		v = string(append(buf, v...))
	}
	p.pos++
	style := yaml.DoubleQuotedStyle
	if q == '\'' {
		style = yaml.SingleQuotedStyle
	}
	return p.node(yaml.ScalarNode, style, "!!str", v, start)
}

func (p *fastParser) skipBlanks() {
	for p.pos < len(p.data) && p.data[p.pos] == ' ' {
		p.pos++
	}
}

// flowSequence reads [a, b, ...] on one line.
func (p *fastParser) flowSequence() *yaml.Node {
	return p.flow(yaml.SequenceNode, "!!seq", ']', func() {
		v := p.inline(true) // before reading p.stack: parsing it pushes and pops
		p.stack = append(p.stack, v)
	})
}

// flowMapping reads {k: v, ...} on one line.
func (p *fastParser) flowMapping() *yaml.Node {
	return p.flow(yaml.MappingNode, "!!map", '}', func() {
		if !p.isKey() {
			p.fail()
		}
		key := p.key()
		p.skipBlanks()
		v := p.inline(true) // before reading p.stack: parsing it pushes and pops
		p.stack = append(p.stack, key, v)
	})
}

// flow reads a one-line flow collection up to closer, each entry (pushed on
// p.stack) by entry; an empty one, and no trailing comma.
func (p *fastParser) flow(kind yaml.Kind, tag string, closer byte, entry func()) *yaml.Node {
	p.enter()
	mark := len(p.stack)
	n := p.node(kind, yaml.FlowStyle, tag, "", p.pos)
	defer func() { n.Content = p.children(mark); p.depth-- }()
	p.pos++
	p.skipBlanks()
	if p.pos < len(p.data) && p.data[p.pos] == closer {
		p.pos++
		return n
	}
	for {
		p.skipBlanks()
		entry()
		p.skipBlanks()
		if p.pos >= len(p.data) {
			p.fail()
		}
		switch p.data[p.pos] {
		case closer:
			p.pos++
			return n
		case ',':
			p.pos++
			p.skipBlanks()
			if p.pos >= len(p.data) || p.data[p.pos] == closer {
				p.fail() // a trailing comma
			}
		default:
			p.fail()
		}
	}
}
