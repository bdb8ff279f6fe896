package iampolicy

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRenderAndSize(t *testing.T) {
	tests := []struct {
		name string
		doc  Document
		json string
	}{
		{"minimal", New(Statement{Effect: "Allow", Action: []string{"bedrock:InvokeModel"}, Resource: []string{"arn:aws:bedrock:us-east-1::foundation-model/a"}}),
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["bedrock:InvokeModel"],"Resource":["arn:aws:bedrock:us-east-1::foundation-model/a"]}]}`},
		{"condition keys sorted", New(Statement{Effect: "Allow", Action: []string{"sts:AssumeRoleWithWebIdentity"}, Principal: map[string]string{"Federated": "arn"},
			Condition: map[string]map[string][]string{"StringEquals": {"x:sub": {"b"}, "x:aud": {"a"}}}}),
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn"},"Action":["sts:AssumeRoleWithWebIdentity"],"Condition":{"StringEquals":{"x:aud":["a"],"x:sub":["b"]}}}]}`},
		{"no html escaping", New(Statement{Sid: "A", Effect: "Allow", Action: []string{"a<b>&"}}),
			`{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":["a<b>&"]}]}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.json, string(tc.doc.JSON()))
			assert.Equal(t, len(tc.json), tc.doc.Size())
			assert.Equal(t, "2012-10-17", tc.doc.Value()["Version"])
		})
	}
	// Whitespace inside values is not counted.
	d := New(Statement{Sid: "", Effect: "Allow", Action: []string{"a b"}})
	assert.Equal(t, len(d.JSON())-1, d.Size())
}
