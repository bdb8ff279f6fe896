package config

import (
	"encoding/json"
	"reflect"
	"strings"

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
			if d := f.Tag.Get("doc"); d != "" {
				p["description"] = d
			}
			if pat := f.Tag.Get("pattern"); pat != "" {
				p["pattern"] = pat
			}
			if e := f.Tag.Get("enum"); e != "" {
				p["enum"] = strings.Split(e, ",")
			}
			if f.Tag.Get("required") == "true" {
				required = append(required, name)
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
