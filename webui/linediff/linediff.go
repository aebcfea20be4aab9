// Package linediff compares two texts line by line for the config history
// page: Myers' O(ND) algorithm ("An O(ND) Difference Algorithm and Its
// Variations", 1986) after trimming the common head and tail, and unified
// hunks with context. It is bounded: past MaxEdits differences the middle
// is reported as replaced wholesale, which is still a correct diff, so a
// hostile pair of 1 MiB documents costs little.
package linediff

import "strings"

// Op is what happens to a line.
type Op byte

const (
	Equal  Op = ' '
	Delete Op = '-'
	Insert Op = '+'
)

// Line is one line of a diff. A and B are 1-based line numbers in the
// old and new text; 0 where the line does not exist there.
type Line struct {
	Op   Op
	Text string
	A, B int
}

// MaxEdits bounds the search; beyond it the diff is not minimal.
const MaxEdits = 2000

// Split cuts text into lines without their newlines. A final newline
// does not make an empty last line.
func Split(text string) []string {
	if text == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(text, "\n"), "\n")
}

// Diff returns the lines of a and b in order, each marked equal, deleted
// or inserted, with the deletions of a change before its insertions.
func Diff(a, b []string) []Line {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	out := make([]Line, 0, len(a)+len(b))
	for i := range pre {
		out = append(out, Line{Op: Equal, Text: a[i], A: i + 1, B: i + 1})
	}
	ops, ok := myers(a[pre:len(a)-suf], b[pre:len(b)-suf])
	if !ok {
		ops = replaceAll(len(a)-pre-suf, len(b)-pre-suf)
	}
	i, j := pre, pre
	for _, op := range ops {
		switch op {
		case Equal:
			out = append(out, Line{Op: Equal, Text: a[i], A: i + 1, B: j + 1})
			i, j = i+1, j+1
		case Delete:
			out = append(out, Line{Op: Delete, Text: a[i], A: i + 1})
			i++
		case Insert:
			out = append(out, Line{Op: Insert, Text: b[j], B: j + 1})
			j++
		}
	}
	for k := range suf {
		out = append(out, Line{Op: Equal, Text: a[i+k], A: i + k + 1, B: j + k + 1})
	}
	return out
}

func replaceAll(n, m int) []Op {
	ops := make([]Op, 0, n+m)
	for range n {
		ops = append(ops, Delete)
	}
	for range m {
		ops = append(ops, Insert)
	}
	return ops
}

// myers returns the edit script, or false past MaxEdits. The trace keeps
// only the diagonals reachable at each step, O(D²) memory in all.
func myers(a, b []string) ([]Op, bool) {
	n, m := len(a), len(b)
	if n == 0 || m == 0 {
		return replaceAll(n, m), true
	}
	maxD := min(n+m, MaxEdits)
	v := make([]int, 2*maxD+3)
	off := maxD + 1
	var trace [][]int
	for d := 0; d <= maxD; d++ {
		snap := make([]int, 2*d+1)
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1] // down: an insertion
			} else {
				x = v[off+k-1] + 1 // right: a deletion
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x, y = x+1, y+1
			}
			v[off+k] = x
			snap[k+d] = x
			if x >= n && y >= m {
				trace = append(trace, snap)
				return backtrack(trace, n, m), true
			}
		}
		trace = append(trace, snap)
	}
	return nil, false
}

// backtrack walks the trace from the end back to the start.
func backtrack(trace [][]int, n, m int) []Op {
	var rev []Op
	x, y := n, m
	for d := len(trace) - 1; d > 0; d-- {
		prev := trace[d-1]
		at := func(k int) int { return prev[k+d-1] }
		k := x - y
		var pk int
		if k == -d || (k != d && at(k-1) < at(k+1)) {
			pk = k + 1
		} else {
			pk = k - 1
		}
		px := at(pk)
		py := px - pk
		for x > px && y > py {
			rev = append(rev, Equal)
			x, y = x-1, y-1
		}
		if x == px {
			rev = append(rev, Insert)
		} else {
			rev = append(rev, Delete)
		}
		x, y = px, py
	}
	for x > 0 && y > 0 {
		rev = append(rev, Equal)
		x, y = x-1, y-1
	}
	ops := make([]Op, len(rev))
	for i, op := range rev {
		ops[len(rev)-1-i] = op
	}
	return ops
}

// Hunk is a run of changes with the equal lines around them.
type Hunk struct {
	AStart, ALen, BStart, BLen int // as in a unified diff's @@ line
	Lines                      []Line
}

// Hunks groups a diff into hunks with context equal lines on each side,
// merging hunks whose context would touch. No changes, no hunks.
func Hunks(lines []Line, context int) []Hunk {
	var hunks []Hunk
	for i := 0; i < len(lines); {
		if lines[i].Op == Equal {
			i++
			continue
		}
		start := max(i-context, 0)
		end := i
		for end < len(lines) {
			if lines[end].Op != Equal {
				end++
				continue
			}
			run := end
			for run < len(lines) && lines[run].Op == Equal {
				run++
			}
			if run == len(lines) || run-end > 2*context {
				end = min(end+context, len(lines))
				break
			}
			end = run
		}
		hunks = append(hunks, newHunk(lines[start:end]))
		i = end
	}
	return hunks
}

func newHunk(ls []Line) Hunk {
	h := Hunk{Lines: ls}
	for _, l := range ls {
		if l.A > 0 {
			if h.AStart == 0 {
				h.AStart = l.A
			}
			h.ALen++
		}
		if l.B > 0 {
			if h.BStart == 0 {
				h.BStart = l.B
			}
			h.BLen++
		}
	}
	return h
}
