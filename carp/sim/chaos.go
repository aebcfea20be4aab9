package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"rampart/carp"
)

// Stats summarises a chaos run, to show what it covered.
type Stats struct {
	Steps       int
	SimTime     time.Duration
	Nodes       int
	Groups      int
	Transitions int
	Faults      map[string]int
	// WorstDual and WorstGap are the longest time with two masters on a
	// connected network and the longest wait for a master, as fractions
	// of their limits: how close the run came to breaking an invariant.
	WorstDual, WorstGap float64
}

// Chaos runs a random world for the given number of steps while faults
// strike at random: partitions, packet loss, delay spikes (with
// reordering), cut heartbeat cables, clock jumps, crashes and graceful
// shutdowns with reboots, tracked links that fail or flap, maintenance
// mode and failed health checks. Everything follows from seed. It returns
// the first invariant violation.
func Chaos(seed uint64, steps int) (Stats, error) {
	rng := rand.New(rand.NewPCG(seed, 0xc4a05))
	spec := RandomSpec(rng)
	w, err := New(spec, seed)
	if err != nil {
		return Stats{}, err
	}
	c := &chaos{w: w, rng: rng, faults: map[string]int{}}
	for _, g := range spec.Groups {
		c.aMax = max(c.aMax, g.AdvBase)
	}
	for _, name := range spec.Nodes {
		if rng.IntN(2) == 0 {
			w.Boot(name) // cold start together: ties on equal priorities
		} else {
			w.After(c.dur(0, 5), "boot "+name, func() { w.Boot(name) })
		}
	}
	c.next()
	err = w.RunSteps(steps)
	return Stats{
		Steps: w.Steps(), SimTime: w.Now(), Nodes: len(spec.Nodes), Groups: len(spec.Groups),
		Transitions: len(w.Transitions()), Faults: c.faults,
		WorstDual: w.check.worstDual, WorstGap: w.check.worstGap,
	}, err
}

// RandomSpec draws a world: 2 to 5 nodes, one or two groups with advbase
// from 20ms to 1s, priorities that often tie, preemption mostly on, and a
// small delay with jitter.
func RandomSpec(rng *rand.Rand) Spec {
	n := 2 + rng.IntN(4)
	spec := Spec{Nodes: []string{"a", "b", "c", "d", "e"}[:n]}
	advbases := []time.Duration{20 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond, time.Second}
	aMin, aMax := time.Hour, time.Duration(0)
	for v := range 1 + rng.IntN(2) {
		g := Group{VHID: uint8(v + 1), AdvBase: advbases[rng.IntN(len(advbases))], Preempt: rng.IntN(4) != 0}
		for range n {
			g.Priority = append(g.Priority, []uint8{1, 50, 100, 100, 150, 200, 254}[rng.IntN(7)])
		}
		if rng.IntN(3) == 0 {
			g.PreemptDelay = g.AdvBase * time.Duration(1+rng.IntN(20))
		}
		if rng.IntN(2) == 0 {
			g.Track = []string{"wan"}
		}
		aMin, aMax = min(aMin, g.AdvBase), max(aMax, g.AdvBase)
		spec.Groups = append(spec.Groups, g)
	}
	spec.Delay = 50*time.Microsecond + time.Duration(rng.Int64N(int64(aMin/10)))
	spec.Jitter = time.Duration(rng.Int64N(int64(aMin / 10)))
	spec.LinkUpHold = aMax * time.Duration(2+rng.IntN(19))
	return spec
}

type chaos struct {
	w      *World
	rng    *rand.Rand
	aMax   time.Duration
	faults map[string]int
}

// dur returns a random duration between lo and hi times the longest advbase.
func (c *chaos) dur(lo, hi float64) time.Duration {
	return time.Duration((lo + c.rng.Float64()*(hi-lo)) * float64(c.aMax))
}

func (c *chaos) node() string { return c.w.spec.Nodes[c.rng.IntN(len(c.w.spec.Nodes))] }

// next schedules the next fault, on average 20 advbases away.
func (c *chaos) next() {
	d := time.Duration(c.rng.ExpFloat64() * 20 * float64(c.aMax))
	c.w.After(d, "fault", c.strike)
}

func (c *chaos) strike() {
	faults := []struct {
		name   string
		weight int
		do     func()
	}{
		{"partition", 3, c.partition},
		{"loss", 3, c.loss},
		{"delay", 2, c.delay},
		{"heartbeat", 2, c.heartbeat},
		{"clock", 3, c.clock},
		{"crash", 3, func() { c.reboot(false) }},
		{"shutdown", 2, func() { c.reboot(true) }},
		{"link", 3, c.link},
		{"flap", 2, c.flap},
		{"maintenance", 1, c.maintenance},
		{"health", 2, c.health},
	}
	total := 0
	for _, f := range faults {
		total += f.weight
	}
	pick := c.rng.IntN(total)
	for _, f := range faults {
		if pick -= f.weight; pick < 0 {
			c.faults[f.name]++
			f.do()
			break
		}
	}
	c.next()
}

