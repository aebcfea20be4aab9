package carp

import (
	"fmt"
	"slices"
	"time"
)

// maxPeers bounds the peer tables. Peers are authenticated, so only key
// holders can fill them; a group has a few nodes.
const maxPeers = 16

// peer is a master a backup has heard, alive until until.
type peer struct {
	node  NodeID
	rank  Rank
	until time.Time
}

func (m *Machine) notePeer(now time.Time, a Advert) {
	p := peer{node: a.Node, rank: RankOf(a), until: now.Add(m.MasterDown())}
	if i := slices.IndexFunc(m.peers, func(q peer) bool { return q.node == a.Node }); i >= 0 {
		m.peers[i] = p
		return
	}
	if len(m.peers) == maxPeers {
		m.peers = slices.Delete(m.peers, 0, 1)
	}
	m.peers = append(m.peers, p)
}

func (m *Machine) forgetPeer(node NodeID) {
	m.peers = slices.DeleteFunc(m.peers, func(p peer) bool { return p.node == node })
}

// bestPeer returns the best rank among the masters heard within the master
// down interval, dropping the others.
func (m *Machine) bestPeer(now time.Time) (Rank, bool) {
	m.peers = slices.DeleteFunc(m.peers, func(p peer) bool { return !now.Before(p.until) })
	if len(m.peers) == 0 {
		return Rank{}, false
	}
	best := m.peers[0].rank
	for _, p := range m.peers[1:] {
		if p.rank.Beats(best) {
			best = p.rank
		}
	}
	return best, true
}

// seen is what a peer last advertised of the fields both nodes must agree on.
type seen struct {
	node      NodeID
	digest    Digest
	advBaseMS uint16
}

// checkPeerConfig raises an alarm when a peer starts advertising another
// VIP digest or advbase than ours: failover would then move the wrong
// addresses, or the nodes would count the master down differently.
func (m *Machine) checkPeerConfig(a Advert, out []Action) []Action {
	ours := seen{node: a.Node, digest: m.cfg.Digest, advBaseMS: m.Rank().AdvBaseMS}
	got := seen{node: a.Node, digest: a.Digest, advBaseMS: a.AdvBaseMS}
	i := slices.IndexFunc(m.seen, func(s seen) bool { return s.node == a.Node })
	prev := ours // first sight: alarm if it differs from ours
	if i >= 0 {
		prev = m.seen[i]
		m.seen[i] = got
	} else if len(m.seen) < maxPeers {
		m.seen = append(m.seen, got)
	}
	if got.digest != ours.digest && got.digest != prev.digest {
		out = append(out, Alarm{Kind: AlarmVIPMismatch, Node: a.Node,
			Detail: fmt.Sprintf("%v advertises VIP digest %x, ours is %x: the nodes have different VIPs for group %d", a.Node, a.Digest, ours.digest, a.VHID)})
	}
	if got.advBaseMS != ours.advBaseMS && got.advBaseMS != prev.advBaseMS {
		out = append(out, Alarm{Kind: AlarmAdvBaseMismatch, Node: a.Node,
			Detail: fmt.Sprintf("%v advertises advbase %dms, ours is %dms (group %d)", a.Node, a.AdvBaseMS, ours.advBaseMS, a.VHID)})
	}
	return out
}
