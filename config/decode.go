package config

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"gopkg.in/yaml.v3"
)

// Pos is where a value stands in the file, and the YAML tag it was read with
// (so that an unquoted account id, which YAML reads as a number, can be told apart).
type Pos struct {
	Line, Column int
	Tag          string
}

// decoder walks YAML nodes into Go values strictly: unknown keys, duplicate
// keys and type mismatches are errors, and every error is kept, not only the first.
//
// The path of the value being decoded is kept rendered in one buffer that
// grows and shrinks with the walk: every node's path is a key of the
// position table, and building a linked path and rendering it per node was
// a third of the decoder's time at 20,000 use cases.
type decoder struct {
	r *Reporter
	// path is the rendered path of the node being decoded.
	path []byte
	// keys holds the position table's keys, many to a block (see intern).
	keys []byte
	// budget is how many more nodes may be decoded: aliases may repeat a
	// subtree, but not blow a few kilobytes up into millions of values.
	budget int
	// exhausted is set once the budget ran out; decoding then stops, and
	// bomb is the one error that says so.
	exhausted bool
	bomb      *Error
	// alias is the outermost alias being expanded, and where.
	alias     *yaml.Node
	aliasPath string
	// merging holds the mappings whose merge keys are being expanded, to
	// catch a mapping that merges itself.
	merging map[*yaml.Node]bool
	// nodes is the document's size as written; values are its nodes but
	// the mapping keys, each of which gets a position.
	nodes, values int
	// lines maps the parser's line numbers to the file's (see lineMap).
	lines *lineMap
	// The position table is filled by another goroutine, in order, from
	// batches of entries (see put): inserting a million keys into a map is
	// as much work as the rest of decoding, and runs beside it on a second
	// core. Errors, the only readers of the table while decoding, wait for
	// it to catch up (see sync).
	batch   []posEntry
	batches chan []posEntry
	free    chan []posEntry
	pending sync.WaitGroup
}

type posEntry struct {
	key string
	pos Pos
}

const posBatch = 4096

// pipelineMin is the number of values from which the position table is
// filled beside decoding rather than by it.
var pipelineMin = 1 << 14

// run decodes the document into v, filling the position table.
func (d *decoder) run(root *yaml.Node, v reflect.Value) {
	if d.values >= pipelineMin {
		d.start()
	}
	d.decode(root, v)
	d.finish()
}

// start starts the goroutine that fills the position table.
func (d *decoder) start() {
	d.batches, d.free = make(chan []posEntry, 4), make(chan []posEntry, 8)
	go func() {
		for b := range d.batches {
			for _, e := range b {
				d.r.Pos[e.key] = e.pos
			}
			select {
			case d.free <- b[:0]:
			default:
			}
			d.pending.Done()
		}
	}()
}

// put records a position; the table holds it after the next sync.
func (d *decoder) put(key string, p Pos) {
	if d.batches == nil {
		d.r.Pos[key] = p
		return
	}
	if d.batch == nil {
		select {
		case d.batch = <-d.free:
		default:
			d.batch = make([]posEntry, 0, posBatch)
		}
	}
	if d.batch = append(d.batch, posEntry{key, p}); len(d.batch) == posBatch {
		d.send()
	}
}

func (d *decoder) send() {
	if len(d.batch) > 0 {
		d.pending.Add(1)
		d.batches <- d.batch
		d.batch = nil
	}
}

// sync waits until the table holds every position put so far.
func (d *decoder) sync() {
	if d.batches != nil {
		d.send()
		d.pending.Wait()
	}
}

// finish fills the table with the last positions and stops the goroutine.
func (d *decoder) finish() {
	if d.batches != nil {
		d.sync()
		close(d.batches)
		d.batches = nil
	}
}

// aliasAllowance is how many nodes aliases and merge keys may add beyond
// four times the document's own: generous for shared defaults, far below
// what a billion-laughs file expands to.
const aliasAllowance = 10_000

