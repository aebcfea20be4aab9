package driver

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"rampart/carp"
	"rampart/config"
)

// loop is the run loop. It owns the machines, the advert sockets, the link
// watch and every timer, and it runs on one OS thread (real-time in the
// daemon): it sleeps in ppoll until a socket, the control eventfd or the
// earliest deadline wakes it, so an advert is timed and sent by the same
// thread without any other goroutine having to be scheduled first.
type loop struct {
	plan     *plan
	now      func() time.Time
	ring     *carp.Keyring
	recv     *carp.Receiver
	groups   []*group
	paths    []*path
	links    *linkWatch // nil: no link events (tests)
	kern     kernel
	ctl      *control
	rep      *reporter
	cnt      *counters
	schedule []time.Duration
	buf      []byte
	loud     map[carp.Reason]time.Time // last log line per loud reason
	states   []atomic.Uint32           // per group, for Driver.States
	stats    []groupStats              // per group, for Driver.Groups
	// lateLogged rate-limits the warning about a timer handled late: on a
	// box where even the real-time thread is held back, every advert is.
	lateLogged time.Time
	stopped    bool
	// beforeMaster runs before a group's VIPs are added (Options).
	beforeMaster        func(ctx context.Context) error
	beforeMasterTimeout time.Duration
}

// path is one advert socket.
type path struct {
	sock      pathSock
	dev       string
	heartbeat bool // unicast to the peers
	v6        bool
	multicast bool // second path: adverts go to the VRRP group
}

// group is one machine and what the driver does on its behalf.
type group struct {
	plan  *groupPlan
	m     *carp.Machine
	idx   int
	armed time.Time // the machine's timer; zero: none
	up    bool      // the VIPs are on this node

	burst time.Time // start of the announce burst in progress; zero: none
	round int       // next round of the burst

	// A master that enters maintenance holds its VIPs until the new master
	// advertises (then drainAt is set) or drainUntil passes, so that the
	// handover loses nothing.
	drainUntil time.Time
	drainAt    time.Time
}

// Bounds of the loop's work per wake-up: a flood on one socket must not
// keep the real-time thread from its timers.
const (
	maxPacketsPerWake = 64
	loudInterval      = 10 * time.Second // one log line per loud reason per interval
)

// handover timing: after the new master's first advert, the old master
// keeps its VIPs for one advbase (at least minGrace), long enough for the
// new master's first announcement to reach the switch. It gives up
// waiting after drainTimeout adverts.
const (
	minGrace     = 20 * time.Millisecond
	drainTimeout = 10
)

func (l *loop) run() {
	fds := l.pollFds()
	for !l.stopped {
		if err := l.wait(fds); err != nil {
			l.rep.errorf("carp driver: poll: %v", err)
			return
		}
		// Each event gets the time it is handled at: a kernel operation
		// carried out for the previous one may have taken a while.
		if fds[0].Revents != 0 {
			for _, f := range l.ctl.take() {
				f(l.now())
			}
		}
		for i, p := range l.paths {
			if fds[1+i].Revents != 0 {
				l.readPath(p)
			}
		}
		if l.links != nil && fds[len(fds)-1].Revents != 0 {
			l.readLinks()
		}
		l.fire()
	}
}

func (l *loop) pollFds() []unix.PollFd {
	fds := []unix.PollFd{{Fd: int32(l.ctl.fd), Events: unix.POLLIN}}
	for _, p := range l.paths {
		fds = append(fds, unix.PollFd{Fd: int32(p.sock.Fd()), Events: unix.POLLIN})
	}
	if l.links != nil {
		fds = append(fds, unix.PollFd{Fd: int32(l.links.Fd()), Events: unix.POLLIN})
	}
	return fds
}

// wait sleeps until input or the next deadline. The timeout is measured
// on the monotonic clock by the kernel, so a step of the wall clock
// changes nothing here; the machines see the step in the times they get.
func (l *loop) wait(fds []unix.PollFd) error {
	for i := range fds {
		fds[i].Revents = 0
	}
	var ts *unix.Timespec
	if next := l.next(); !next.IsZero() {
		d := max(next.Sub(l.now()), 0)
		t := unix.NsecToTimespec(d.Nanoseconds())
		ts = &t
	}
	_, err := unix.Ppoll(fds, ts, nil)
	if errors.Is(err, unix.EINTR) {
		return nil
	}
	return err
}

