package sim

import (
	"fmt"
	"slices"
	"time"

	"rampart/carp"
)

// The operations below act at the current simulated time. Called between
// runs they act at once; scheduled with After they act as a step.

// StartAll boots every node.
func (w *World) StartAll() {
	for _, n := range w.nodes {
		w.Boot(n.name)
	}
}

// Boot powers a node on with a new epoch and starts its machines. What its
// driver would report at boot (demotions such as maintenance, a tracked
// link or the heartbeat carrier that is down) is fed before Start.
func (w *World) Boot(name string) {
	n := w.node(name)
	if n == nil || n.up {
		return
	}
	n.epoch++
	vhids := make([]uint8, 0, len(w.spec.Groups))
	for _, g := range w.spec.Groups {
		vhids = append(vhids, g.VHID)
	}
	ring, err := carp.NewKeyring(vhids, carp.Secret{ID: 1, Bytes: n.secret})
	if err != nil {
		w.fail(fmt.Sprintf("boot %s: %v", name, err))
		return
	}
	n.ring, n.recv, n.ms = ring, carp.NewReceiver(n.id, ring), nil
	for _, g := range w.spec.Groups {
		m, err := carp.NewMachine(carp.Config{
			VHID: g.VHID, Node: n.id, Epoch: n.epoch,
			AdvBase: g.AdvBase, AdvSkew: 255 - g.Priority[n.idx],
			Preempt: g.Preempt, PreemptDelay: g.PreemptDelay,
			Track: g.Track, LinkUpHold: w.spec.LinkUpHold,
		})
		if err != nil {
			w.fail(fmt.Sprintf("boot %s: %v", name, err))
			return
		}
		n.ms = append(n.ms, &member{m: m})
	}
	n.up = true
	for g := range n.ms {
		for _, d := range n.demotes {
			w.feed(n, g, d)
		}
		if n.wanDown {
			w.feed(n, g, carp.LinkChange{Name: "wan", Up: false})
		}
		if w.net.carrierLost(n.idx) {
			w.feed(n, g, carp.HeartbeatCarrier{Up: false})
		}
		w.feed(n, g, carp.Start{})
	}
	w.check.after()
}

// Crash powers a node off without a word: no bow-out.
func (w *World) Crash(name string) {
	if n := w.node(name); n != nil {
		n.up, n.ms = false, nil
		w.check.after()
	}
}

// Shutdown stops a node gracefully (a master bows out), then powers it off.
func (w *World) Shutdown(name string) {
	n := w.node(name)
	if n == nil || !n.up {
		return
	}
	for g := range n.ms {
		w.feed(n, g, carp.Shutdown{})
	}
	w.Crash(name)
}

// Event feeds ev to every machine of a node. Demotions and the "wan" link
// state are remembered and fed again after a reboot, as a driver would.
func (w *World) Event(name string, ev carp.Event) {
	n := w.node(name)
	if n == nil {
		return
	}
	n.remember(ev)
	for g := range n.ms {
		w.feed(n, g, ev)
	}
	w.check.after()
}

func (n *node) remember(ev carp.Event) {
	same := func(c carp.Cause, name string) func(carp.Demote) bool {
		return func(d carp.Demote) bool { return d.Cause == c && d.Name == name }
	}
	switch e := ev.(type) {
	case carp.Demote:
		n.demotes = slices.DeleteFunc(n.demotes, same(e.Cause, e.Name))
		if e.By > 0 {
			n.demotes = append(n.demotes, e)
		}
	case carp.Promote:
		n.demotes = slices.DeleteFunc(n.demotes, same(e.Cause, e.Name))
	case carp.LinkChange:
		if e.Name == "wan" {
			n.wanDown = !e.Up
		}
	}
}

// JumpClock steps a node's clock by d. Its armed timers still fire when
// they were due, as monotonic timers do.
func (w *World) JumpClock(name string, d time.Duration) {
	if n := w.node(name); n != nil {
		n.offset += d
		w.check.jumped(w.now)
	}
}

// CutHeartbeat cuts or mends a node's heartbeat cable. In a pair the cable
// joins the two nodes, so both lose carrier; with more nodes it goes to a
// switch, so only this node does.
func (w *World) CutHeartbeat(name string, cut bool) {
	n := w.node(name)
	if n == nil {
		return
	}
	before := make([]bool, len(w.nodes))
	for i := range w.nodes {
		before[i] = w.net.carrierLost(i)
	}
	w.net.hbCut[n.idx] = cut
	for i, m := range w.nodes {
		if lost := w.net.carrierLost(i); lost != before[i] {
			for g := range m.ms {
				w.feed(m, g, carp.HeartbeatCarrier{Up: !lost})
			}
		}
	}
	w.check.after()
}

// Partition splits the nodes: each list is one side. Unlisted nodes join
// the first side.
func (w *World) Partition(sides ...[]string) {
	clear(w.net.side)
	for s, names := range sides {
		for _, name := range names {
			if n := w.node(name); n != nil {
				w.net.side[n.idx] = s
			}
		}
	}
	w.check.after()
}

// Heal joins every side again.
func (w *World) Heal() { w.Partition() }

// SetLoss makes every packet be lost with probability p.
func (w *World) SetLoss(p float64) {
	w.net.loss = p
	w.check.after()
}

// SetDelay sets the one-way delay: d plus up to jitter.
func (w *World) SetDelay(d, jitter time.Duration) {
	w.net.delay, w.net.jitter = d, jitter
	w.check.maxDelay = max(w.check.maxDelay, d+jitter)
	w.check.after()
}

// Masters returns the nodes that are master of vhid.
func (w *World) Masters(vhid uint8) []string {
	return w.inState(vhid, carp.Master)
}

func (w *World) inState(vhid uint8, s carp.State) []string {
	g := w.groupIndex(vhid)
	var out []string
	for _, n := range w.nodes {
		if mb := n.member(g); mb != nil && mb.state == s {
			out = append(out, n.name)
		}
	}
	return out
}

// States returns "node:state" for every node in vhid, "node:off" if down.
func (w *World) States(vhid uint8) []string {
	g := w.groupIndex(vhid)
	var out []string
	for _, n := range w.nodes {
		s := "off"
		if mb := n.member(g); mb != nil {
			s = mb.state.String()
		}
		out = append(out, n.name+":"+s)
	}
	return out
}

// Announces counts the announce bursts of a node in vhid since its boot.
func (w *World) Announces(name string, vhid uint8) int {
	if mb := w.node(name).member(w.groupIndex(vhid)); mb != nil {
		return mb.announces
	}
	return 0
}
