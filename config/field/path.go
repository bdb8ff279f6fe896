// Package field builds the paths that locate a value in the config file, in
// the style of Kubernetes' field.Path: typed steps instead of hand-joined
// strings, so a misspelt step cannot silently attach an error to the parent.
package field

import "strconv"

// Path is one step from the root; nil is the root itself.
type Path struct {
	parent *Path
	name   string // a field name or a map key; empty for a list index
	// s is the rendered path, built once with the step: the loader looks
	// every decoded value up by it.
	s string
}

// NewPath starts a path at a top-level field.
func NewPath(name string, more ...string) *Path {
	return (*Path)(nil).Child(name, more...)
}

// Child descends into a field (or several, in order).
func (p *Path) Child(name string, more ...string) *Path {
	c := &Path{parent: p, name: name, s: join(p.String(), name)}
	for _, m := range more {
		c = &Path{parent: c, name: m, s: join(c.s, m)}
	}
	return c
}

func join(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// Index descends into a list element.
func (p *Path) Index(i int) *Path {
	return &Path{parent: p, s: p.String() + "[" + strconv.Itoa(i) + "]"}
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
	if p == nil {
		return ""
	}
	return p.s
}
