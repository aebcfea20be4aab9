package carp

import (
	"sync/atomic"

	"rampart/carp/replay"
)

// Receiver is the gate every received advert passes, in this order: hop
// limit, format, group, key id, MAC, own id, replay window. Only the newest
// advert of each sender gets through: older ones carry stale state.
//
// Accept is called from one goroutine; Counts may be called from any.
// Windows are kept per authenticated sender, so their number is bounded by
// the nodes that hold the key, not by what arrives on the wire.
type Receiver struct {
	self     NodeID
	ring     *Keyring
	windows  map[sender]*replay.Window
	accepted atomic.Uint64
	rejected [numReasons]atomic.Uint64
}

type sender struct {
	vhid uint8
	node NodeID
}

// NewReceiver returns a receiver for the groups in ring.
func NewReceiver(self NodeID, ring *Keyring) *Receiver {
	return &Receiver{self: self, ring: ring, windows: map[sender]*replay.Window{}}
}

// Accept checks one packet. ttl is the IPv4 TTL or IPv6 hop limit it
// arrived with (from IP_RECVTTL / IPV6_RECVHOPLIMIT; pass -1 if unknown,
// which is rejected). A non-nil error is always a Reason, already counted.
func (r *Receiver) Accept(pkt []byte, ttl int) (Advert, error) {
	a, reason := r.check(pkt, ttl)
	if reason != 0 {
		r.rejected[reason].Add(1)
		return Advert{}, reason
	}
	r.accepted.Add(1)
	return a, nil
}

func (r *Receiver) check(pkt []byte, ttl int) (Advert, Reason) {
	if ttl != TTL {
		return Advert{}, ReasonTTL
	}
	a, err := r.ring.Open(pkt)
	if err != nil {
		return Advert{}, ReasonOf(err)
	}
	if a.Node == r.self {
		return Advert{}, ReasonSelf
	}
	s := sender{a.VHID, a.Node}
	w := r.windows[s]
	if w == nil {
		w = new(replay.Window)
		r.windows[s] = w
	}
	switch w.Check(a.Epoch, a.Seq) {
	case replay.New:
		return a, 0
	case replay.Late:
		return Advert{}, ReasonLate
	case replay.Duplicate:
		return Advert{}, ReasonDuplicate
	default:
		return Advert{}, ReasonReplay
	}
}

// Counts is a snapshot of the receiver's counters.
type Counts struct {
	Accepted uint64
	Rejected map[Reason]uint64 // only reasons seen at least once
}

// Counts returns the counters, for metrics.
func (r *Receiver) Counts() Counts {
	c := Counts{Accepted: r.accepted.Load(), Rejected: map[Reason]uint64{}}
	for _, reason := range Reasons() {
		if n := r.rejected[reason].Load(); n > 0 {
			c.Rejected[reason] = n
		}
	}
	return c
}
