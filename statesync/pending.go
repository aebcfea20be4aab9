package statesync

import (
	"time"

	"rampart/statesync/ctnl"
)

// Key identifies a flow the way conntrack does: its original tuple and
// its zone. It holds the tuple's bytes, not the tuple: a key without
// pointers hashes as one block of memory, and the maps of pending and
// cached flows that it keys, hundreds of thousands of entries on a busy
// box, have no keys for the garbage collector to scan.
type Key struct {
	src, dst [16]byte
	// a and b are the ports, or the ICMP identifier and type<<8|code.
	a, b  uint16
	proto uint8
	v6    bool
	zone  uint16
}

// KeyOf returns the key of e.
func KeyOf(e *ctnl.Entry) Key {
	t := &e.Orig
	k := Key{src: t.Src.As16(), dst: t.Dst.As16(), proto: t.Proto, v6: t.Src.Is6(), zone: e.Zone}
	k.a, k.b = l4Of(t)
	return k
}

// l4Of returns a tuple's L4 fields as two numbers: the ports, or the
// ICMP identifier and type<<8|code.
func l4Of(t *ctnl.Tuple) (a, b uint16) {
	if t.Proto == protoICMP || t.Proto == protoICMPv6 {
		return t.ICMPID, uint16(t.ICMPType)<<8 | uint16(t.ICMPCode)
	}
	return t.SrcPort, t.DstPort
}

// Protocol numbers.
const (
	protoICMP   = 1
	protoTCP    = 6
	protoICMPv6 = 58
)

// merge returns the newer state of a flow, keeping from the older what
// the newer lacks. The kernel sends a TCP entry's protoinfo only with
// events that change it (IPCT_PROTOINFO), so an update for, say, a mark
// comes without state, window scale and flags; those must not be lost.
func merge(older, newer *ctnl.Entry) ctnl.Entry {
	e := *newer
	if keepsTCP(&e) {
		e.TCP = older.TCP
	}
	return e
}

// keepsTCP reports whether e, an update, leaves the flow's TCP state as
// it was: a TCP entry without protoinfo (see merge).
func keepsTCP(e *ctnl.Entry) bool { return e.Orig.Proto == protoTCP && e.TCP == nil }

// change is the latest state of one flow waiting to be sent.
type change struct {
	op    Op
	entry ctnl.Entry
	// since is when the oldest change coalesced into this one was
	// received: what the lag of this flow is measured from.
	since time.Time
}

// addResult says what add did.
type addResult int

const (
	added     addResult = iota // a new flow was queued
	coalesced                  // a queued flow was brought up to date
	refused                    // the queue is full: the change is lost
)

// pending is the sender's queue of changes: at most one per flow, in the
// order the flows first changed. A flow that changes again while queued
// is updated in place, so a slow peer costs memory per flow, not per
// event, and max bounds that.
type pending struct {
	m     map[Key]change
	order []Key // every key of m once, oldest first
}

func newPending() pending { return pending{m: make(map[Key]change)} }

func (p *pending) len() int { return len(p.m) }

// add queues the change of e, or merges it into the queued change of the
// same flow. A new flow is refused when max flows are queued.
func (p *pending) add(op Op, e *ctnl.Entry, now time.Time, max int) addResult {
	k := KeyOf(e)
	if old, ok := p.m[k]; ok {
		ent := *e
		if op == OpUpdate && old.op == OpUpdate {
			ent = merge(&old.entry, e)
		}
		p.m[k] = change{op: op, entry: ent, since: old.since}
		return coalesced
	}
	if len(p.m) >= max {
		return refused
	}
	p.m[k] = change{op: op, entry: *e, since: now}
	p.order = append(p.order, k)
	return added
}

// oldest returns when the oldest queued change was received.
func (p *pending) oldest() (time.Time, bool) {
	if len(p.order) == 0 {
		return time.Time{}, false
	}
	return p.m[p.order[0]].since, true
}

// take moves up to n changes, oldest first, into recs and returns when
// the oldest of them was received.
func (p *pending) take(n int, recs []Record) ([]Record, time.Time) {
	var since time.Time
	i := 0
	for ; i < len(p.order) && i < n; i++ {
		k := p.order[i]
		c := p.m[k]
		delete(p.m, k)
		if i == 0 {
			since = c.since
		}
		recs = append(recs, Record{Op: c.op, Entry: c.entry})
	}
	clear(p.order[:i]) // let the keys' memory go
	p.order = p.order[i:]
	if len(p.order) == 0 {
		p.order = p.order[:0:0]
	}
	return recs, since
}

// reset drops every queued change and returns how many there were.
func (p *pending) reset() int {
	n := len(p.m)
	clear(p.m)
	p.order = nil
	return n
}
