package carp

import (
	"fmt"
	"slices"
	"time"
)

// Machine is the state machine of one group on one node. It does no I/O and
// reads no clock: Step takes the time and an event and returns the actions
// for the driver. It is not safe for concurrent use; the driver calls it
// from one goroutine.
type Machine struct {
	cfg   Config
	state State
	seq   uint64

	last  time.Time // now of the previous Step
	armed time.Time // At of the last ArmTimer

	// Deadlines; zero means unset.
	advertAt  time.Time // master: next advert
	downAt    time.Time // backup: the master is declared down
	downWhy   Why       // why downAt was last set, for StateChanged
	preemptAt time.Time // backup: the preempt delay ends

	demotion demotion
	links    []link // one per tracked role, sorted by name
	peers    []peer // masters heard while backup
	seen     []seen // what each peer last advertised, for mismatch alarms

	hbDown       bool // heartbeat carrier lost
	lastAnnounce time.Time
	unverifiedAt time.Time // last Unverified event
}

// NewMachine returns a machine in INIT.
func NewMachine(c Config) (*Machine, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	m := &Machine{cfg: c.withDefaults()}
	for _, name := range m.cfg.Track {
		m.links = append(m.links, link{name: name})
	}
	return m, nil
}

// State returns the current state.
func (m *Machine) State() State { return m.state }

// Config returns the configuration with defaults applied.
func (m *Machine) Config() Config {
	c := m.cfg
	c.Track = slices.Clone(c.Track)
	return c
}

// Demotion returns the demotion counter: the sum of the active sources.
func (m *Machine) Demotion() uint8 { return m.demotion.total() }

// Rank returns what this node would advertise now.
func (m *Machine) Rank() Rank {
	return Rank{
		Demote:    m.demotion.total(),
		AdvBaseMS: uint16(m.cfg.AdvBase / time.Millisecond),
		AdvSkew:   m.cfg.AdvSkew,
		Node:      m.cfg.Node,
	}
}

// MasterDown returns the current master down interval of this node.
func (m *Machine) MasterDown() time.Duration { return m.cfg.MasterDown(m.demotion.total() > 0) }

// Step feeds one event at time now and returns what to do, in order. The
// last action is an ArmTimer whenever the next deadline changed.
func (m *Machine) Step(now time.Time, ev Event) []Action {
	out := m.checkClock(now, ev, nil)
	m.last = now
	switch e := ev.(type) {
	case Start:
		out = m.start(now, out)
	case Shutdown:
		out = m.shutdown(now, out)
	case Received:
		out = m.received(now, e.Advert, out)
	case Unverified:
		out = m.unverified(now, e, out)
	case Demote:
		out = m.setDemotion(now, e.Cause, e.Name, e.By, out)
	case Promote:
		out = m.setDemotion(now, e.Cause, e.Name, 0, out)
	case LinkChange:
		out = m.linkChange(now, e, out)
	case HeartbeatCarrier:
		out = m.carrier(now, e, out)
	case Timer:
		// Deadlines are run below, whatever the event.
	}
	out = m.runDue(now, out)
	return m.rearm(out)
}

func (m *Machine) start(now time.Time, out []Action) []Action {
	if m.state != Init {
		return out
	}
	m.state = Backup
	m.armDown(now)
	return append(out, StateChanged{From: Init, To: Backup, Why: WhyStart})
}

func (m *Machine) shutdown(now time.Time, out []Action) []Action {
	switch m.state {
	case Master:
		out = m.bowOut(now, Init, WhyShutdown, out)
	case Backup:
		m.state = Init
		out = append(out, StateChanged{From: Backup, To: Init, Why: WhyShutdown})
	}
	m.advertAt, m.downAt, m.preemptAt = time.Time{}, time.Time{}, time.Time{}
	m.peers = m.peers[:0]
	return out
}

func (m *Machine) received(now time.Time, a Advert, out []Action) []Action {
	if a.VHID != m.cfg.VHID || a.Node == m.cfg.Node || m.state == Init {
		return out
	}
	out = m.checkPeerConfig(a, out)
	if m.state == Master {
		return m.masterHeard(now, a, out)
	}
	return m.backupHeard(now, a, out)
}

