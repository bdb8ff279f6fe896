package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
)

// compareAssemblies compares each template of the JavaScript app's assembly
// (js) with the Go app's template of the same name. Two things differ by
// construction and are set aside: CDK's analytics resource (CDKMetadata,
// which lists the construct classes each app used) and each resource's
// aws:cdk:path metadata (the construct paths differ: the Go app's resources
// sit under its include construct). Everything else must be equal,
// including the order of resources and outputs.
func compareAssemblies(goDir, jsDir string) (same int, diffs []string) {
	files, _ := filepath.Glob(filepath.Join(jsDir, "*.template.json"))
	for _, f := range files {
		name := filepath.Base(f)
		a, errA := os.ReadFile(filepath.Join(goDir, name))
		b, errB := os.ReadFile(f)
		if errA != nil || errB != nil {
			diffs = append(diffs, fmt.Sprintf("%s: missing in one app (%v, %v)", name, errA, errB))
			continue
		}
		if d := compareTemplates(a, b); d != "" {
			diffs = append(diffs, name+": "+d)
			continue
		}
		same++
	}
	return same, diffs
}

func compareTemplates(a, b []byte) string {
	for _, section := range []string{"Resources", "Outputs"} {
		ka, kb := keyOrder(a, section), keyOrder(b, section)
		ka = slices.DeleteFunc(ka, func(k string) bool { return k == "CDKMetadata" })
		kb = slices.DeleteFunc(kb, func(k string) bool { return k == "CDKMetadata" })
		if !slices.Equal(ka, kb) {
			return section + " differ in names or order"
		}
	}
	ta, tb := normalise(a), normalise(b)
	if !reflect.DeepEqual(ta, tb) {
		for k := range ta {
			if !reflect.DeepEqual(ta[k], tb[k]) {
				return "section " + k + " differs"
			}
		}
		return "sections differ"
	}
	return ""
}

func normalise(b []byte) map[string]any {
	var t map[string]any
	if err := json.Unmarshal(b, &t); err != nil {
		return map[string]any{"error": err.Error()}
	}
	res, _ := t["Resources"].(map[string]any)
	delete(res, "CDKMetadata")
	if c, ok := t["Conditions"].(map[string]any); ok {
		delete(c, "CDKMetadataAvailable")
		if len(c) == 0 {
			delete(t, "Conditions")
		}
	}
	for _, r := range res {
		if m, ok := r.(map[string]any)["Metadata"].(map[string]any); ok {
			delete(m, "aws:cdk:path")
			if len(m) == 0 {
				delete(r.(map[string]any), "Metadata")
			}
		}
	}
	return t
}

// keyOrder lists the keys of a top-level section in the order written.
func keyOrder(b []byte, section string) []string {
	var t map[string]json.RawMessage
	if json.Unmarshal(b, &t) != nil || t[section] == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(t[section]))
	var keys []string
	if _, err := dec.Token(); err != nil { // {
		return nil
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return keys
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return keys
		}
	}
	return keys
}
