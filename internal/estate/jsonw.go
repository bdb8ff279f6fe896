package estate

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/acme/genai-estate/internal/iampolicy"
)

// The plan sizes every role's trust policy and every distinct invoke policy,
// and publishes one routing document per use case: at 20,000 use cases that
// is a hundred thousand documents, and encoding/json's reflection was a
// third of the plan's time. These writers produce the same bytes for the
// two types they know (TestJSONWritersMatchEncodingJSON holds them equal).

// appendDoc appends d as iampolicy.Document.JSON writes it (no HTML escaping).
func appendDoc(b []byte, d iampolicy.Document) []byte {
	return appendDocAs(b, d, statementFields, false)
}

// sortedDoc is a policy document in a template: its keys sorted, as
// encoding/json writes iampolicy.Document.Value() and as CDK wrote the
// documents before templates were rendered in Go.
type sortedDoc iampolicy.Document

// MarshalJSON writes d as appendValue does.
func (d sortedDoc) MarshalJSON() ([]byte, error) { return appendSortedDoc(nil, d), nil }

// appendSortedDoc appends d with its keys sorted. Invalid UTF-8 (written as
// \ufffd, which the generic value holds as the character itself) takes the
// slow path.
func appendSortedDoc(b []byte, d sortedDoc) []byte {
	start := len(b)
	b = appendDocAs(b, iampolicy.Document(d), sortedStatementFields, true)
	if bytes.Contains(b[start:], []byte(`\ufffd`)) {
		generic, err := marshal(iampolicy.Document(d).Value())
		if err != nil {
			panic(err) // strings, slices and maps only: cannot fail
		}
		b = append(b[:start], generic...)
	}
	return b
}

// statementField is one of a Statement's JSON fields: its key, whether
// encoding/json leaves it out (omitempty), and how it is written.
type statementField struct {
	key   string
	omit  func(s *iampolicy.Statement) bool
	write func(b []byte, s *iampolicy.Statement) []byte
}

// statementFields are a Statement's fields in its struct's order, the order
// encoding/json writes them in.
var statementFields = []statementField{
	{"Sid", func(s *iampolicy.Statement) bool { return s.Sid == "" },
		func(b []byte, s *iampolicy.Statement) []byte { return appendString(b, s.Sid, false) }},
	{"Effect", nil, func(b []byte, s *iampolicy.Statement) []byte { return appendString(b, s.Effect, false) }},
	{"Principal", func(s *iampolicy.Statement) bool { return len(s.Principal) == 0 },
		func(b []byte, s *iampolicy.Statement) []byte { return appendStringMap(b, s.Principal, false) }},
	{"Action", nil, func(b []byte, s *iampolicy.Statement) []byte { return appendStrings(b, s.Action, false) }},
	{"Resource", func(s *iampolicy.Statement) bool { return len(s.Resource) == 0 },
		func(b []byte, s *iampolicy.Statement) []byte { return appendStrings(b, s.Resource, false) }},
	{"NotResource", func(s *iampolicy.Statement) bool { return len(s.NotResource) == 0 },
		func(b []byte, s *iampolicy.Statement) []byte { return appendStrings(b, s.NotResource, false) }},
	{"Condition", func(s *iampolicy.Statement) bool { return len(s.Condition) == 0 },
		func(b []byte, s *iampolicy.Statement) []byte { return appendConditions(b, s.Condition) }},
}

// sortedStatementFields are the same fields with their keys sorted.
var sortedStatementFields = slices.SortedFunc(slices.Values(statementFields),
	func(a, b statementField) int { return strings.Compare(a.key, b.key) })

// appendDocAs appends d with its statements' fields in the given order, and
// Statement before Version when sorted.
func appendDocAs(b []byte, d iampolicy.Document, fields []statementField, sorted bool) []byte {
	if !sorted {
		b = append(b, `{"Version":`...)
		b = appendString(b, d.Version, false)
		b = append(b, `,"Statement":`...)
	} else {
		b = append(b, `{"Statement":`...)
	}
	if d.Statement == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range d.Statement {
			if i > 0 {
				b = append(b, ',')
			}
			s := &d.Statement[i]
			b = append(b, '{')
			first := true
			for _, f := range fields {
				if f.omit != nil && f.omit(s) {
					continue
				}
				if !first {
					b = append(b, ',')
				}
				first = false
				b = appendString(b, f.key, false)
				b = append(b, ':')
				b = f.write(b, s)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if sorted {
		b = append(b, `,"Version":`...)
		b = appendString(b, d.Version, false)
	}
	return append(b, '}')
}

// appendConditions writes a statement's Condition (never nil here).
func appendConditions(b []byte, c map[string]map[string][]string) []byte {
	return appendMap(b, c, false, func(b []byte, m map[string][]string, html bool) []byte {
		return appendMap(b, m, html, appendStrings)
	})
}

// appendValue appends a template's value as encoding/json writes it
// without HTML escaping: the types templates are built from, and
// encoding/json itself for any other.
func appendValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case string:
		return appendString(b, v, false)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case bool:
		return strconv.AppendBool(b, v)
	case []string:
		return appendStrings(b, v, false)
	case map[string]string:
		return appendStringMap(b, v, false)
	case map[string]any:
		return appendMap(b, v, false, appendTemplateValue)
	case []any:
		return appendList(b, v, false, appendTemplateValue)
	case []map[string]string:
		return appendList(b, v, false, appendStringMap)
	case sortedDoc:
		return appendSortedDoc(b, v)
	case ordered:
		b = append(b, '{')
		for i, m := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, m.key, false)
			b = append(b, ':')
			b = appendValue(b, m.value)
		}
		return append(b, '}')
	}
	j, err := marshal(v)
	if err != nil {
		panic(err) // templates hold plain values only
	}
	return append(b, j...)
}

