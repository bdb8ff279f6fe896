package estate

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/acme/genai-estate/internal/iampolicy"
)

// Sizing a role's share of its template by rendering it, indented, was most
// of validate's time at 20,000 use cases. The same byte count is computed
// here from the values render builds, without encoding them: policy
// documents are measured from their minified JSON, already marshalled for
// IAM's size checks. TestTemplateBytesExact holds it equal to the encoder's.

// CDK writes templates indented by one space; a role's entries sit at depth 2,
// which the encoder sees as a prefix of two spaces.
const (
	entryPrefix = len("  ")
	entryIndent = len(" ")
)

// shape is what indenting a minified JSON value adds to it: a space after
// each colon, and a line break (with its indentation) around each member.
type shape struct{ bytes, colons, breaks, depthSum int }

// shapeOf measures minified JSON in one pass. breaks counts line breaks;
// depthSum adds up their depths relative to the value's own.
func shapeOf(b []byte) shape {
	s := shape{bytes: len(b)}
	depth, inString := 0, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case ':':
			s.colons++
		case ',':
			s.breaks++
			s.depthSum += depth
		case '{', '[':
			depth++
			if i+1 < len(b) && b[i+1] != '}' && b[i+1] != ']' {
				s.breaks++
				s.depthSum += depth
			}
		case '}', ']':
			depth--
			if b[i-1] != '{' && b[i-1] != '[' {
				s.breaks++
				s.depthSum += depth
			}
		}
	}
	return s
}

// at is the indented size of the value starting at depth d.
func (s shape) at(d int) int {
	return s.bytes + s.colons + s.breaks*(1+entryPrefix+d*entryIndent) + s.depthSum*entryIndent
}

// docShape stands for a policy document in the values sized below.
type docShape shape

func measure(d iampolicy.Document) docShape { return size(d).shape }

// sizedDoc is a document with its size in IAM's characters and its shape,
// from one marshalling.
type sizedDoc struct {
	iampolicy.Document
	chars int
	shape docShape
}

func size(d iampolicy.Document) sizedDoc {
	b := d.JSON()
	return sizedDoc{d, iamChars(b), docShape(shapeOf(b))}
}

// iamChars counts as iampolicy.Document.Size does (IAM does not count
// whitespace), from JSON already marshalled; TestIAMChars holds them equal.
func iamChars(b []byte) int {
	n := 0
	for _, r := range string(b) {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// indentedSize is the length of v encoded as the template encoder does
// (no HTML escaping, prefix and indent as above) when it starts at depth d.
func indentedSize(v any, d int) int {
	brk := 1 + entryPrefix + (d+1)*entryIndent // a member's line break
	end := 1 + entryPrefix + d*entryIndent     // the closing line break
	switch v := v.(type) {
	case string:
		return stringSize(v)
	case int:
		return len(strconv.Itoa(v))
	case docShape:
		return shape(v).at(d)
	case map[string]any:
		if len(v) == 0 {
			return 2
		}
		n := 2 + end + (len(v) - 1)
		for k, x := range v {
			n += brk + stringSize(k) + 2 + indentedSize(x, d+1)
		}
		return n
	case map[string]string:
		if len(v) == 0 {
			return 2
		}
		n := 2 + end + (len(v) - 1)
		for k, x := range v {
			n += brk + stringSize(k) + 2 + stringSize(x)
		}
		return n
	case []map[string]string:
		if len(v) == 0 {
			return 2
		}
		n := 2 + end + (len(v) - 1)
		for _, x := range v {
			n += brk + indentedSize(x, d+1)
		}
		return n
	case []string:
		if len(v) == 0 {
			return 2
		}
		n := 2 + end + (len(v) - 1)
		for _, x := range v {
			n += brk + stringSize(x)
		}
		return n
	case []any:
		if len(v) == 0 {
			return 2
		}
		n := 2 + end + (len(v) - 1)
		for _, x := range v {
			n += brk + indentedSize(x, d+1)
		}
		return n
	}
	// Not a type render builds: measure it the slow way.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent(strings.Repeat(" ", entryPrefix+d*entryIndent), strings.Repeat(" ", entryIndent))
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return b.Len() - 1 // without the encoder's newline
}

// stringSize is the length of s as a JSON string without HTML escaping.
func stringSize(s string) int {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
			b, _ := marshal(s) // rare: escapes, or U+2028 and invalid UTF-8
			return len(b)
		}
	}
	return len(s) + 2
}