// backupHeard: an advert shows a live master. A bow-out with no other
// master left lets this node take over after its skew alone, so the best
// backup goes first; a step-down only means the sender is master no more
// (it yielded to a better one, which is advertising).
func (m *Machine) backupHeard(now time.Time, a Advert, out []Action) []Action {
	switch a.Type {
	case TypeStepDown:
		m.forgetPeer(a.Node)
		return m.reconsider(now, out)
	case TypeBowOut:
		m.forgetPeer(a.Node)
		if _, ok := m.bestPeer(now); !ok {
			if at := now.Add(m.cfg.Skew(m.demotion.total() > 0)); at.Before(m.downAt) {
				m.downAt, m.downWhy = at, WhyBowOut
			}
		}
		return m.reconsider(now, out)
	}
	m.notePeer(now, a)
	m.armDown(now)
	return m.reconsider(now, out)
}

// masterHeard: a better master wins; a worse one means two masters (a
// healed split brain, or the old master after a preemption), so advertise
// at once to make it step down, and announce the VIPs it has been
// answering for. A step-down from a loser that heard us first means the
// same, minus the advert.
func (m *Machine) masterHeard(now time.Time, a Advert, out []Action) []Action {
	switch {
	case a.Type == TypeBowOut:
		return out
	case a.Type == TypeStepDown:
		return m.announce(now, out)
	case RankOf(a).Beats(m.Rank()):
		return m.stepDown(now, a, out)
	}
	out = m.advertise(now, out)
	return m.announce(now, out)
}

// announce asks for a GARP/NA burst, at most once per master down
// interval: three masters that heal at once need one burst, not two.
func (m *Machine) announce(now time.Time, out []Action) []Action {
	if !m.lastAnnounce.IsZero() && now.Sub(m.lastAnnounce) < m.MasterDown() {
		return out
	}
	m.lastAnnounce = now
	return append(out, Announce{})
}

// reconsider decides, as a backup, whether to take over from the best live
// master. A master more demoted than this node is taken over at once,
// whatever Preempt says, as in OpenBSD: demotion means the master is
// broken (a tracked link or a health check), so it must not keep the VIPs
// just because preemption is off. A master that is merely of lower
// priority is preempted only with Preempt, after PreemptDelay.
func (m *Machine) reconsider(now time.Time, out []Action) []Action {
	if m.state != Backup {
		return out
	}
	best, ok := m.bestPeer(now)
	if ok && m.Rank().Demote < best.Demote {
		return m.becomeMaster(now, WhyMasterDemoted, out)
	}
	if !m.shouldPreempt(now) {
		m.preemptAt = time.Time{}
		return out
	}
	if m.cfg.PreemptDelay == 0 {
		return m.becomeMaster(now, WhyPreempt, out)
	}
	if m.preemptAt.IsZero() {
		m.preemptAt = now.Add(m.cfg.PreemptDelay)
	}
	return out
}

func (m *Machine) shouldPreempt(now time.Time) bool {
	best, ok := m.bestPeer(now)
	return ok && m.cfg.Preempt && m.Rank().Outranks(best)
}

func (m *Machine) preemptDue(now time.Time, out []Action) []Action {
	m.preemptAt = time.Time{}
	if m.state == Backup && m.shouldPreempt(now) {
		return m.becomeMaster(now, WhyPreempt, out)
	}
	return out
}

func (m *Machine) unverified(now time.Time, e Unverified, out []Action) []Action {
	if m.state == Init {
		return out
	}
	edge := m.unverifiedAt.IsZero() || now.Sub(m.unverifiedAt) > m.MasterDown()
	m.unverifiedAt = now
	detail := fmt.Sprintf("adverts from %v fail authentication (%v); holding back takeover", e.From, e.Reason)
	if m.state == Backup {
		if hold := now.Add(m.MasterDown()); m.downAt.Before(hold) {
			m.downAt = hold
		}
	} else {
		detail = fmt.Sprintf("adverts from %v fail authentication (%v) while master: there may be two masters", e.From, e.Reason)
	}
	if !edge {
		return out
	}
	return append(out, Alarm{Kind: AlarmUnverified, Detail: detail})
}

func (m *Machine) carrier(now time.Time, e HeartbeatCarrier, out []Action) []Action {
	lost := !e.Up && !m.hbDown
	m.hbDown = !e.Up
	if !lost || m.state != Backup {
		return out
	}
	if at := now.Add(m.cfg.CarrierLossWindow); at.Before(m.downAt) {
		m.downAt, m.downWhy = at, WhyCarrierLost
	}
	return out
}
