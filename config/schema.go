package config

import (
	"encoding/json"
	"reflect"

	"github.com/acme/genai-estate/internal/catalog"
)

// Schema returns a JSON Schema of the config file, generated from the Go
// types (their yaml, doc, required, pattern, enum and schema tags), for
// editors running yaml-language-server. It mirrors the strict decoder:
// unknown keys are rejected.
func Schema() []byte {
	s := schemaOf(reflect.TypeFor[Config](), "")
	s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	s["title"] = "genai-estate use-case/model matrix"
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}

func schemaOf(t reflect.Type, kind string) map[string]any {
	switch t.Kind() {
	case reflect.Pointer:
		return schemaOf(t.Elem(), kind)
	case reflect.Struct:
		props := map[string]any{}
		var required []string
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name := yamlName(f)
			if name == "" {
				continue
			}
			p := schemaOf(f.Type, f.Tag.Get("schema"))
			d := declOf(t, i)
			if d.doc != "" {
				p["description"] = d.doc
			}
			// Constraints on a list's elements go on its items.
			c := p
			if items, ok := p["items"].(map[string]any); ok && f.Type.Kind() == reflect.Slice {
				c = items
			}
			if d.pattern != nil {
				c["pattern"] = d.pattern.expr
			}
			if d.enum != nil {
				c["enum"] = enumValues(f.Type, d.enum)
			}
			if d.min != nil {
				c["minimum"] = *d.min
			}
			if d.max != nil {
				c["maximum"] = *d.max
			}
			if d.hasDef {
				p["default"] = defaultValue(f.Type, d.def)
			}
			if d.required {
				required = append(required, name)
				if f.Type.Kind() == reflect.Slice {
					p["minItems"] = 1 // the loader rejects an empty list too
				}
			}
			props[name] = p
		}
		out := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		if len(required) > 0 {
			out["required"] = required
		}
		return out
	case reflect.Slice:
		return map[string]any{"type": "array", "items": schemaOf(t.Elem(), kind)}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem(), kind)}
	case reflect.String:
		if kind == "region" {
			return map[string]any{"type": "string", "enum": catalog.Regions()}
		}
		return map[string]any{"type": "string"}
	case reflect.Int:
		return map[string]any{"type": "integer"}
	case reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	}
	panic("config: no schema for " + t.String())
}

// declOf is the declaration of field i of struct type t.
func declOf(t reflect.Type, i int) decl {
	for _, d := range declsOf(t) {
		if d.index == i {
			return d
		}
	}
	return decl{}
}

// enumValues types an enum for the schema: numbers for number fields.
func enumValues(t reflect.Type, enum []string) []any {
	out := make([]any, len(enum))
	for i, e := range enum {
		out[i] = e
		if isNumber(t) {
			out[i] = defaultValue(reflect.TypeFor[float64](), e)
		}
	}
	return out
}
