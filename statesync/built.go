package statesync

import (
	"time"

	"rampart/statesync/ctnl"
)

// built holds the frames of changes that the sender encodes as events
// come, while nothing waits in the pending queue and the window has room:
// full frames waiting for the writer, and the open frame being filled.
// Changes then skip the queue's map, its copies of entries and a second
// pass to encode them. Coalescing, the queue's reason to exist, pays only
// while changes wait behind a full window; until then a flow that changes
// twice within FlushDelay simply takes two records.
//
// Order: the queue, once it holds a change, takes every change until it
// is empty again, and built frames are always sent before it, so the
// changes of a flow reach the peer in order. During a bulk update every
// change goes to the queue (see Sender.updateLocked). Built frames count
// against the window, as if in flight already.
type built struct {
	ready []builtFrame // full, oldest first
	open  builtFrame
	n     int      // records in ready and open
	free  [][]byte // buffers of frames sent, for reuse
}

// builtFrame is one built frame: an Entries frame less its header.
type builtFrame struct {
	buf   []byte    // entriesHeaderLen bytes of room, then the records
	n     int       // records
	since time.Time // receipt of the first
}

// frames returns how many frames are built, the open one included if it
// holds a record.
func (b *built) frames() int {
	n := len(b.ready)
	if b.open.n > 0 {
		n++
	}
	return n
}

// add appends the change of e to the open frame. A change that would
// start a frame (the open one is empty, or full and then moves to ready)
// needs room in the window: room is the window less the frames in
// flight. ok false means the change was not taken, and err that e does
// not encode (the change is dropped); wake that the writer has news: a
// first record to time FlushDelay from, or a full frame.
func (b *built) add(op Op, e *ctnl.Entry, now time.Time, frameEntries, room int) (ok, wake bool, err error) {
	if b.open.n == 0 || b.open.n >= frameEntries {
		if b.frames()+1 > room {
			return false, false, nil
		}
		if b.open.n > 0 {
			b.ready = append(b.ready, b.open)
			b.open = builtFrame{}
		}
	}
	if b.open.buf == nil {
		b.open.buf = b.newBuf()
	}
	out, err := appendRecord(b.open.buf, op, e)
	if err != nil {
		return true, false, err
	}
	b.open.buf = out
	b.open.n++
	b.n++
	if b.open.n == 1 {
		b.open.since = now
	}
	return true, b.open.n == 1 || b.open.n == frameEntries, nil
}

func (b *built) newBuf() []byte {
	if k := len(b.free); k > 0 {
		buf := b.free[k-1]
		b.free = b.free[:k-1]
		return buf[:entriesHeaderLen]
	}
	return make([]byte, entriesHeaderLen, 64<<10)
}

// oldest returns when the oldest built change was received.
func (b *built) oldest() (time.Time, bool) {
	switch {
	case len(b.ready) > 0:
		return b.ready[0].since, true
	case b.open.n > 0:
		return b.open.since, true
	}
	return time.Time{}, false
}

// full reports whether a full frame waits.
func (b *built) full(frameEntries int) bool {
	return len(b.ready) > 0 || b.open.n >= frameEntries
}

// take removes the oldest built frame, if there is one.
func (b *built) take() (builtFrame, bool) {
	var f builtFrame
	switch {
	case len(b.ready) > 0:
		f = b.ready[0]
		b.ready[0] = builtFrame{}
		b.ready = b.ready[1:]
		if len(b.ready) == 0 {
			b.ready = b.ready[:0:0]
		}
	case b.open.n > 0:
		f, b.open = b.open, builtFrame{}
	default:
		return f, false
	}
	b.n -= f.n
	return f, true
}

// recycle takes back the buffer of a frame written.
func (b *built) recycle(buf []byte) {
	if len(b.free) < 8 {
		b.free = append(b.free, buf)
	}
}

// reset drops every built frame.
func (b *built) reset() {
	for {
		f, ok := b.take()
		if !ok {
			break
		}
		b.recycle(f.buf)
	}
	if b.open.buf != nil {
		b.recycle(b.open.buf)
		b.open = builtFrame{}
	}
}