// next is the earliest deadline of any kind, or zero.
func (l *loop) next() time.Time {
	var n time.Time
	for _, g := range l.groups {
		n = earliest(n, g.armed)
		if !g.burst.IsZero() {
			n = earliest(n, g.burst.Add(l.schedule[g.round]))
		}
		n = earliest(n, g.drainAt)
		n = earliest(n, g.drainUntil)
	}
	return n
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || !b.IsZero() && b.Before(a) {
		return b
	}
	return a
}

func due(t, now time.Time) bool { return !t.IsZero() && !now.Before(t) }

// fire runs every deadline that has come.
func (l *loop) fire() {
	for _, g := range l.groups {
		now := l.now()
		if due(g.armed, now) {
			at := g.armed
			if late := now.Sub(at); late > g.plan.cfg.AdvBase/2 && now.Sub(l.lateLogged) > loudInterval {
				l.lateLogged = now
				l.rep.warn("carp: run loop late", "group", g.plan.cfg.VHID, "late", late.String())
			}
			l.step(now, g, carp.Timer{At: at})
			if g.armed.Equal(at) {
				// The machine did not re-arm although its deadline came:
				// poke it again shortly rather than spin or forget it.
				g.armed = now.Add(time.Millisecond)
			}
		}
		l.runBurst(now, g)
		l.runDrain(now, g)
	}
}

func (l *loop) step(now time.Time, g *group, ev carp.Event) {
	l.exec(now, g, g.m.Step(now, ev))
	l.stats[g.idx].demotion.Store(uint32(g.m.Demotion()))
}

func (l *loop) stepAll(now time.Time, ev carp.Event) {
	for _, g := range l.groups {
		l.step(now, g, ev)
	}
}

// exec carries out a machine's actions in order.
func (l *loop) exec(now time.Time, g *group, acts []carp.Action) {
	handover := isHandover(acts)
	for _, a := range acts {
		switch a := a.(type) {
		case carp.SendAdvert:
			l.send(g, a.Advert)
		case carp.AddVIPs:
			l.addVIPs(g)
		case carp.RemoveVIPs:
			if handover {
				l.startDrain(now, g)
			} else {
				l.removeVIPs(g)
			}
		case carp.Announce:
			g.burst, g.round = now, 0
			l.runBurst(now, g)
		case carp.ArmTimer:
			g.armed = a.At
		case carp.StateChanged:
			l.states[g.idx].Store(uint32(a.To))
			l.cnt.transitions.Add(1)
			l.rep.transition(now, g, a)
		case carp.Alarm:
			l.cnt.alarms.Add(1)
			l.rep.alarm(g.plan.cfg.VHID, a.Kind.String(), a.Node.String(), a.Detail)
		}
	}
}

// isHandover reports a master's bow-out for maintenance: its VIPs are
// drained rather than dropped.
func isHandover(acts []carp.Action) bool {
	for _, a := range acts {
		if s, ok := a.(carp.StateChanged); ok && s.From == carp.Master && s.Why == carp.WhyMaintenance {
			return true
		}
	}
	return false
}

// send seals an advert and sends it unicast to every peer over the
// heartbeat link and to the VRRP group on every second path.
func (l *loop) send(g *group, a carp.Advert) {
	pkt, err := l.ring.Seal(a)
	if err != nil {
		l.rep.errorf("carp driver: group %d: %v", g.plan.cfg.VHID, err)
		return
	}
	for _, p := range l.paths {
		for _, dst := range l.destinations(p) {
			if err := p.sock.Send(pkt, dst); err != nil {
				l.cnt.sendErrors.Add(1)
				continue
			}
			l.cnt.sent.Add(1)
			l.stats[g.idx].sent.Add(1)
		}
	}
}

