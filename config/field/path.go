// Package field builds the paths that locate a value in the config file, in
// the style of Kubernetes' field.Path: typed steps instead of hand-joined
// strings, so a misspelt step cannot silently attach an error to the parent.
package field

import (
	"strconv"
	"unsafe"
)

// Path is one step from the root; nil is the root itself.
type Path struct {
	parent *Path
	name   string // a field name or a map key; empty for a list index
	index  int    // a list index
	isList bool   // the step is a list index
	// len is the rendered path's length. The path is rendered on demand, in
	// one allocation: walks over a large config make far more steps than
	// they render (20,000 use cases made a third of validate's garbage).
	len int
}

// NewPath starts a path at a top-level field.
func NewPath(name string, more ...string) *Path {
	return (*Path)(nil).Child(name, more...)
}

// Child descends into a field (or several, in order).
func (p *Path) Child(name string, more ...string) *Path {
	c := p.child(name)
	for _, m := range more {
		c = c.child(m)
	}
	return c
}

func (p *Path) child(name string) *Path {
	n := len(name)
	if p != nil && p.len > 0 {
		n += p.len + 1 // "."
	}
	return &Path{parent: p, name: name, len: n}
}

// Index descends into a list element.
func (p *Path) Index(i int) *Path {
	return &Path{parent: p, index: i, isList: true, len: p.Len() + 2 + digits(i)}
}

// Len is the length of String().
func (p *Path) Len() int {
	if p == nil {
		return 0
	}
	return p.len
}

func digits(i int) int {
	n := 1
	if i < 0 {
		n, i = 2, -i
	}
	for ; i >= 10; i /= 10 {
		n++
	}
	return n
}

// Key descends into a map entry; keys are written like fields (tags.team).
func (p *Path) Key(k string) *Path { return p.Child(k) }

// Parent is the enclosing path (nil for a top-level field).
func (p *Path) Parent() *Path {
	if p == nil {
		return nil
	}
	return p.parent
}

// String renders the path as the config's messages and position table use
// it, e.g. useCases[2].access[0].models[1].
func (p *Path) String() string {
	if p == nil || p.len == 0 {
		return ""
	}
	b := p.AppendTo(make([]byte, 0, p.len))
	return unsafe.String(&b[0], len(b)) // b is not written again, as in strings.Builder
}

// AppendTo appends the rendered path to dst: a map lookup by
// string(p.AppendTo(buf[:0])) renders without allocating.
func (p *Path) AppendTo(dst []byte) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, p.Len())...)
	b := dst[start:]
	for q := p; q != nil; q = q.parent {
		end := q.len
		if q.isList {
			var tmp [20]byte
			d := strconv.AppendInt(tmp[:0], int64(q.index), 10)
			b[end-1] = ']'
			copy(b[end-1-len(d):end-1], d)
			b[end-2-len(d)] = '['
			continue
		}
		copy(b[end-len(q.name):end], q.name)
		if q.parent != nil && q.parent.len > 0 {
			b[end-len(q.name)-1] = '.'
		}
	}
	return dst
}
