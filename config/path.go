package config

import (
	"regexp"
	"strconv"

	"gopkg.in/yaml.v3"
)

// path is a key path such as rules[3].from.alias. Each step keeps a link to
// its parent so that an error about a missing key can be placed at the
// position of the nearest ancestor that does exist in the document.
type path struct {
	s  string
	up *path
}

// plainKey is a key that can be written after a dot without quoting.
var plainKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// key returns the path of a mapping entry.
func (p *path) key(k string) *path {
	switch {
	case !plainKey.MatchString(k):
		return &path{s: p.s + "[" + strconv.Quote(k) + "]", up: p}
	case p.s == "":
		return &path{s: k, up: p}
	default:
		return &path{s: p.s + "." + k, up: p}
	}
}

// index returns the path of a list element; indexes are 0-based.
func (p *path) index(i int) *path {
	return &path{s: p.s + "[" + strconv.Itoa(i) + "]", up: p}
}

// String returns the path as printed in errors.
func (p *path) String() string { return p.s }

// pos is a 1-based position in the document.
type pos struct{ line, col int }

func nodePos(n *yaml.Node) pos { return pos{n.Line, n.Column} }

// locator remembers where each path was found while decoding, so that
// validation, which works on Go values, can still report FILE:LINE:COL.
type locator struct {
	file   string
	values map[string]pos  // where the value of a path starts
	keys   map[string]pos  // where the key of a mapping entry is
	failed map[string]bool // paths whose value could not be decoded
}

func newLocator(file string) *locator {
	return &locator{
		file:   file,
		values: map[string]pos{},
		keys:   map[string]pos{},
		failed: map[string]bool{},
	}
}

// at returns the position of p's value, or of its nearest recorded
// ancestor when p itself is absent (a missing required key).
func (l *locator) at(p *path) pos {
	for q := p; q != nil; q = q.up {
		if ps, ok := l.values[q.s]; ok {
			return ps
		}
	}
	return pos{}
}

// keyAt returns the position of p's key, for errors about the key itself
// (a bad role or alias name), falling back to at.
func (l *locator) keyAt(p *path) pos {
	if ps, ok := l.keys[p.s]; ok {
		return ps
	}
	return l.at(p)
}

// present reports whether p was written in the document, which tells an
// explicit zero apart from a key left out for its default.
func (l *locator) present(p *path) bool {
	_, ok := l.values[p.s]
	return ok
}

// broken reports whether p or an ancestor failed to decode. Validation
// stays quiet about such paths: the decode error already says what is
// wrong, and a second message about the zero value left behind would only
// mislead.
func (l *locator) broken(p *path) bool {
	for q := p; q != nil; q = q.up {
		if l.failed[q.s] {
			return true
		}
	}
	return false
}