func newDecoder(r *Reporter, doc *yaml.Node, lines *lineMap) *decoder {
	n, keys := countNodes(doc)
	return &decoder{r: r, budget: 4*n + aliasAllowance, nodes: n, values: n - keys, lines: lines, path: make([]byte, 0, 256)}
}

// pos is where node n stands in the file.
func (d *decoder) pos(n *yaml.Node, tag string) Pos {
	l, c := d.lines.at(n.Line, n.Column)
	return Pos{Line: l, Column: c, Tag: tag}
}

// intern returns b as a string stored in a shared block: the position table
// holds one key per node, and one allocation each made as many small
// objects for the collector to trace as the file has values. A block's
// bytes are never written again once handed out.
func (d *decoder) intern(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if cap(d.keys)-len(d.keys) < len(b) {
		d.keys = make([]byte, 0, max(64<<10, len(b)))
	}
	start := len(d.keys)
	d.keys = append(d.keys, b...)
	return unsafe.String(&d.keys[start], len(b))
}

// at records node n's position at the current path.
func (d *decoder) at(n *yaml.Node, tag string) {
	d.put(d.intern(d.path), d.pos(n, tag))
}

// child and index extend the current path by a field (or map key) or a
// list index, as field.Path renders them; they return the length to cut
// the path back to.
func (d *decoder) child(name string) int {
	mark := len(d.path)
	d.path = appendChild(d.path, name)
	return mark
}

func (d *decoder) index(i int) int {
	mark := len(d.path)
	d.path = appendIndex(d.path, i)
	return mark
}

func appendChild(p []byte, name string) []byte {
	if len(p) > 0 {
		p = append(p, '.')
	}
	return append(p, name...)
}

func appendIndex(p []byte, i int) []byte {
	p = append(p, '[')
	p = strconv.AppendInt(p, int64(i), 10)
	return append(p, ']')
}

// errAt reports an error at the current path.
func (d *decoder) errAt(kind, fix, format string, args ...any) {
	d.sync()
	d.r.add(SeverityError, kind, string(d.path), fix, format, args...)
}

// countNodes counts the nodes as written, not following aliases, and of
// them the mapping keys.
func countNodes(n *yaml.Node) (nodes, keys int) {
	nodes = 1
	if n.Kind == yaml.MappingNode {
		keys = len(n.Content) / 2
	}
	for _, k := range n.Content {
		c, k := countNodes(k)
		nodes, keys = nodes+c, keys+k
	}
	return nodes, keys
}

// decode decodes n into v, at the current path.
func (d *decoder) decode(n *yaml.Node, v reflect.Value) {
	if d.exhausted {
		return
	}
	if d.budget--; d.budget < 0 {
		d.exhaust(n)
		return
	}
	if n.Kind == yaml.AliasNode {
		if d.alias == nil {
			// Blame the outermost alias: the one written where the value is used.
			d.alias, d.aliasPath = n, string(d.path)
			defer func() { d.alias, d.aliasPath = nil, "" }()
		}
		n = n.Alias
	}
	tag := n.ShortTag()
	d.at(n, tag)
	if n.Kind == yaml.ScalarNode && tag == "!!null" {
		return // an empty value leaves the zero value; validation says if it is required
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem())
	case reflect.Struct:
		d.structure(n, v)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.errAt(KindType, "write a YAML list, e.g. [a, b] or one `- item` per line", "expected a list, found %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			mark := d.index(i)
			d.decode(item, s.Index(i))
			d.path = d.path[:mark]
		}
		v.Set(s)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.errAt(KindType, "write a mapping of key: value pairs", "expected a mapping, found %s", describe(n))
			return
		}
		m := reflect.MakeMap(v.Type())
		pairs := d.pairs(n)
		for i := 0; i < len(pairs); i += 2 {
			k, val := pairs[i], pairs[i+1]
			mark := d.child(k.Value)
			if m.MapIndex(reflect.ValueOf(k.Value)).IsValid() {
				d.at(k, "")
				d.errAt(KindDuplicate, "remove one of the two entries", "duplicate key %q", k.Value)
			} else {
				e := reflect.New(v.Type().Elem()).Elem()
				d.decode(val, e)
				m.SetMapIndex(reflect.ValueOf(k.Value), e)
			}
			d.path = d.path[:mark]
		}
		v.Set(m)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.errAt(KindType, "write a single value", "expected a string, found %s", describe(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Int:
		i, err := strconv.Atoi(n.Value)
		if n.Kind != yaml.ScalarNode || err != nil {
			d.errAt(KindType, "write a whole number", "expected a whole number, found %s", describe(n))
			return
		}
		v.SetInt(int64(i))
	case reflect.Float64:
		f, err := strconv.ParseFloat(n.Value, 64)
		if n.Kind != yaml.ScalarNode || err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.errAt(KindType, "write a number", "expected a number, found %s", describe(n))
			return
		}
		v.SetFloat(f)
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.Decode(&b) != nil {
			d.errAt(KindType, "write true or false", "expected true or false, found %s", describe(n))
			return
		}
		v.SetBool(b)
	default:
		panic(fmt.Sprintf("config: no decoder for %s", v.Type()))
	}
}

