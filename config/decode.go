package config

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/acme/genai-estate/config/field"
)

// Pos is where a value stands in the file, and the YAML tag it was read with
// (so that an unquoted account id, which YAML reads as a number, can be told apart).
type Pos struct {
	Line, Column int
	Tag          string
}

// decoder walks YAML nodes into Go values strictly: unknown keys, duplicate
// keys and type mismatches are errors, and every error is kept, not only the first.
type decoder struct {
	r *Reporter
	// budget is how many more nodes may be decoded: aliases may repeat a
	// subtree, but not blow a few kilobytes up into millions of values.
	budget int
	// exhausted is set once the budget ran out; decoding then stops, and
	// bomb is the one error that says so.
	exhausted bool
	bomb      *Error
	// alias is the outermost alias being expanded, and where.
	alias     *yaml.Node
	aliasPath *field.Path
	// merging holds the mappings whose merge keys are being expanded, to
	// catch a mapping that merges itself.
	merging map[*yaml.Node]bool
	// nodes is the document's size as written.
	nodes int
	// lines maps the parser's line numbers to the file's (see lineMap).
	lines *lineMap
}

// aliasAllowance is how many nodes aliases and merge keys may add beyond
// four times the document's own: generous for shared defaults, far below
// what a billion-laughs file expands to.
const aliasAllowance = 10_000

func newDecoder(r *Reporter, doc *yaml.Node, lines *lineMap) *decoder {
	n := countNodes(doc)
	return &decoder{r: r, budget: 4*n + aliasAllowance, nodes: n, lines: lines}
}

// pos is where node n stands in the file.
func (d *decoder) pos(n *yaml.Node, tag string) Pos {
	l, c := d.lines.at(n.Line, n.Column)
	return Pos{Line: l, Column: c, Tag: tag}
}

// countNodes counts the nodes as written, not following aliases.
func countNodes(n *yaml.Node) int {
	c := 1
	for _, k := range n.Content {
		c += countNodes(k)
	}
	return c
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path *field.Path) {
	if d.exhausted {
		return
	}
	if d.budget--; d.budget < 0 {
		d.exhaust(n, path)
		return
	}
	if n.Kind == yaml.AliasNode {
		if d.alias == nil {
			// Blame the outermost alias: the one written where the value is used.
			d.alias, d.aliasPath = n, path
			defer func() { d.alias, d.aliasPath = nil, nil }()
		}
		n = n.Alias
	}
	key := path.String()
	d.r.Pos[key] = d.pos(n, n.ShortTag())
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // an empty value leaves the zero value; validation says if it is required
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem(), path)
	case reflect.Struct:
		d.structure(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.r.AddAt(path, KindType, "write a YAML list, e.g. [a, b] or one `- item` per line", "expected a list, found %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.decode(item, s.Index(i), path.Index(i))
		}
		v.Set(s)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.r.AddAt(path, KindType, "write a mapping of key: value pairs", "expected a mapping, found %s", describe(n))
			return
		}
		m := reflect.MakeMap(v.Type())
		for _, kv := range d.pairs(n, path) {
			k, val := kv[0], kv[1]
			p := path.Key(k.Value)
			if m.MapIndex(reflect.ValueOf(k.Value)).IsValid() {
				d.r.Pos[p.String()] = d.pos(k, "")
				d.r.AddAt(p, KindDuplicate, "remove one of the two entries", "duplicate key %q", k.Value)
				continue
			}
			e := reflect.New(v.Type().Elem()).Elem()
			d.decode(val, e, p)
			m.SetMapIndex(reflect.ValueOf(k.Value), e)
		}
		v.Set(m)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.r.AddAt(path, KindType, "write a single value", "expected a string, found %s", describe(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Int:
		i, err := strconv.Atoi(n.Value)
		if n.Kind != yaml.ScalarNode || err != nil {
			d.r.AddAt(path, KindType, "write a whole number", "expected a whole number, found %s", describe(n))
			return
		}
		v.SetInt(int64(i))
	case reflect.Float64:
		f, err := strconv.ParseFloat(n.Value, 64)
		if n.Kind != yaml.ScalarNode || err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			d.r.AddAt(path, KindType, "write a number", "expected a number, found %s", describe(n))
			return
		}
		v.SetFloat(f)
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.Decode(&b) != nil {
			d.r.AddAt(path, KindType, "write true or false", "expected true or false, found %s", describe(n))
			return
		}
		v.SetBool(b)
	default:
		panic(fmt.Sprintf("config: no decoder for %s", v.Type()))
	}
}

