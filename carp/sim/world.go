// Package sim runs CARP machines against each other on a simulated
// network. It is deterministic: a run depends only on its Spec and seed,
// and every failure prints the seed that replays it.
//
// Time is simulated; nothing sleeps. A step is one event taken from the
// queue and acted on: a machine's timer firing, a packet arriving at a
// node, or a fault or operator action. Timers that a machine has since
// replaced are skipped and not counted.
//
// Each node runs the real code path: its machines' adverts are sealed with
// a Keyring, sent to every other node over two paths (the heartbeat link
// and the LAN, as the driver does), and pass a Receiver on arrival, replay
// window included. Timers behave like the driver's: an ArmTimer's wait is
// measured when it is armed and is not moved by a later clock jump, while
// the now each machine sees is its node's own, jumpable, clock.
//
// After every step the World checks two invariants per group:
//
//   - While the network is connected (see World.Connected), there are never
//     two masters for longer than 2 × advbase.
//   - A part of the network whose running nodes have no master gets one
//     within the master down interval (plus slack: see checker).
package sim

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"rampart/carp"
)

// Spec describes a world.
type Spec struct {
	Nodes  []string // node ids, 2 to 5 in the tests
	Groups []Group
	// Secrets gives each node its own key secret (tests of a key
	// mismatch); empty means one shared secret.
	Secrets []string
	// Delay and Jitter shape the one-way delay of every packet: Delay plus
	// a uniform random part up to Jitter. Zero Delay means 1ms.
	Delay, Jitter time.Duration
	// LinkUpHold is passed to every machine (0: carp's default).
	LinkUpHold time.Duration
}

// Group is one redundancy group, present on every node.
type Group struct {
	VHID         uint8
	AdvBase      time.Duration
	Priority     []uint8 // per node, in Spec.Nodes order
	Preempt      bool
	PreemptDelay time.Duration
	Track        []string
}

// Transition is one state change, for tests to compare.
type Transition struct {
	At   time.Duration // since the start of the world
	Node string
	VHID uint8
	From carp.State
	To   carp.State
	Why  carp.Why
}

func (t Transition) String() string {
	return fmt.Sprintf("%v %s/%d %v->%v %v", t.At, t.Node, t.VHID, t.From, t.To, t.Why)
}

// World is a set of nodes on a simulated network.
type World struct {
	spec   Spec
	seed   uint64
	rng    *rand.Rand
	start  time.Time
	now    time.Time
	seq    uint64
	steps  int
	queue  queue
	nodes  []*node
	net    network
	trace  trace
	log    []Transition
	alarms map[carp.AlarmKind]int
	check  checker
	err    *Violation
}

type node struct {
	idx    int
	name   string
	id     carp.NodeID
	secret []byte
	up     bool
	epoch  uint64
	offset time.Duration // local clock = world clock + offset
	ring   *carp.Keyring
	recv   *carp.Receiver
	ms     []*member // per group, in Spec.Groups order
	addr   netip.Addr

	// What the node's driver would report again after a reboot.
	demotes []carp.Demote
	wanDown bool
}

type member struct {
	m     *carp.Machine
	gen   uint64
	state carp.State
	vips  bool

	announces int
}

// start is an arbitrary fixed instant without a monotonic reading.
var start = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// New builds a world with every node powered off; Boot or StartAll them.
func New(spec Spec, seed uint64) (*World, error) {
	if len(spec.Nodes) < 1 || len(spec.Nodes) > 8 {
		return nil, fmt.Errorf("sim: %d nodes; want 1 to 8", len(spec.Nodes))
	}
	if spec.Delay == 0 {
		spec.Delay = time.Millisecond
	}
	w := &World{
		spec:   spec,
		seed:   seed,
		rng:    rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		start:  start,
		now:    start,
		alarms: map[carp.AlarmKind]int{},
	}
	w.net = newNetwork(len(spec.Nodes), spec.Delay, spec.Jitter)
	for i, name := range spec.Nodes {
		id, err := carp.ParseNodeID(name)
		if err != nil {
			return nil, fmt.Errorf("sim: %w", err)
		}
		secret := []byte("rampart sim shared secret")
		if i < len(spec.Secrets) {
			secret = []byte(spec.Secrets[i])
		}
		w.nodes = append(w.nodes, &node{idx: i, name: name, id: id, secret: secret,
			addr: netip.AddrFrom4([4]byte{192, 0, 2, byte(1 + i)})})
	}
	for _, g := range spec.Groups {
		if len(g.Priority) != len(spec.Nodes) {
			return nil, fmt.Errorf("sim: group %d: %d priorities for %d nodes", g.VHID, len(g.Priority), len(spec.Nodes))
		}
	}
	w.check = newChecker(w)
	return w, nil
}

// Now is the time since the world began.
func (w *World) Now() time.Duration { return w.now.Sub(w.start) }

// Steps is the number of steps run so far.
func (w *World) Steps() int { return w.steps }

// Seed is the world's seed.
func (w *World) Seed() uint64 { return w.seed }

// Transitions returns every state change so far.
func (w *World) Transitions() []Transition { return w.log }