// exhaust reports, once, that aliases expand past the budget, at the
// outermost alias being expanded (or at n, at the current path).
func (d *decoder) exhaust(n *yaml.Node) {
	if d.exhausted {
		return
	}
	d.exhausted = true
	at, alias := string(d.path), n
	if d.alias != nil {
		at, alias = d.aliasPath, d.alias
	}
	name := alias.Value
	if alias.Kind != yaml.AliasNode {
		name = alias.Anchor
	}
	d.put(at, d.pos(alias, ""))
	d.sync()
	d.r.add(SeverityError, KindSyntax, at, "write the values out, or share fewer levels of anchors: aliases may not multiply the document",
		"the alias *%s expands to too many values (more than four times the file's own %d plus %d)", name, d.nodes, aliasAllowance)
	d.bomb = d.r.List[len(d.r.List)-1]
}

// pairs lists a mapping's keys and values, alternating as in a node's
// Content, with merge keys (<<: *anchor, or a list of anchors) applied as
// YAML defines them: keys written in the mapping win over merged ones, and
// earlier merged mappings over later ones. A mapping of plain keys, nearly
// every one, is returned as it is.
func (d *decoder) pairs(n *yaml.Node) []*yaml.Node {
	plain := len(n.Content)%2 == 0
	for i := 0; plain && i < len(n.Content); i += 2 {
		k := n.Content[i]
		plain = k.Kind == yaml.ScalarNode && k.ShortTag() != "!!merge"
	}
	if plain {
		return n.Content
	}
	var own, merged []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.AliasNode {
			k = k.Alias
		}
		if k.Kind != yaml.ScalarNode {
			mark := d.child("?")
			d.at(k, "")
			d.errAt(KindType, "write keys as plain words", "a key must be a single value, found %s", describe(k))
			d.path = d.path[:mark]
			continue
		}
		if k.ShortTag() == "!!merge" {
			merged = append(merged, d.mergeSources(val, k)...)
			continue
		}
		own = append(own, k, val)
	}
	if len(merged) == 0 {
		return own
	}
	seen := map[string]bool{}
	for i := 0; i < len(own); i += 2 {
		seen[own[i].Value] = true
	}
	for i := 0; i < len(merged); i += 2 {
		if k := merged[i]; !seen[k.Value] {
			seen[k.Value] = true
			own = append(own, k, merged[i+1])
		}
	}
	return own
}

