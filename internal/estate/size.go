package estate

import (
	"sync"
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
	return s.bytes + s.colons + s.breaks*lineBreak(d) + s.depthSum*entryIndent
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
	buf := scratch.Get().(*[]byte)
	b := appendDoc((*buf)[:0], d) // the bytes of d.JSON()
	s := sizedDoc{d, iamChars(b), docShape(shapeOf(b))}
	*buf = b
	scratch.Put(buf)
	return s
}

// scratch holds buffers that documents are written into to be measured.
var scratch = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// iamChars counts as iampolicy.Document.Size does (IAM does not count
// whitespace), from JSON already marshalled; TestIAMChars holds them equal.
func iamChars(b []byte) int {
	n := 0
	for i := 0; i < len(b); {
		if c := b[i]; c < utf8.RuneSelf {
			if !asciiSpace[c] {
				n++
			}
			i++
			continue
		}
		r, w := utf8.DecodeRune(b[i:])
		if !unicode.IsSpace(r) {
			n++
		}
		i += w
	}
	return n
}

// asciiSpace is unicode.IsSpace for the ASCII bytes.
var asciiSpace = [utf8.RuneSelf]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

// object is the indented size of a JSON object (or array) at depth d whose
// members (or elements), without their line breaks, have these sizes.
func object(d int, members ...int) int {
	if len(members) == 0 {
		return 2
	}
	n := 2 + lineBreak(d) + len(members) - 1 // braces, the closing break, commas
	for _, m := range members {
		n += lineBreak(d+1) + m
	}
	return n
}

// field is the size of `"key": value` given the value's size.
func field(key string, value int) int { return stringSize(key) + 2 + value }

// lineBreak is a line break and the indentation of depth d.
func lineBreak(d int) int { return 1 + entryPrefix + d*entryIndent }

// strSize is the size of the concatenation of parts as a JSON string.
func strSize(parts ...string) int {
	n := 2
	for _, p := range parts {
		n += stringSize(p) - 2
	}
	return n
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