// Alarms counts the machines' alarms by kind.
func (w *World) Alarms() map[carp.AlarmKind]int { return w.alarms }

// Err returns the first invariant violation, or nil.
func (w *World) Err() error {
	if w.err == nil {
		return nil
	}
	return w.err
}

// RunFor runs every step due in the next d and stops at the first
// invariant violation, which it returns.
func (w *World) RunFor(d time.Duration) error {
	end := w.now.Add(d)
	for len(w.queue) > 0 && !w.queue[0].at.After(end) && w.err == nil {
		w.step()
	}
	if w.err == nil {
		w.check.until(end)
		w.now = end
	}
	return w.Err()
}

// RunSteps runs n steps, or until the queue is empty or an invariant fails.
func (w *World) RunSteps(n int) error {
	for target := w.steps + n; w.steps < target && len(w.queue) > 0 && w.err == nil; {
		w.step()
	}
	return w.Err()
}

func (w *World) step() {
	e := heap.Pop(&w.queue).(*event)
	if e.kind == evTimer {
		mb := w.nodes[e.node].member(e.group)
		if mb == nil || mb.gen != e.gen {
			return // replaced or powered off: not a step
		}
	}
	w.check.until(e.at)
	if w.err != nil {
		return
	}
	w.now = e.at
	w.steps++
	switch e.kind {
	case evTimer:
		w.feed(w.nodes[e.node], e.group, carp.Timer{At: e.timerAt})
	case evDeliver:
		w.deliver(w.nodes[e.node], e.pkt, e.path)
	case evFunc:
		w.trace.add(w, entry{node: -1, kind: kFault, text: e.label})
		e.fn()
	}
	w.check.after()
}

func (n *node) member(g int) *member {
	if !n.up || g >= len(n.ms) {
		return nil
	}
	return n.ms[g]
}

func (n *node) local(now time.Time) time.Time { return now.Add(n.offset) }

// feed steps one machine and carries out its actions.
func (w *World) feed(n *node, g int, ev carp.Event) {
	mb := n.member(g)
	if mb == nil {
		return
	}
	now := n.local(w.now)
	for _, a := range mb.m.Step(now, ev) {
		w.act(n, g, mb, now, a)
	}
}

func (w *World) act(n *node, g int, mb *member, now time.Time, a carp.Action) {
	switch a := a.(type) {
	case carp.SendAdvert:
		pkt, err := n.ring.Seal(a.Advert)
		if err != nil {
			w.fail(fmt.Sprintf("%s cannot seal: %v", n.name, err))
			return
		}
		w.trace.add(w, entry{node: n.idx, group: g, kind: kSend, adv: a.Advert})
		w.net.send(w, n.idx, pkt)
	case carp.ArmTimer:
		mb.gen++
		if !a.At.IsZero() {
			w.schedule(&event{at: w.now.Add(max(a.At.Sub(now), 0)), kind: evTimer, node: n.idx, group: g, gen: mb.gen, timerAt: a.At})
		}
	case carp.StateChanged:
		mb.state = a.To
		t := Transition{At: w.Now(), Node: n.name, VHID: w.spec.Groups[g].VHID, From: a.From, To: a.To, Why: a.Why}
		w.log = append(w.log, t)
		w.trace.add(w, entry{node: n.idx, group: g, kind: kState, text: t.String()})
	case carp.AddVIPs:
		mb.vips = true
	case carp.RemoveVIPs:
		mb.vips = false
	case carp.Announce:
		mb.announces++
	case carp.Alarm:
		w.alarms[a.Kind]++
		w.trace.add(w, entry{node: n.idx, group: g, kind: kAlarm, text: a.Kind.String() + ": " + a.Detail})
	}
}

func (w *World) deliver(n *node, pkt []byte, p path) {
	if !n.up {
		return
	}
	a, err := n.recv.Accept(pkt, carp.TTL)
	if err != nil {
		r := carp.ReasonOf(err)
		w.trace.add(w, entry{node: n.idx, kind: kReject, reason: r, path: p})
		if r.Presence() && p == pathHeartbeat { // the driver's rule: see carp.Unverified
			if h, perr := carp.Parse(pkt); perr == nil {
				w.feed(n, w.groupIndex(h.VHID), carp.Unverified{From: w.addrOf(h.Node), Reason: r})
			}
		}
		return
	}
	g := w.groupIndex(a.VHID)
	w.trace.add(w, entry{node: n.idx, group: g, kind: kRecv, adv: a, path: p})
	w.feed(n, g, carp.Received{Advert: a, From: w.addrOf(a.Node)})
}

func (w *World) groupIndex(vhid uint8) int {
	for i, g := range w.spec.Groups {
		if g.VHID == vhid {
			return i
		}
	}
	return len(w.spec.Groups) // no such member
}

func (w *World) addrOf(id carp.NodeID) netip.Addr {
	for _, n := range w.nodes {
		if n.id == id {
			return n.addr
		}
	}
	return netip.Addr{}
}

func (w *World) node(name string) *node {
	for _, n := range w.nodes {
		if n.name == name {
			return n
		}
	}
	w.fail(fmt.Sprintf("no node %q", name))
	return nil
}
