// Package iampolicy builds IAM policy documents as plain Go values, so their
// exact size is known before anything is synthesized.
package iampolicy

import (
	"bytes"
	"encoding/json"
	"unicode"
)

// Version is the only policy language version worth writing.
const Version = "2012-10-17"

// Document is an IAM policy document.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement. Maps marshal with sorted keys, so a document
// always renders to the same bytes.
type Statement struct {
	Sid       string            `json:"Sid,omitempty"`
	Effect    string            `json:"Effect"`
	Principal map[string]string `json:"Principal,omitempty"`
	Action    []string          `json:"Action"`
	Resource  []string          `json:"Resource,omitempty"`
	// NotResource is for Denies on everything but a list (service control policies).
	NotResource []string                       `json:"NotResource,omitempty"`
	Condition   map[string]map[string][]string `json:"Condition,omitempty"`
}

// New returns a document of the given statements.
func New(s ...Statement) Document { return Document{Version: Version, Statement: s} }

// JSON is the minified document.
func (d Document) JSON() []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		panic(err) // only strings, slices and maps: cannot fail
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}

// Size counts characters as IAM does for its size quotas: whitespace is not counted.
func (d Document) Size() int {
	n := 0
	for _, r := range string(d.JSON()) {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// Value is the document as generic JSON, the shape CloudFormation properties take.
func (d Document) Value() map[string]any {
	var v map[string]any
	if err := json.Unmarshal(d.JSON(), &v); err != nil {
		panic(err)
	}
	return v
}

// Strings reads a policy field that may be one string or a list of them, as
// IAM allows for Action, Resource and condition values.
func Strings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return v
	}
	return nil
}

// Statements reads a document's Statement, which may be one statement or a
// list of them.
func Statements(doc any) []map[string]any {
	m, _ := doc.(map[string]any)
	var out []map[string]any
	switch s := m["Statement"].(type) {
	case []any:
		for _, x := range s {
			if st, ok := x.(map[string]any); ok {
				out = append(out, st)
			}
		}
	case map[string]any:
		out = append(out, s)
	}
	return out
}
