package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

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
type decoder struct {
	r *Reporter
}

func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	d.r.Pos[path] = Pos{Line: n.Line, Column: n.Column, Tag: n.ShortTag()}
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
			d.r.Add(path, "write a YAML list, e.g. [a, b] or one `- item` per line", "expected a list, found %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.decode(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.r.Add(path, "write a mapping of key: value pairs", "expected a mapping, found %s", describe(n))
			return
		}
		m := reflect.MakeMap(v.Type())
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			p := join(path, k.Value)
			if m.MapIndex(reflect.ValueOf(k.Value)).IsValid() {
				d.r.Pos[p] = Pos{Line: k.Line, Column: k.Column}
				d.r.Add(p, "remove one of the two entries", "duplicate key %q", k.Value)
				continue
			}
			e := reflect.New(v.Type().Elem()).Elem()
			d.decode(val, e, p)
			m.SetMapIndex(reflect.ValueOf(k.Value), e)
		}
		v.Set(m)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.r.Add(path, "write a single value", "expected a string, found %s", describe(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Int:
		i, err := strconv.Atoi(n.Value)
		if n.Kind != yaml.ScalarNode || err != nil {
			d.r.Add(path, "write a whole number", "expected a whole number, found %s", describe(n))
			return
		}
		v.SetInt(int64(i))
	case reflect.Float64:
		f, err := strconv.ParseFloat(n.Value, 64)
		if n.Kind != yaml.ScalarNode || err != nil {
			d.r.Add(path, "write a number", "expected a number, found %s", describe(n))
			return
		}
		v.SetFloat(f)
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.Decode(&b) != nil {
			d.r.Add(path, "write true or false", "expected true or false, found %s", describe(n))
			return
		}
		v.SetBool(b)
	default:
		panic(fmt.Sprintf("config: no decoder for %s", v.Type()))
	}
}

func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.r.Add(path, "write a mapping of key: value pairs", "expected a mapping, found %s", describe(n))
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
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		p := join(path, k.Value)
		idx, ok := fields[k.Value]
		if !ok {
			d.r.Pos[p] = Pos{Line: k.Line, Column: k.Column}
			fix := DidYouMean(k.Value, names, "remove it; known fields here: "+strings.Join(names, ", "))
			d.r.Add(p, fix, "unknown field %q", k.Value)
			for _, name := range names {
				if fix == fmt.Sprintf("did you mean %q?", name) {
					if d.r.covered == nil {
						d.r.covered = map[string]bool{}
					}
					d.r.covered[join(path, name)] = true
				}
			}
			continue
		}
		if seen[k.Value] {
			d.r.Pos[p] = Pos{Line: k.Line, Column: k.Column}
			d.r.Add(p, "remove one of the two entries", "field %q is set twice", k.Value)
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

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	return fmt.Sprintf("%q", n.Value)
}