func (l *loop) destinations(p *path) []netip.Addr {
	switch {
	case p.heartbeat:
		var out []netip.Addr
		for _, peer := range l.plan.peers {
			if peer.Is4() != p.v6 {
				out = append(out, peer)
			}
		}
		return out
	case p.multicast && p.v6:
		return []netip.Addr{groupV6}
	case p.multicast:
		return []netip.Addr{groupV4}
	}
	return nil
}

func (l *loop) readPath(p *path) {
	for range maxPacketsPerWake {
		pkt, from, ttl, err := p.sock.Recv(l.buf)
		switch {
		case errors.Is(err, unix.EAGAIN):
			return
		case errors.Is(err, errShortIP):
			continue
		case err != nil:
			l.rep.errorf("carp driver: receive on %s: %v", p.dev, err)
			return
		}
		l.packet(l.now(), p, pkt, from, ttl)
	}
}

func (l *loop) packet(now time.Time, p *path, pkt []byte, from netip.Addr, ttl int) {
	a, err := l.recv.Accept(pkt, ttl)
	if err != nil {
		l.rejected(now, p, pkt, from, err)
		return
	}
	g := l.group(a.VHID)
	if g == nil {
		return
	}
	st := &l.stats[g.idx]
	st.received.Add(1)
	st.peer.Store(&peerSeen{a: a, at: now})
	l.step(now, g, carp.Received{Advert: a, From: from})
	if a.Type == carp.TypeAdvert && !g.drainUntil.IsZero() && g.drainAt.IsZero() {
		g.drainAt = now.Add(max(g.plan.cfg.AdvBase, minGrace))
	}
}

// rejected handles an advert the receiver refused. One that fails
// authentication still shows a live node, but only when it comes from a
// configured peer over the heartbeat link: another cluster on the LAN with
// the same vhid and its own key must not hold this node down.
func (l *loop) rejected(now time.Time, p *path, pkt []byte, from netip.Addr, err error) {
	var reason carp.Reason
	if !errors.As(err, &reason) {
		return
	}
	if reason.Presence() && p.heartbeat && l.plan.isPeer(from) {
		if a, perr := carp.Parse(pkt); perr == nil {
			if g := l.group(a.VHID); g != nil {
				l.cnt.unverified.Add(1)
				l.step(now, g, carp.Unverified{From: from, Reason: reason})
			}
		}
	}
	if !reason.Loud() {
		return
	}
	if last, ok := l.loud[reason]; ok && now.Sub(last) < loudInterval {
		return
	}
	l.loud[reason] = now
	l.rep.warn("carp: advert rejected", "reason", reason.String(), "from", from.String(), "dev", p.dev,
		"count", l.recv.Counts().Rejected[reason])
}

func (l *loop) group(vhid uint8) *group {
	for _, g := range l.groups {
		if g.plan.cfg.VHID == vhid {
			return g
		}
	}
	return nil
}

func (l *loop) readLinks() {
	changes, err := l.links.read()
	if err != nil {
		l.rep.errorf("%v", err)
	}
	for _, c := range changes {
		now := l.now()
		l.rep.info("carp: link", "dev", c.dev, "up", c.up)
		if c.dev == l.plan.heartbeat {
			if !c.up {
				l.rep.alarm(0, "heartbeat_down", "", fmt.Sprintf("heartbeat link %s lost carrier: the peer may be dead; taking over unless an advert arrives on the second path", c.dev))
			}
			l.stepAll(now, carp.HeartbeatCarrier{Up: c.up})
		}
		for _, role := range l.plan.rolesOf(c.dev) {
			l.stepAll(now, carp.LinkChange{Name: role, Up: c.up})
		}
	}
}

