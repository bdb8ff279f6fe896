package config

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/acme/genai-estate/internal/naming"
)

// A field's declaration lives in its struct tags, read by both the JSON
// Schema generator (schema.go) and the loader (this file), so the two cannot
// disagree:
//
//	required:"true"       the key must be present and not empty
//	pattern:"name"        a named pattern (see patterns) or a regular expression
//	enum:"a,b"            the allowed values (strings or whole numbers)
//	minimum:"1"           the smallest allowed number
//	maximum:"100"         the largest allowed number
//	default:"1024"        the value SetDefaults writes when the key is absent
//
// Validation code keeps the rules that involve more than one field.

// pattern is a named regular expression with the words that explain it.
type pattern struct {
	expr    string
	re      *regexp.Regexp
	explain func(s string) (problem, fix string)
}

// patterns are the named patterns struct tags refer to.
var patterns = map[string]*pattern{
	"name": {expr: naming.FieldPattern, explain: func(s string) (string, string) {
		return fmt.Sprintf("%q cannot be used in IAM names: names must stay machine-parsable, so hyphens are reserved as separators", s),
			"use " + naming.FieldRule + ", e.g. " + suggestField(s)
	}},
	"account": {expr: `^[0-9]{12}$`, explain: func(s string) (string, string) {
		return fmt.Sprintf("%q is not a 12-digit account id", s), "use the 12 digits of the account id, e.g. \"123456789012\""
	}},
}

func init() {
	for _, p := range patterns {
		p.re = regexp.MustCompile(p.expr)
	}
}

// decl is one field's parsed declaration.
type decl struct {
	index    int
	name     string
	doc      string
	required bool
	pattern  *pattern
	enum     []string
	min, max *float64
	def      string
	hasDef   bool
	// composite is set when the field holds structs the walks descend into.
	composite bool
	// filled is set when code may write the field besides the decoder: it
	// has a default, or its struct is (or is inside) one with a Defaults
	// method. Otherwise a field that is not zero was set by the file.
	filled bool
}

var decls sync.Map // reflect.Type -> []decl

// declsOf returns the declarations of a struct type's YAML fields.
func declsOf(t reflect.Type) []decl {
	if d, ok := decls.Load(t); ok {
		return d.([]decl)
	}
	var out []decl
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := yamlName(f)
		if name == "" {
			continue
		}
		d := decl{index: i, name: name, doc: f.Tag.Get("doc"), required: f.Tag.Get("required") == "true"}
		if p := f.Tag.Get("pattern"); p != "" {
			if d.pattern = patterns[p]; d.pattern == nil {
				d.pattern = &pattern{expr: p, re: regexp.MustCompile(p)}
			}
		}
		if e := f.Tag.Get("enum"); e != "" {
			d.enum = strings.Split(e, ",")
		}
		d.min, d.max = number(f, "minimum"), number(f, "maximum")
		d.def, d.hasDef = f.Tag.Lookup("default")
		d.composite = holdsStruct(f.Type)
		d.filled = d.hasDef || defaulted()[t]
		out = append(out, d)
	}
	decls.Store(t, out)
	return out
}

// defaulted are the struct types that a hand-written Defaults method may
// fill: those with one, and every struct type inside them.
var defaulted = sync.OnceValue(func() map[reflect.Type]bool {
	out := map[reflect.Type]bool{}
	filler := reflect.TypeFor[interface{ Defaults() }]()
	var visit func(t reflect.Type, inside bool)
	seen := map[reflect.Type]bool{}
	visit = func(t reflect.Type, inside bool) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return
		}
		inside = inside || reflect.PointerTo(t).Implements(filler) || t.Implements(filler)
		if seen[t] && (!inside || out[t]) {
			return
		}
		seen[t] = true
		if inside {
			out[t] = true
		}
		for i := 0; i < t.NumField(); i++ {
			visit(t.Field(i).Type, inside)
		}
	}
	visit(reflect.TypeFor[Config](), false)
	return out
})

// holdsStruct reports whether a field of type t is, or holds, structs.
func holdsStruct(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	return t.Kind() == reflect.Struct
}

// declared is the declaration of a struct type's field, by YAML name.
func declared(t reflect.Type, name string) decl {
	for _, d := range declsOf(t) {
		if d.name == name {
			return d
		}
	}
	panic("config: " + t.Name() + " has no field " + name)
}

