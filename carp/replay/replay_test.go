package replay

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type pair struct{ epoch, seq uint64 }

func checkAll(w *Window, in []pair) []Verdict {
	var got []Verdict
	for _, p := range in {
		got = append(got, w.Check(p.epoch, p.seq))
	}
	return got
}

func TestCheck(t *testing.T) {
	const W = WindowSize
	tests := []struct {
		name string
		in   []pair
		want []Verdict
	}{
		{"first packet is new, whatever it is", []pair{{7, 1 << 40}}, []Verdict{New}},
		{"in order", []pair{{1, 1}, {1, 2}, {1, 3}}, []Verdict{New, New, New}},
		{"duplicate", []pair{{1, 1}, {1, 2}, {1, 2}, {1, 1}}, []Verdict{New, New, Duplicate, Duplicate}},
		{"reordered", []pair{{1, 5}, {1, 3}, {1, 4}, {1, 3}}, []Verdict{New, Late, Late, Duplicate}},
		{"edge of the window", []pair{{1, W}, {1, 1}, {1, 0}}, []Verdict{New, Late, Old}},
		{"far behind", []pair{{1, 10 * W}, {1, 9 * W}}, []Verdict{New, Old}},
		{"jump clears the ring", []pair{{1, 1}, {1, 100 * W}, {1, 100*W - 1}, {1, 100*W - 64*ringBlocks + 65}}, []Verdict{New, New, Late, Late}},
		{"slide by one block keeps the rest", []pair{{1, 0}, {1, 63}, {1, 64}, {1, 63}, {1, 0}}, []Verdict{New, New, New, Duplicate, Duplicate}},
		{"new epoch resets", []pair{{1, 1000}, {2, 1}, {2, 1}, {2, 0}}, []Verdict{New, New, Duplicate, Late}},
		{"old epoch", []pair{{2, 1}, {1, 1000}, {1, 1}}, []Verdict{New, Old, Old}},
		{"top of the range", []pair{{math.MaxUint64, math.MaxUint64 - 1}, {math.MaxUint64, math.MaxUint64}, {math.MaxUint64, math.MaxUint64}}, []Verdict{New, New, Duplicate}},
		{"zero pair", []pair{{0, 0}, {0, 0}, {0, 1}}, []Verdict{New, Duplicate, New}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w Window
			if diff := cmp.Diff(tt.want, checkAll(&w, tt.in)); diff != "" {
				t.Errorf("verdicts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReset(t *testing.T) {
	var w Window
	w.Check(5, 5)
	w.Reset()
	if _, _, ok := w.Newest(); ok {
		t.Fatal("Newest after Reset reports a packet")
	}
	if got := w.Check(1, 1); got != New {
		t.Errorf("Check after Reset = %v, want new", got)
	}
}

// model is the obvious implementation: a set of every sequence number seen.
type model struct {
	started     bool
	epoch, last uint64
	seen        map[uint64]bool
}

func (m *model) check(epoch, seq uint64) Verdict {
	switch {
	case !m.started || epoch > m.epoch:
		*m = model{started: true, epoch: epoch, last: seq, seen: map[uint64]bool{seq: true}}
		return New
	case epoch < m.epoch:
		return Old
	case seq > m.last:
		m.last = seq
		m.seen[seq] = true
		return New
	case m.last-seq >= WindowSize:
		return Old
	case m.seen[seq]:
		return Duplicate
	default:
		m.seen[seq] = true
		return Late
	}
}

// ops turns fuzz bytes into pairs that wander near each other, so that
// most of them land in or near the window.
func ops(data []byte) []pair {
	var out []pair
	var epoch, seq uint64 = 1, 1000
	for len(data) >= 3 {
		op, arg := data[0], uint64(binary.BigEndian.Uint16(data[1:3]))
		data = data[3:]
		switch op % 8 {
		case 0:
			epoch++
		case 1:
			if epoch > 0 {
				epoch--
			}
		case 2, 3:
			seq += arg % 200
		case 4, 5:
			seq -= min(seq, arg%600)
		case 6:
			seq += arg * 64
		default:
		}
		out = append(out, pair{epoch, seq})
	}
	return out
}

func compare(t *testing.T, in []pair) {
	t.Helper()
	var w Window
	var m model
	for i, p := range in {
		if got, want := w.Check(p.epoch, p.seq), m.check(p.epoch, p.seq); got != want {
			t.Fatalf("packet %d (epoch %d seq %d): got %v, model says %v", i, p.epoch, p.seq, got, want)
		}
	}
}

func TestAgainstModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		b := make([]byte, 3*500)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		compare(t, ops(b))
	}
}

func FuzzCheck(f *testing.F) {
	f.Add([]byte{2, 0, 5, 4, 0, 3, 3, 0, 1, 0, 0, 0, 6, 0, 9})
	f.Add([]byte{6, 255, 255, 4, 1, 0, 1, 0, 0, 5, 2, 0})
	f.Fuzz(func(t *testing.T, data []byte) { compare(t, ops(data)) })
}

func BenchmarkCheck(b *testing.B) {
	var w Window
	var seq uint64
	for b.Loop() {
		seq++
		w.Check(1, seq)
	}
}
