package driver

import (
	"sync/atomic"
	"time"

	"rampart/carp"
)

// GroupStatus is one group as this node sees it, for the UI and metrics.
type GroupStatus struct {
	VHID     uint8
	State    carp.State
	Demotion uint8  // this node's demotion counter
	Sent     uint64 // adverts of this group sent, one per destination
	Received uint64 // adverts of this group accepted
	// Peer is the sender of the last advert accepted for this group: the
	// other node as its own adverts show it. Empty until one arrived.
	Peer         string
	PeerType     carp.Type
	PeerPriority uint8 // 255 - its advskew
	PeerDemotion uint8
	PeerSeen     time.Time
}

// groupStats is what the loop keeps of a group for GroupStatus: atomics,
// so that a reader never holds the advert thread up.
type groupStats struct {
	demotion       atomic.Uint32
	sent, received atomic.Uint64
	peer           atomic.Pointer[peerSeen]
}

type peerSeen struct {
	a  carp.Advert
	at time.Time
}

// Groups returns each group's status, in config order.
func (d *Driver) Groups() []GroupStatus {
	out := make([]GroupStatus, 0, len(d.plan.groups))
	for i := range d.plan.groups {
		s := &d.stats[i]
		gs := GroupStatus{
			VHID: d.plan.groups[i].cfg.VHID, State: carp.State(d.states[i].Load()),
			Demotion: uint8(s.demotion.Load()), Sent: s.sent.Load(), Received: s.received.Load(),
		}
		if p := s.peer.Load(); p != nil {
			gs.Peer, gs.PeerType, gs.PeerSeen = p.a.Node.String(), p.a.Type, p.at
			gs.PeerPriority, gs.PeerDemotion = 255-p.a.AdvSkew, p.a.Demote
		}
		out = append(out, gs)
	}
	return out
}
