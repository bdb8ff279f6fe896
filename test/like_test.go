package test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// like reports where got fails to match want, with the semantics of CDK's
// Match.objectLike and Match.arrayWith applied all the way down: an object
// matches when each of want's keys matches; an array when each of want's
// elements matches some element of got; numbers compare by value; anything
// else must be equal. It works on the parsed templates the tests already
// hold, so a property is checked where it is, not found as a substring of a
// marshalled blob.
func like(got, want any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("want an object, got %s", js(got))
		}
		for k, wv := range w {
			gv, present := g[k]
			if !present {
				return fmt.Sprintf("no key %q in %s", k, js(got))
			}
			if why := like(gv, wv); why != "" {
				return k + ": " + why
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok {
			return fmt.Sprintf("want an array, got %s", js(got))
		}
	next:
		for _, wv := range w {
			for _, gv := range g {
				if like(gv, wv) == "" {
					continue next
				}
			}
			return fmt.Sprintf("no element like %s in %s", js(wv), js(got))
		}
		return ""
	}
	if wf, ok := number(want); ok {
		if gf, ok := number(got); ok && gf == wf {
			return ""
		}
	} else if got == want {
		return ""
	}
	return fmt.Sprintf("want %s, got %s", js(want), js(got))
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// assertLike fails the test when got does not match want (see like).
func assertLike(t *testing.T, got, want any, msgAndArgs ...any) bool {
	t.Helper()
	if why := like(got, want); why != "" {
		return assert.Fail(t, "not like: "+why, msgAndArgs...)
	}
	return true
}

type obj = map[string]any
type arr = []any

func TestLike(t *testing.T) {
	doc := obj{"Statement": arr{
		obj{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": obj{"Service": "lambda.amazonaws.com"}},
		obj{"Effect": "Deny", "Condition": obj{"Bool": obj{"aws:SecureTransport": "false"}}, "Max": 50.0},
	}}
	for _, tc := range []struct {
		name string
		want any
		ok   bool
	}{
		{"subset of an object", obj{"Statement": arr{obj{"Effect": "Deny"}}}, true},
		{"nested condition", obj{"Statement": arr{obj{"Condition": obj{"Bool": obj{"aws:SecureTransport": "false"}}}}}, true},
		{"int matches a JSON number", obj{"Statement": arr{obj{"Max": 50}}}, true},
		{"keys must be in the same element", obj{"Statement": arr{obj{"Effect": "Allow", "Max": 50}}}, false},
		{"wrong value", obj{"Statement": arr{obj{"Effect": "Audit"}}}, false},
		{"missing key", obj{"Version": "2012-10-17"}, false},
		{"string is not a number", obj{"Statement": arr{obj{"Max": "50"}}}, false},
		{"object is not an array", obj{"Statement": obj{}}, false},
		{"every wanted element", obj{"Statement": arr{obj{"Effect": "Allow"}, obj{"Effect": "Deny"}}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			why := like(doc, tc.want)
			assert.Equal(t, tc.ok, why == "", why)
		})
	}
}