// exhaust reports, once, that aliases expand past the budget, at the
// outermost alias being expanded (or at n, under path).
func (d *decoder) exhaust(n *yaml.Node, path *field.Path) {
	if d.exhausted {
		return
	}
	d.exhausted = true
	at, alias := path, n
	if d.alias != nil {
		at, alias = d.aliasPath, d.alias
	}
	name := alias.Value
	if alias.Kind != yaml.AliasNode {
		name = alias.Anchor
	}
	d.r.Pos[at.String()] = d.pos(alias, "")
	d.r.AddAt(at, KindSyntax, "write the values out, or share fewer levels of anchors: aliases may not multiply the document",
		"the alias *%s expands to too many values (more than four times the file's own %d plus %d)", name, d.nodes, aliasAllowance)
	d.bomb = d.r.List[len(d.r.List)-1]
}

// pairs lists a mapping's key/value pairs with merge keys (<<: *anchor, or a
// list of anchors) applied as YAML defines them: keys written in the mapping
// win over merged ones, and earlier merged mappings over later ones.
func (d *decoder) pairs(n *yaml.Node, path *field.Path) [][2]*yaml.Node {
	var own, merged [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.AliasNode {
			k = k.Alias
		}
		if k.Kind != yaml.ScalarNode {
			p := path.Key("?")
			d.r.Pos[p.String()] = d.pos(k, "")
			d.r.AddAt(p, KindType, "write keys as plain words", "a key must be a single value, found %s", describe(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			merged = append(merged, d.mergeSources(val, path, k)...)
			continue
		}
		own = append(own, [2]*yaml.Node{k, val})
	}
	if len(merged) == 0 {
		return own
	}
	seen := map[string]bool{}
	for _, kv := range own {
		seen[kv[0].Value] = true
	}
	for _, kv := range merged {
		if !seen[kv[0].Value] {
			seen[kv[0].Value] = true
			own = append(own, kv)
		}
	}
	return own
}

// mergeSources returns the pairs a merge key's value brings in.
func (d *decoder) mergeSources(val *yaml.Node, path *field.Path, key *yaml.Node) [][2]*yaml.Node {
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
	var out [][2]*yaml.Node
	for _, s := range sources {
		if d.merging[s] {
			p := path.Key("<<")
			d.r.Pos[p.String()] = d.pos(key, "")
			d.r.AddAt(p, KindSyntax, "merge another mapping: this one would include itself", "the merge key refers to the mapping it is in")
			return nil
		}
		if s.Kind != yaml.MappingNode {
			p := path.Key("<<")
			d.r.Pos[p.String()] = d.pos(key, "")
			d.r.AddAt(p, KindType, "merge a mapping (<<: *anchor) or a list of them (<<: [*a, *b])", "a merge key takes mappings, found %s", describe(s))
			return nil
		}
		if d.budget -= len(s.Content); d.budget < 0 {
			d.exhaust(key, path)
			return nil
		}
		if d.merging == nil {
			d.merging = map[*yaml.Node]bool{}
		}
		d.merging[s] = true
		out = append(out, d.pairs(s, path)...)
		delete(d.merging, s)
	}
	return out
}

func (d *decoder) structure(n *yaml.Node, v reflect.Value, path *field.Path) {
	if n.Kind != yaml.MappingNode {
		d.r.AddAt(path, KindType, "write a mapping of key: value pairs", "expected a mapping, found %s", describe(n))
		return
	}
	fields := map[string]int{}
	var names []string
	for i := 0; i < v.NumField(); i++ {
		if name := yamlName(v.Type().Field(i)); name != "" {
			fields[name] = i
			names = append(names, name)
		}
	}
	pairs := d.pairs(n, path)
	present := map[string]bool{}
	for _, kv := range pairs {
		present[kv[0].Value] = true
	}
	seen := map[string]bool{}
	for _, kv := range pairs {
		k, val := kv[0], kv[1]
		p := path.Child(k.Value)
		idx, ok := fields[k.Value]
		if !ok {
			d.r.Pos[p.String()] = d.pos(k, "")
			best, close := closest(k.Value, names)
			fix := "remove it; known fields here: " + strings.Join(names, ", ")
			if close && !present[best] {
				fix = fmt.Sprintf("did you mean %q?", best)
				// The field it was meant to be is explained by this error:
				// it is not also missing, and nothing that refers into it is dangling.
				d.r.Cover(path.Child(best).String())
			}
			d.r.AddAt(p, KindUnknown, fix, "unknown field %q", k.Value)
			continue
		}
		if seen[k.Value] {
			d.r.Pos[p.String()] = d.pos(k, "")
			d.r.AddAt(p, KindDuplicate, "remove one of the two entries", "field %q is set twice", k.Value)
			continue
		}
		seen[k.Value] = true
		d.decode(val, v.Field(idx), p)
	}
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