// mergeSources returns the pairs a merge key's value brings in.
func (d *decoder) mergeSources(val *yaml.Node, key *yaml.Node) []*yaml.Node {
	var sources []*yaml.Node
	if val.Kind == yaml.AliasNode {
		val = val.Alias
	}
	switch val.Kind {
	case yaml.MappingNode:
		sources = []*yaml.Node{val}
	case yaml.SequenceNode:
		for _, s := range val.Content {
			if s.Kind == yaml.AliasNode {
				s = s.Alias
			}
			sources = append(sources, s)
		}
	}
	var out []*yaml.Node
	for _, s := range sources {
		if d.merging[s] {
			mark := d.child("<<")
			d.at(key, "")
			d.errAt(KindSyntax, "merge another mapping: this one would include itself", "the merge key refers to the mapping it is in")
			d.path = d.path[:mark]
			return nil
		}
		if s.Kind != yaml.MappingNode {
			mark := d.child("<<")
			d.at(key, "")
			d.errAt(KindType, "merge a mapping (<<: *anchor) or a list of them (<<: [*a, *b])", "a merge key takes mappings, found %s", describe(s))
			d.path = d.path[:mark]
			return nil
		}
		if d.budget -= len(s.Content); d.budget < 0 {
			d.exhaust(key)
			return nil
		}
		if d.merging == nil {
			d.merging = map[*yaml.Node]bool{}
		}
		d.merging[s] = true
		out = append(out, d.pairs(s)...)
		delete(d.merging, s)
	}
	return out
}

// structFields are a struct type's YAML fields: their names in order, and
// by name the field's index. Read once per type, not once per value.
type structFields struct {
	names []string
	index map[string]int
}

var structCache sync.Map // reflect.Type -> *structFields

func fieldsOf(t reflect.Type) *structFields {
	if f, ok := structCache.Load(t); ok {
		return f.(*structFields)
	}
	f := &structFields{index: map[string]int{}}
	for i := 0; i < t.NumField(); i++ {
		if name := yamlName(t.Field(i)); name != "" {
			f.index[name] = i
			f.names = append(f.names, name)
		}
	}
	structCache.Store(t, f)
	return f
}

func (d *decoder) structure(n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.errAt(KindType, "write a mapping of key: value pairs", "expected a mapping, found %s", describe(n))
		return
	}
	fields := fieldsOf(v.Type())
	pairs := d.pairs(n)
	// Which fields were set, by field index: a struct has few.
	var seenBuf [64]bool
	seen := seenBuf[:]
	if v.NumField() > len(seenBuf) {
		seen = make([]bool, v.NumField())
	}
	for i := 0; i < len(pairs); i += 2 {
		k, val := pairs[i], pairs[i+1]
		mark := d.child(k.Value)
		idx, ok := fields.index[k.Value]
		switch {
		case !ok:
			d.at(k, "")
			best, close := closest(k.Value, fields.names)
			fix := "remove it; known fields here: " + strings.Join(fields.names, ", ")
			if close && !hasKey(pairs, best) {
				fix = fmt.Sprintf("did you mean %q?", best)
				// The field it was meant to be is explained by this error:
				// it is not also missing, and nothing that refers into it is dangling.
				d.r.Cover(string(appendChild(d.path[:mark:mark], best)))
			}
			d.errAt(KindUnknown, fix, "unknown field %q", k.Value)
		case seen[idx]:
			d.at(k, "")
			d.errAt(KindDuplicate, "remove one of the two entries", "field %q is set twice", k.Value)
		default:
			seen[idx] = true
			d.decode(val, v.Field(idx))
		}
		d.path = d.path[:mark]
	}
}

// hasKey reports whether pairs (keys and values alternating) has the key.
func hasKey(pairs []*yaml.Node, key string) bool {
	for i := 0; i < len(pairs); i += 2 {
		if pairs[i].Value == key {
			return true
		}
	}
	return false
}

func yamlName(f reflect.StructField) string {
	tag := f.Tag.Get("yaml")
	if tag == "-" || !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(tag, ",")
	return name
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.AliasNode:
		return "an alias"
	}
	v := n.Value
	if len(v) > 60 {
		v = v[:57] + "..."
	}
	return fmt.Sprintf("%q", v)
}