func (l *loop) addVIPs(g *group) {
	g.drainUntil, g.drainAt = time.Time{}, time.Time{}
	if g.up {
		return // still up: a drain was cancelled by a return to master
	}
	g.up = true
	if l.beforeMaster != nil {
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), l.beforeMasterTimeout)
		err := l.beforeMaster(ctx)
		cancel()
		if err != nil {
			l.rep.warn("carp: pre-master hook failed; taking over anyway", "group", g.plan.cfg.VHID, "err", err.Error(), "took", time.Since(start).String())
		}
	}
	start := time.Now()
	if err := l.kern.addVIPs(g.plan); err != nil {
		l.cnt.vipErrors.Add(1)
		l.rep.errorf("carp driver: group %d: add VIPs: %v", g.plan.cfg.VHID, err)
	}
	l.rep.info("carp: VIPs added", "group", g.plan.cfg.VHID, "took", time.Since(start).String())
}

func (l *loop) removeVIPs(g *group) {
	g.drainUntil, g.drainAt = time.Time{}, time.Time{}
	g.burst = time.Time{}
	if !g.up {
		return
	}
	g.up = false
	start := time.Now()
	if err := l.kern.removeVIPs(g.plan); err != nil {
		l.cnt.vipErrors.Add(1)
		l.rep.errorf("carp driver: group %d: remove VIPs: %v", g.plan.cfg.VHID, err)
	}
	l.rep.info("carp: VIPs removed", "group", g.plan.cfg.VHID, "took", time.Since(start).String())
}

func (l *loop) startDrain(now time.Time, g *group) {
	if !g.up {
		return
	}
	g.burst = time.Time{}
	g.drainUntil = now.Add(drainTimeout * max(g.plan.cfg.AdvBase, minGrace))
	l.rep.info("carp: handover started: holding the VIPs until the new master advertises", "group", g.plan.cfg.VHID)
}

func (l *loop) runDrain(now time.Time, g *group) {
	switch {
	case due(g.drainAt, now):
		l.removeVIPs(g)
		l.rep.info("carp: handover complete", "group", g.plan.cfg.VHID)
	case due(g.drainUntil, now):
		l.removeVIPs(g)
		l.rep.warn("carp: handover timed out: no new master advertised; VIPs removed", "group", g.plan.cfg.VHID)
	}
}

// runBurst sends the announce round that is due. Rounds overdue after a
// stall are sent once, not each.
func (l *loop) runBurst(now time.Time, g *group) {
	if g.burst.IsZero() {
		return
	}
	last := -1
	for r := g.round; r < len(l.schedule) && !now.Before(g.burst.Add(l.schedule[r])); r++ {
		last = r
	}
	if last < 0 {
		return
	}
	g.round = last + 1
	if g.round == len(l.schedule) {
		g.burst = time.Time{}
	}
	if !g.up {
		return
	}
	l.cnt.announcements.Add(1)
	if err := l.kern.announce(g.plan); err != nil {
		l.cnt.announceErrors.Add(1)
		l.rep.errorf("carp driver: group %d: announce: %v", g.plan.cfg.VHID, err)
	}
}

// shutdown bows out of every group and removes the VIPs.
func (l *loop) shutdown(now time.Time) {
	l.stepAll(now, carp.Shutdown{})
	for _, g := range l.groups {
		l.removeVIPs(g)
	}
	l.stopped = true
}

// begin demotes as the node boots (boot hold, maintenance, health checks
// not yet passing) and then starts the machines, so that their first
// rank is already the right one.
func (l *loop) begin(now time.Time, bootHold, maintenance bool, checks []config.HealthCheck) {
	for _, g := range l.groups {
		if bootHold {
			l.step(now, g, carp.Demote{Cause: carp.CauseBoot, By: carp.BootDemotion})
		}
		if maintenance {
			l.step(now, g, carp.Demote{Cause: carp.CauseMaintenance, By: carp.MaintenanceDemotion})
		}
		for _, hc := range checks {
			l.step(now, g, carp.Demote{Cause: carp.CauseHealth, Name: hc.Name, By: hc.Demote})
		}
		l.step(now, g, carp.Start{})
	}
}

// close releases the loop's edges once it has stopped.
func (l *loop) close() {
	closePaths(l.paths)
	if l.links != nil {
		l.links.Close()
	}
	if err := l.kern.close(); err != nil {
		l.rep.errorf("carp driver: close: %v", err)
	}
	l.ctl.close()
}