func (c *chaos) partition() {
	var sides [2][]string
	for _, n := range c.w.spec.Nodes {
		s := c.rng.IntN(2)
		sides[s] = append(sides[s], n)
	}
	c.w.Partition(sides[0], sides[1])
	c.w.After(c.dur(2, 40), "heal", c.w.Heal)
}

func (c *chaos) loss() {
	c.w.SetLoss(0.05 + 0.75*c.rng.Float64())
	c.w.After(c.dur(2, 40), "loss over", func() { c.w.SetLoss(0) })
}

func (c *chaos) delay() {
	d, j := c.w.spec.Delay, c.w.spec.Jitter
	c.w.SetDelay(c.dur(0, 2), c.dur(0, 2))
	c.w.After(c.dur(2, 40), "delay over", func() { c.w.SetDelay(d, j) })
}

func (c *chaos) heartbeat() {
	n := c.node()
	c.w.CutHeartbeat(n, true)
	c.w.After(c.dur(2, 40), "mend heartbeat "+n, func() { c.w.CutHeartbeat(n, false) })
}

func (c *chaos) clock() {
	n := c.node()
	var d time.Duration
	if c.rng.IntN(2) == 0 {
		d = c.dur(0, 1) // under one advbase: drift the machine must absorb
	} else {
		d = c.dur(1, 10) + time.Duration(c.rng.Int64N(int64(time.Hour)))
	}
	if c.rng.IntN(2) == 0 {
		d = -d
	}
	c.w.JumpClock(n, d)
	c.w.trace.add(c.w, entry{node: -1, kind: kFault, text: fmt.Sprintf("clock of %s jumps %v", n, d)})
}

// reboot crashes or shuts down a node, then boots it demoted until its
// firewall is loaded.
func (c *chaos) reboot(graceful bool) {
	n := c.node()
	if graceful {
		c.w.Shutdown(n)
	} else {
		c.w.Crash(n)
	}
	c.w.After(c.dur(1, 40), "boot "+n, func() {
		c.w.Event(n, carp.Demote{Cause: carp.CauseBoot, By: carp.BootDemotion})
		c.w.Boot(n)
		c.w.After(c.dur(0, 10), "firewall loaded on "+n, func() {
			c.w.Event(n, carp.Promote{Cause: carp.CauseBoot})
		})
	})
}

func (c *chaos) link() {
	n := c.node()
	c.w.Event(n, carp.LinkChange{Name: "wan", Up: false})
	c.w.After(c.dur(1, 40), "wan up on "+n, func() { c.w.Event(n, carp.LinkChange{Name: "wan", Up: true}) })
}

func (c *chaos) flap() {
	n := c.node()
	hold := c.w.spec.LinkUpHold
	at := time.Duration(0)
	flaps := 3 + c.rng.IntN(10)
	for i := range flaps {
		up := i%2 == 1 || i == flaps-1
		c.w.After(at, "flap wan on "+n, func() { c.w.Event(n, carp.LinkChange{Name: "wan", Up: up}) })
		at += time.Duration((0.1 + 0.9*c.rng.Float64()) * float64(hold))
	}
}

func (c *chaos) maintenance() {
	n := c.node()
	c.w.Event(n, carp.Demote{Cause: carp.CauseMaintenance, By: carp.MaintenanceDemotion})
	c.w.After(c.dur(5, 60), "maintenance off on "+n, func() { c.w.Event(n, carp.Promote{Cause: carp.CauseMaintenance}) })
}

func (c *chaos) health() {
	n := c.node()
	name := []string{"web", "dns"}[c.rng.IntN(2)]
	c.w.Event(n, carp.Demote{Cause: carp.CauseHealth, Name: name, By: carp.HealthDemotion})
	c.w.After(c.dur(1, 40), "health "+name+" ok on "+n, func() { c.w.Event(n, carp.Promote{Cause: carp.CauseHealth, Name: name}) })
}

// String summarises the stats on one line.
func (s Stats) String() string {
	var faults []string
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range s.Faults {
			if !yield(k) {
				return
			}
		}
	}) {
		faults = append(faults, fmt.Sprintf("%s=%d", k, s.Faults[k]))
	}
	return fmt.Sprintf("%d steps, %v simulated, %d nodes, %d groups, %d transitions, worst %.0f%% of the two-master limit, %.0f%% of the no-master limit, faults %v",
		s.Steps, s.SimTime.Round(time.Second), s.Nodes, s.Groups, s.Transitions, 100*s.WorstDual, 100*s.WorstGap, faults)
}
