package config

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one problem in a config document. Position and path are both
// given: the position lets an editor jump to the spot, the path says which
// key it is when the document came from the web UI or a sync peer.
type Error struct {
	File      string
	Line, Col int    // 1-based; 0 when unknown (e.g. a config built in Go)
	Path      string // key path, e.g. rules[3].from.alias; lists are 0-based
	Msg       string
}

// Error formats the error as FILE:LINE:COL: PATH: MSG, leaving out the
// parts that are unknown.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" || e.Line > 0 {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
			if e.Col > 0 {
				fmt.Fprintf(&b, ":%d", e.Col)
			}
		}
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one pass over a document, so that an
// admin can fix them all in one round trip.
type Errors []*Error

// Error lists the errors one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As reach a single *Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// maxErrors bounds the report for a hostile or badly broken document: past
// this many, the rest are noise and would only cost memory.
const maxErrors = 100

// sorted returns the errors ordered by position, without duplicates, and
// capped at maxErrors. Errors without a position keep their relative order
// after the positioned ones of the same file.
func (es Errors) sorted() Errors {
	out := make(Errors, 0, len(es))
	seen := make(map[Error]bool, len(es))
	for _, e := range es {
		if !seen[*e] {
			seen[*e] = true
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if (a.Line == 0) != (b.Line == 0) {
			return b.Line == 0
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	if len(out) > maxErrors {
		last := out[maxErrors-1]
		out = append(out[:maxErrors-1:maxErrors-1], &Error{
			File: last.File, Line: last.Line, Col: last.Col,
			Msg: fmt.Sprintf("too many errors (%d); stopping", len(out)),
		})
	}
	return out
}

// errOrNil returns nil for an empty list, so that callers never see a
// non-nil error interface holding an empty Errors.
func (es Errors) errOrNil() error {
	if len(es) == 0 {
		return nil
	}
	return es.sorted()
}
