package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/acme/genai-estate/internal/fixture"
)

// sameNodes reports where two node trees differ in anything the loader
// reads: kind, style, tag, value, anchor, alias, line, column and children.
func sameNodes(a, b *yaml.Node, path string) error {
	if a.Kind != b.Kind || a.Style != b.Style || a.Tag != b.Tag || a.Value != b.Value || a.Anchor != b.Anchor ||
		(a.Alias == nil) != (b.Alias == nil) || a.Line != b.Line || a.Column != b.Column || len(a.Content) != len(b.Content) {
		return fmt.Errorf("%s: fast {kind %d style %d tag %q value %q at %d:%d, %d children}, yaml.v3 {kind %d style %d tag %q value %q at %d:%d, %d children}",
			path, a.Kind, a.Style, a.Tag, a.Value, a.Line, a.Column, len(a.Content), b.Kind, b.Style, b.Tag, b.Value, b.Line, b.Column, len(b.Content))
	}
	for i := range a.Content {
		if err := sameNodes(a.Content[i], b.Content[i], fmt.Sprintf("%s/%d", path, i)); err != nil {
			return err
		}
	}
	return nil
}

// checkFast fails if the fast path reads data at all differently from
// yaml.v3: it may give up, but what it accepts must be one valid document
// with the very nodes yaml.v3 builds.
//
// It reads data twice: as a config is read, and with every top-level list
// split in two halves read at once, as a large config's lists are; both
// must agree.
func checkFast(t *testing.T, data []byte) (accepted bool) {
	t.Helper()
	fast, ok := fastParse(data)
	defer func(min int) { splitMin = min }(splitMin)
	splitMin = 0
	split, splitOK := fastParse(data)
	if ok != splitOK {
		t.Fatalf("read whole, the fast path says %v; split, %v:\n%s", ok, splitOK, data)
	}
	if !ok {
		return false
	}
	if err := sameNodes(split, fast, ""); err != nil {
		t.Fatalf("split: %v\n%s", err, data)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc, extra yaml.Node
	if err := safeDecode(dec, &doc); err != nil {
		t.Fatalf("fast path accepted what yaml.v3 rejects (%v):\n%s", err, data)
	}
	if err := safeDecode(dec, &extra); !errors.Is(err, io.EOF) {
		t.Fatalf("fast path accepted a second document:\n%s", data)
	}
	if err := sameNodes(fast, doc.Content[0], ""); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	return true
}

var fastSamples = []string{
	"a: 1\n",
	"a: 1",
	"# head\na: 1 # line\n\n# foot\n",
	"a:\n  b: c\n  d: [1, 2.5, true, null, ~, x y, \"q\", 'it''s']\ne: {f: g, h: [i], j: {k: l}}\n",
	"list:\n- a\n- b: c\n  d: e\n- [x]\nafter: 1\n",
	"list:\n  - a\n  -   b: c\n      d: e\n",
	"- a\n- b\n",
	"k: v: w\n",
	"k: 'a\n  b'\n",
	"k: \"a\\tb\"\n",
	"k: &x 1\nl: *x\n",
	"k: !!str 1\n",
	"k: |\n  text\n",
	"k:\n",
	"k:\nl: 1\n",
	"---\nk: 1\n",
	"k: 1\n---\nl: 2\n",
	"k: 1\n...\n",
	"k: ünïcødé ✓ x\nl: [ü, 'é', {m: ✓}]\n",
	"k: a#b\nl: a # b\nm: 'a' # c\n",
	"k: a\n continued\n",
	"k: [a,\n  b]\n",
	"k: [a, ]\n",
	"k: {a: }\n",
	"k: {a:b}\n",
	"k: [a: b]\n",
	"k: -1\nl: - 1\nm: -\n",
	"<<: {a: 1}\n",
	"us-east-1: x\nv1.0: y\n_k: z\n",
	"true: 1\nnull: 2\n",
	"k: 0x1F\nl: 1e3\nm: .inf\nn: 2001-12-14\no: 012\n",
	"k: [[a, b], [c]]\n",
	"k:\n    - a\n  l: 1\n",
	"k:\n  - a\n   - b\n",
	"a: 1\n  b: 2\n",
	"a: 1\nb:   spaced   \n",
	"a: x  # two spaces\n",
	"a: \"\"\nb: ''\nc: []\nd: {}\n",
	"a: [ a , b ]\nb: { c : d }\n",
	"a: [\"x, y\", 'z]']\n",
	"a: b ]\nc: d }\ne: f,g\n",
	"a: ?x\nb: :y\nc: @z\n",
	"a:\n\n  # comment\n  b: 1\n",
	"a: 1\n\n\n",
	"  a: 1\n",
	"",
	"# only a comment\n",
	"a",
	"[a]\n",
	"- 0\u0080\n",
	"k: a\u009fb\n",
	"k: \ufffe\n",
	"k: x\u00a0y\n",
	"A: <<\n",
	"a: [<<, b]\nc: {d: <<}\n- <<\n",
	"- <<\n",
}

// Every character the fast path lets through must be one yaml.v3 reads
// the same way, in a value and in a comment: the whole Latin range and
// the edges of each range YAML allows.
func TestFastYAMLCharacters(t *testing.T) {
	var runes []rune
	for r := rune(0); r < 0x800; r++ {
		runes = append(runes, r)
	}
	for _, edge := range []rune{0x2028, 0x2029, 0xD7FF, 0xE000, 0xFEFF, 0xFFFD, 0xFFFE, 0xFFFF, 0x10000, 0x10FFFF} {
		runes = append(runes, edge-1, edge, edge+1)
	}
	for _, r := range runes {
		checkFast(t, []byte("k: a"+string(r)+"b\n"))
		checkFast(t, []byte("k: 1 # "+string(r)+"\n"))
	}
}

func TestFastYAMLMatchesYAMLv3(t *testing.T) {
	seeds, _ := filepath.Glob("testdata/*/*.yaml")
	seeds = append(seeds, "usecases.yaml")
	accepted := 0
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		if checkFast(t, data) {
			accepted++
		}
	}
	for _, s := range fastSamples {
		if checkFast(t, []byte(s)) {
			accepted++
		}
	}
	for _, data := range [][]byte{fixture.Large(3, 30), fixture.Wide(3, 4, 2, "")} {
		if !checkFast(t, data) {
			t.Errorf("the fast path gave up on a generated fixture:\n%s", data)
		}
	}
	example, err := os.ReadFile("usecases.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := fastParse(example); !ok {
		t.Error("the fast path gave up on the example config")
	}
	t.Logf("the fast path took %d of %d files", accepted, len(seeds)+len(fastSamples))
	if accepted < len(seeds)/2 {
		t.Errorf("the fast path took only %d of %d files", accepted, len(seeds)+len(fastSamples))
	}
}

// FuzzFastYAML checks the fast path against yaml.v3 on arbitrary input.
//
//	go test ./config -run XXX -fuzz FuzzFastYAML -fuzztime 60s
func FuzzFastYAML(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/*.yaml")
	for _, s := range append(seeds, "usecases.yaml") {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range fastSamples {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkFast(t, data) })
}

// Positions filled beside decoding (as for a large config) are the ones
// filled by it, and so are the errors located with them.
func TestPipelinedPositions(t *testing.T) {
	seeds, _ := filepath.Glob("testdata/*/*.yaml")
	seeds = append(seeds, "usecases.yaml")
	defer func(min int) { pipelineMin = min }(pipelineMin)
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		pipelineMin = 1 << 62
		direct, directErr := Parse(s, data)
		pipelineMin = 0
		piped, pipedErr := Parse(s, data)
		if fmt.Sprint(directErr) != fmt.Sprint(pipedErr) {
			t.Fatalf("%s: errors differ:\n%v\n---\n%v", s, directErr, pipedErr)
		}
		if directErr == nil && !reflect.DeepEqual(direct.Pos, piped.Pos) {
			t.Fatalf("%s: positions differ", s)
		}
	}
}