func number(f reflect.StructField, tag string) *float64 {
	s, ok := f.Tag.Lookup(tag)
	if !ok {
		return nil
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil {
		panic(fmt.Sprintf("config: %s:%q of %s is not a number", tag, s, f.Name))
	}
	return &n
}

// present reports whether the file sets the field at path (to something
// other than null). A config built in Go has no positions: there, a zero
// value is unset.
func (c *Config) present(path []byte, v reflect.Value) bool {
	if c.Pos == nil {
		return !v.IsZero()
	}
	p, ok := c.Pos[string(path)] // looked up without allocating
	return ok && p.Tag != "!!null"
}

// walk calls visit for every declared field of every struct in v, depth
// first, with the field's rendered path (as field.Path renders it). It
// descends only into values that are set. The path is one buffer that each
// step appends to and later steps overwrite: visit may read it but must
// copy what it keeps.
func walk(v reflect.Value, path []byte, visit func(d decl, fv reflect.Value, p []byte) bool) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			walk(v.Elem(), path, visit)
		}
	case reflect.Struct:
		for _, d := range declsOf(v.Type()) {
			fv, p := v.Field(d.index), appendChild(path, d.name)
			if visit(d, fv, p) {
				walk(fv, p, visit)
			}
		}
	case reflect.Slice:
		if k := v.Type().Elem().Kind(); k == reflect.Struct || k == reflect.Pointer {
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i), appendIndex(path, i), visit)
			}
		}
	case reflect.Map:
		if k := v.Type().Elem().Kind(); k == reflect.Struct || k == reflect.Pointer {
			keys := v.MapKeys()
			slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
			for _, k := range keys {
				walk(v.MapIndex(k), appendChild(path, k.String()), visit)
			}
		}
	}
}

// root is the buffer a walk starts from.
func root() []byte { return make([]byte, 0, 256) }

// SetDefaults writes each declared default (a `default` struct tag) where
// the file leaves the field unset, then the defaults that types still fill
// by hand. An explicit value, 0 included, is never replaced: it is
// validated like any other.
func SetDefaults(c *Config) { prepare(c, nil) }

// prepare checks the numbers the file sets against their declared minimum,
// maximum and numeric enum (when r is set), then fills the defaults: both
// in one walk over the config, each field judged before it is defaulted,
// so that an explicit 0 is judged as 0, not as "use the default".
func prepare(c *Config, r *Reporter) {
	walk(reflect.ValueOf(c).Elem(), root(), func(d decl, fv reflect.Value, p []byte) bool {
		if r != nil && c.Pos != nil && (d.min != nil || d.max != nil || (d.enum != nil && isNumber(fv.Type()))) {
			checkNumber(c, r, d, fv, p)
		}
		if d.hasDef && !c.present(p, fv) {
			setDefault(fv, d.def)
		}
		return true
	})
	// Defaults written by hand, for what a tag cannot say (a default that
	// depends on another field). They read 0 as unset, so keepExplicit puts
	// back what the file set.
	for _, s := range []struct {
		v    any
		path string
	}{{c.Central.Gateway, "central.gateway"}, {c.RAG, "rag"}} {
		if d, ok := s.v.(interface{ Defaults() }); ok && !reflect.ValueOf(s.v).IsNil() {
			keepExplicit(c, reflect.ValueOf(s.v).Elem(), append(root(), s.path...), d.Defaults)
		}
	}
}

// keepExplicit runs a hand-written Defaults method that reads 0 as unset,
// then puts back every value the file set, so that an explicit 0 stays 0.
func keepExplicit(c *Config, v reflect.Value, path []byte, fill func()) {
	before := reflect.New(v.Type()).Elem()
	before.Set(v)
	fill()
	var restore func(before, v reflect.Value, path []byte)
	restore = func(before, v reflect.Value, path []byte) {
		for _, d := range declsOf(v.Type()) {
			fv, p := v.Field(d.index), appendChild(path, d.name)
			switch {
			case fv.Kind() == reflect.Struct:
				restore(before.Field(d.index), fv, p)
			case c.present(p, before.Field(d.index)):
				fv.Set(before.Field(d.index))
			}
		}
	}
	restore(before, v, path)
}

// setDefault parses a default tag into a field; a malformed tag is a
// programming error that TestDefaultsAreValid catches.
func setDefault(fv reflect.Value, def string) {
	switch fv.Kind() {
	case reflect.Pointer:
		if fv.IsNil() {
			fv.Set(reflect.New(fv.Type().Elem()))
		}
		setDefault(fv.Elem(), def)
	case reflect.String:
		fv.SetString(def)
	case reflect.Int:
		n, err := strconv.Atoi(def)
		if err != nil {
			panic("config: default " + def + " is not a whole number")
		}
		fv.SetInt(int64(n))
	case reflect.Float64:
		f, err := strconv.ParseFloat(def, 64)
		if err != nil {
			panic("config: default " + def + " is not a number")
		}
		fv.SetFloat(f)
	case reflect.Bool:
		fv.SetBool(def == "true")
	default:
		panic("config: no default for " + fv.Type().String())
	}
}

