// Package replay implements an anti-replay window over (epoch, sequence), in
// the style of RFC 6479: a ring of 64-bit blocks that slides forward with the
// newest sequence number, so a check costs a few word operations and no
// allocation.
//
// The epoch is the sender's per-boot number. A higher epoch means the sender
// restarted: the window is reset to the new epoch. A lower epoch is a packet
// from an earlier boot and is always old.
//
// Check only classifies and records; it must be called after the packet has
// been authenticated, or a forger could slide the window past real traffic.
package replay

// Verdict is what Check found out about one (epoch, sequence) pair.
type Verdict uint8

const (
	// New is the newest pair seen so far; the window moved up to it.
	New Verdict = iota
	// Late is older than the newest but inside the window and not seen
	// before: a reordered packet. It is now recorded.
	Late
	// Duplicate was seen before: a second copy or a replay inside the window.
	Duplicate
	// Old is from an earlier epoch, or too far behind the newest to tell.
	Old
)

var verdictNames = [...]string{New: "new", Late: "late", Duplicate: "duplicate", Old: "old"}

func (v Verdict) String() string {
	if int(v) < len(verdictNames) {
		return verdictNames[v]
	}
	return "unknown"
}

const (
	blockBits  = 64
	ringBlocks = 8 // a power of two, so the ring index is a mask
	blockMask  = ringBlocks - 1

	// WindowSize is how far behind the newest sequence number a packet may
	// be and still be told apart from a replay. RFC 6479 §2 keeps one block
	// spare so that sliding forward clears whole blocks.
	WindowSize = (ringBlocks - 1) * blockBits
)

// Window is the state for one sender. The zero value is ready and accepts
// any first packet.
type Window struct {
	started bool
	epoch   uint64
	last    uint64 // newest sequence number seen in epoch
	ring    [ringBlocks]uint64
}

// Reset forgets everything, as after a restart of the receiver.
func (w *Window) Reset() { *w = Window{} }

// Check classifies (epoch, seq) and records it.
func (w *Window) Check(epoch, seq uint64) Verdict {
	switch {
	case !w.started || epoch > w.epoch:
		w.restart(epoch, seq)
		return New
	case epoch < w.epoch:
		return Old
	case seq > w.last:
		w.slide(seq)
		w.mark(seq)
		return New
	case w.last-seq >= WindowSize:
		return Old
	case w.mark(seq):
		return Late
	default:
		return Duplicate
	}
}

// Newest reports the newest pair seen, and false before the first packet.
func (w *Window) Newest() (epoch, seq uint64, ok bool) {
	return w.epoch, w.last, w.started
}

func (w *Window) restart(epoch, seq uint64) {
	*w = Window{started: true, epoch: epoch, last: seq}
	w.mark(seq)
}

// slide moves the window up to seq, clearing the blocks it passes over; a
// jump of more than the whole ring clears every block once.
func (w *Window) slide(seq uint64) {
	cur := w.last / blockBits
	diff := seq/blockBits - cur
	if diff > ringBlocks {
		diff = ringBlocks
	}
	for i := uint64(1); i <= diff; i++ {
		w.ring[(cur+i)&blockMask] = 0
	}
	w.last = seq
}

// mark sets seq's bit and reports whether it was clear.
func (w *Window) mark(seq uint64) bool {
	b := &w.ring[(seq/blockBits)&blockMask]
	bit := uint64(1) << (seq % blockBits)
	was := *b&bit != 0
	*b |= bit
	return !was
}
