package sim

import (
	"fmt"
	"strings"
	"time"

	"rampart/carp"
)

// checker holds the invariants' clocks. It looks at durations in until,
// before each step moves time forward (the state has held since the last
// step), and updates what it tracks in after.
//
// The bound on a part of the network without a master is
//
//	master down (the longest: advskew 255 and demoted) + the longest packet
//	delay ever set (a stale advert re-arms a backup) + for every clock jump
//	during the wait, one master down + one advbase
//
// The last term is the machine's documented limit: after a backward step
// between two events it cannot tell how much real time passed, so it may
// wait up to the time since its previous event, then one advbase more.
type checker struct {
	w              *World
	connDelay      time.Duration // Connected's delay bound
	maxDelay       time.Duration
	connectedSince time.Time   // zero while not connected
	dual           []time.Time // per group: since when there are two masters or more
	gap            [][]gap     // per group, per node
	jumps          []time.Time

	// The worst seen, as a fraction of the limit, to show the margin.
	worstDual, worstGap float64
}

type gap struct {
	members uint64 // the running nodes of the node's side
	since   time.Time
}

func newChecker(w *World) checker {
	c := checker{w: w, connDelay: time.Hour, maxDelay: w.spec.Delay + w.spec.Jitter}
	for _, g := range w.spec.Groups {
		c.connDelay = min(c.connDelay, g.AdvBase/4)
		c.dual = append(c.dual, time.Time{})
		c.gap = append(c.gap, make([]gap, len(w.spec.Nodes)))
	}
	return c
}

func (c *checker) dualLimit(g int) time.Duration { return 2 * c.w.spec.Groups[g].AdvBase }

func (c *checker) gapLimit(g int, since time.Time) time.Duration {
	a := c.w.spec.Groups[g].AdvBase
	md := 3*a + a*255/256 + a
	lim := md + c.maxDelay
	for i := len(c.jumps) - 1; i >= 0 && !c.jumps[i].Before(since); i-- {
		lim += md + a
	}
	return lim
}

// maxJumps bounds the jumps remembered; no wait for a master spans more.
const maxJumps = 64

func (c *checker) jumped(at time.Time) {
	if len(c.jumps) == maxJumps {
		c.jumps = append(c.jumps[:0], c.jumps[maxJumps/2:]...)
	}
	c.jumps = append(c.jumps, at)
}

// until checks the durations as of t.
func (c *checker) until(t time.Time) {
	for g := range c.dual {
		if d := c.dual[g]; !d.IsZero() && !c.connectedSince.IsZero() {
			from := later(d, c.connectedSince)
			c.worstDual = max(c.worstDual, float64(t.Sub(from))/float64(c.dualLimit(g)))
			if t.Sub(from) > c.dualLimit(g) {
				c.w.failAt(t, fmt.Sprintf("group %d: %s are all master for %v while connected (limit %v)",
					c.w.spec.Groups[g].VHID, strings.Join(c.w.Masters(c.w.spec.Groups[g].VHID), ", "), t.Sub(from), c.dualLimit(g)))
				return
			}
		}
		for i, s := range c.gap[g] {
			if s.since.IsZero() {
				continue
			}
			c.worstGap = max(c.worstGap, float64(t.Sub(s.since))/float64(c.gapLimit(g, s.since)))
			if t.Sub(s.since) > c.gapLimit(g, s.since) {
				c.w.failAt(t, fmt.Sprintf("group %d: no master on the side of %s (%s) for %v (limit %v)",
					c.w.spec.Groups[g].VHID, c.w.nodes[i].name, c.w.names(s.members), t.Sub(s.since), c.gapLimit(g, s.since)))
				return
			}
		}
	}
}

// after updates what the invariants track, and checks that every machine
// holds its VIPs exactly while master.
func (c *checker) after() {
	w := c.w
	if w.err != nil {
		return
	}
	switch conn := w.Connected(); {
	case conn && c.connectedSince.IsZero():
		c.connectedSince = w.now
	case !conn:
		c.connectedSince = time.Time{}
	}
	for g := range w.spec.Groups {
		if masters := len(w.Masters(w.spec.Groups[g].VHID)); masters < 2 {
			c.dual[g] = time.Time{}
		} else if c.dual[g].IsZero() {
			c.dual[g] = w.now
		}
		for i, n := range w.nodes {
			c.updateGap(g, i)
			if mb := n.member(g); mb != nil && mb.vips != (mb.state == carp.Master) {
				w.fail(fmt.Sprintf("group %d: %s is %v but holds VIPs=%v", w.spec.Groups[g].VHID, n.name, mb.state, mb.vips))
			}
		}
	}
}

func (c *checker) updateGap(g, i int) {
	w := c.w
	s := &c.gap[g][i]
	if mb := w.nodes[i].member(g); mb == nil || mb.state == carp.Init {
		*s = gap{}
		return
	}
	var members uint64
	master := false
	for j, n := range w.nodes {
		mb := n.member(g)
		if mb == nil || mb.state == carp.Init || w.net.side[j] != w.net.side[i] {
			continue
		}
		members |= 1 << j
		master = master || mb.state == carp.Master
	}
	switch {
	case master:
		*s = gap{}
	case s.since.IsZero() || s.members != members:
		*s = gap{members: members, since: w.now}
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (w *World) names(mask uint64) string {
	var out []string
	for i, n := range w.nodes {
		if mask&(1<<i) != 0 {
			out = append(out, n.name)
		}
	}
	return strings.Join(out, " ")
}

// Violation is a broken invariant, with what is needed to replay it.
type Violation struct {
	Seed  uint64
	Step  int
	At    time.Duration
	Msg   string
	Spec  string
	Trace []string // the last steps, oldest first
}

func (v *Violation) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sim: invariant broken at step %d (t=%v), seed %#x: %s\n", v.Step, v.At, v.Seed, v.Msg)
	fmt.Fprintf(&b, "world: %s\n", v.Spec)
	b.WriteString("last steps:\n")
	for _, l := range v.Trace {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

func (w *World) fail(msg string) { w.failAt(w.now, msg) }

// failAt records the first violation, seen at t (the next step's time, for
// a condition that held since the last step).
func (w *World) failAt(t time.Time, msg string) {
	if w.err != nil {
		return
	}
	w.err = &Violation{Seed: w.seed, Step: w.steps, At: t.Sub(w.start), Msg: msg, Spec: w.describe(), Trace: w.trace.lines(w)}
}

func (w *World) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "nodes %v", w.spec.Nodes)
	for _, g := range w.spec.Groups {
		fmt.Fprintf(&b, "; vhid %d advbase %v priorities %v preempt %v delay %v track %v",
			g.VHID, g.AdvBase, g.Priority, g.Preempt, g.PreemptDelay, g.Track)
	}
	fmt.Fprintf(&b, "; delay %v+%v; now %v", w.spec.Delay, w.spec.Jitter, w.States(w.spec.Groups[0].VHID))
	return b.String()
}