// defaultValue is a default tag as the JSON Schema writes it.
func defaultValue(t reflect.Type, def string) any {
	v := reflect.New(t).Elem()
	setDefault(v, def)
	for v.Kind() == reflect.Pointer {
		v = v.Elem()
	}
	return v.Interface()
}

// checkNumber enforces minimum, maximum and numeric enums on the numbers of
// one field that the file sets.
func checkNumber(c *Config, r *Reporter, d decl, fv reflect.Value, p []byte) {
	each(fv, p, func(x reflect.Value, p []byte) {
		if !isNumber(x.Type()) || !c.present(p, x) {
			return
		}
		n := x.Convert(reflect.TypeFor[float64]()).Float()
		s := strconv.FormatFloat(n, 'f', -1, 64)
		switch {
		case d.enum != nil && !slices.Contains(d.enum, s):
			r.add(SeverityError, KindEnum, string(p), "use one of "+strings.Join(d.enum, ", "), "%s is not one of %s", s, strings.Join(d.enum, ", "))
		case d.min != nil && n < *d.min, d.max != nil && n > *d.max:
			r.add(SeverityError, KindRange, string(p), rangeFix(d), "%s is out of range (%s)", s, rangeText(d))
		}
	})
}

// checkDeclared enforces required, pattern and string enums. It runs after
// the validation code, whose messages are more specific where both apply
// (the Reporter keeps one error per path), and does not look inside what is
// absent or already wrong.
func checkDeclared(c *Config, r *Reporter) {
	walk(reflect.ValueOf(c).Elem(), root(), func(d decl, fv reflect.Value, p []byte) bool {
		if !d.required && d.pattern == nil && d.enum == nil && !d.composite {
			return false // nothing to check here or below: most fields of a large config
		}
		if r.hasUnder(p) {
			return false
		}
		// Only the file (or a default) makes a value non-zero: a lookup in
		// the position table is needed only to tell unset from empty.
		set := !d.filled && !fv.IsZero() || c.present(p, fv)
		if d.required && (!set || isEmpty(fv)) {
			if r.covered[string(p)] {
				return false
			}
			name, doc := d.name, strings.TrimSuffix(d.doc, ".")
			problem := "required field is missing"
			if set {
				problem = "required field is empty"
			}
			r.add(SeverityError, KindRequired, string(p), fmt.Sprintf("add `%s:` (%s)", name, lowerFirst(doc)), "%s", problem)
			return false
		}
		if !set {
			return false
		}
		if d.pattern == nil && d.enum == nil {
			return true
		}
		each(fv, p, func(x reflect.Value, p []byte) {
			if x.Kind() != reflect.String {
				return
			}
			s := x.String()
			switch {
			case d.pattern != nil && !d.pattern.re.MatchString(s):
				problem, fix := fmt.Sprintf("%q does not match %s", s, d.pattern.expr), "use a value matching "+d.pattern.expr
				if d.pattern.explain != nil {
					problem, fix = d.pattern.explain(s)
				}
				r.add(SeverityError, KindPattern, string(p), fix, "%s", problem)
			case d.enum != nil && !slices.Contains(d.enum, s):
				r.add(SeverityError, KindEnum, string(p), DidYouMean(s, d.enum, "use one of "+strings.Join(d.enum, ", ")), "unknown value %q", s)
			}
		})
		return true
	})
}

// each applies f to a scalar field, or to each element of a list of scalars.
func each(fv reflect.Value, p []byte, f func(reflect.Value, []byte)) {
	for fv.Kind() == reflect.Pointer {
		if fv.IsNil() {
			return
		}
		fv = fv.Elem()
	}
	if fv.Kind() == reflect.Slice {
		for i := 0; i < fv.Len(); i++ {
			each(fv.Index(i), appendIndex(p, i), f)
		}
		return
	}
	f(fv, p)
}

func isNumber(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	return t.Kind() == reflect.Int || t.Kind() == reflect.Float64
}

func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String, reflect.Slice, reflect.Map:
		return v.Len() == 0
	case reflect.Pointer:
		return v.IsNil()
	}
	return false
}

func rangeText(d decl) string {
	f := func(n *float64) string { return strconv.FormatFloat(*n, 'f', -1, 64) }
	switch {
	case d.min != nil && d.max != nil:
		return f(d.min) + " to " + f(d.max)
	case d.min != nil:
		return "at least " + f(d.min)
	}
	return "at most " + f(d.max)
}

func rangeFix(d decl) string {
	fix := "use a value " + strings.Replace(rangeText(d), "at ", "of at ", 1)
	if d.min != nil && d.max != nil {
		fix = "use a value from " + rangeText(d)
	}
	if d.hasDef {
		fix += ", or remove the key for the default " + d.def
	}
	return fix
}

func lowerFirst(s string) string {
	if s == "" {
		return "see the config reference"
	}
	return strings.ToLower(s[:1]) + s[1:]
}