func appendTemplateValue(b []byte, v any, _ bool) []byte { return appendValue(b, v) }

// appendList appends list as encoding/json writes a slice: null when nil,
// else each element written by value.
func appendList[E any](b []byte, list []E, html bool, value func([]byte, E, bool) []byte) []byte {
	if list == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, e := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = value(b, e, html)
	}
	return append(b, ']')
}

// appendMap appends m as encoding/json writes a map: null when nil, else an
// object with the keys sorted, each value written by value.
func appendMap[V any](b []byte, m map[string]V, html bool, value func([]byte, V, bool) []byte) []byte {
	if m == nil {
		return append(b, "null"...)
	}
	b = append(b, '{')
	for i, k := range sortedKeys(m) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k, html)
		b = append(b, ':')
		b = value(b, m[k], html)
	}
	return append(b, '}')
}

// sortedKeys are a map's keys in encoding/json's order; a map of one or
// two keys, nearly every one here, is sorted without a library call.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	switch {
	case len(keys) == 2:
		if keys[1] < keys[0] {
			keys[0], keys[1] = keys[1], keys[0]
		}
	case len(keys) > 2:
		slices.Sort(keys)
	}
	return keys
}

func appendStringMap(b []byte, m map[string]string, html bool) []byte {
	return appendMap(b, m, html, appendString)
}

func appendStrings(b []byte, list []string, html bool) []byte {
	return appendList(b, list, html, appendString)
}

// appendRouting appends a routing document as json.Marshal writes it
// (HTML characters escaped).
func appendRouting(b []byte, r *Routing) []byte {
	b = append(b, `{"useCase":`...)
	b = appendString(b, r.UseCase, true)
	b = append(b, `,"subjects":`...)
	b = appendStrings(b, r.Subjects, true)
	b = append(b, `,"credentialTtlSeconds":`...)
	b = strconv.AppendInt(b, int64(r.CredentialTTLSeconds), 10)
	b = append(b, `,"quota":{`...)
	comma := false
	if r.Quota.RequestsPerMinute != 0 {
		b = append(b, `"requestsPerMinute":`...)
		b = strconv.AppendInt(b, int64(r.Quota.RequestsPerMinute), 10)
		comma = true
	}
	if r.Quota.TokensPerMinute != 0 {
		if comma {
			b = append(b, ',')
		}
		b = append(b, `"tokensPerMinute":`...)
		b = strconv.AppendInt(b, int64(r.Quota.TokensPerMinute), 10)
	}
	b = append(b, `},"routes":`...)
	if r.Routes == nil {
		return append(b, "null}"...)
	}
	b = append(b, '[')
	for i := range r.Routes {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendRoute(b, &r.Routes[i])
	}
	return append(b, "]}"...)
}

func appendRoute(b []byte, rt *Route) []byte {
	b = append(b, `{"accountName":`...)
	b = appendString(b, rt.AccountName, true)
	b = append(b, `,"account":`...)
	b = appendString(b, rt.Account, true)
	b = append(b, `,"roleArn":`...)
	b = appendString(b, rt.RoleArn, true)
	b = append(b, `,"via":`...)
	b = appendString(b, rt.Via, true)
	b = append(b, `,"models":`...)
	b = appendMap(b, rt.Models, true, appendStrings)
	if len(rt.Profiles) > 0 {
		b = append(b, `,"profiles":`...)
		b = appendMap(b, rt.Profiles, true, appendStringMap)
	}
	if rt.ProfileArns != "" {
		b = append(b, `,"profileArns":`...)
		b = appendString(b, rt.ProfileArns, true)
	}
	if g := rt.Guardrail; g != nil {
		b = append(b, `,"guardrail":{"id":`...)
		b = appendString(b, g.ID, true)
		b = append(b, `,"version":`...)
		b = appendString(b, g.Version, true)
		b = append(b, `,"arn":`...)
		b = appendString(b, g.Arn, true)
		b = append(b, '}')
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string exactly as encoding/json does,
// escaping <, > and & when html is set (json.Marshal) and not otherwise
// (an Encoder with SetEscapeHTML(false)).
func appendString(b []byte, s string, html bool) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && (!html || (c != '<' && c != '>' && c != '&')) {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
