package carp

import (
	"fmt"
	"time"
)

// checkClock notices that now disagrees with the machine's deadlines and
// re-bases them, so that a clock step neither silences a master nor makes a
// backup declare a live master down.
//
// A Timer for the armed deadline means the driver's monotonic timer says
// the deadline has come: if now says otherwise by more than one advbase,
// the clock stepped by exactly the difference. For other events the jump is
// bounded from below: now before the previous Step, or now past the
// earliest deadline by more than one advbase although its timer has not
// fired. Deadlines keep the time they had left. After a real step (more
// than one advbase) a master advertises at once and a backup listens at
// least one more advbase before declaring the master down.
func (m *Machine) checkClock(now time.Time, ev Event, out []Action) []Action {
	if m.last.IsZero() {
		return out
	}
	tol := m.cfg.AdvBase
	var jump time.Duration
	t, isTimer := ev.(Timer)
	switch {
	case isTimer && !m.armed.IsZero() && t.At.Equal(m.armed):
		if d := now.Sub(m.armed); d < 0 || d > tol {
			jump = d
		}
	case now.Before(m.last):
		jump = now.Sub(m.last)
	default:
		if next := m.next(); !next.IsZero() && now.Sub(next) > tol {
			jump = now.Sub(next)
		}
	}
	if jump == 0 {
		return out
	}
	m.shift(jump)
	if jump >= -tol && jump <= tol {
		return out // a timer fired a little early by the clock: drift, not a step
	}
	switch m.state {
	case Master:
		m.advertAt = now
	case Backup:
		if floor := now.Add(tol); m.downAt.Before(floor) {
			m.downAt = floor
		}
	}
	return append(out, Alarm{Kind: AlarmClockJump, Detail: fmt.Sprintf("clock stepped by %v; deadlines re-based", jump)})
}

// shift moves every stored time by d. The armed deadline stays: it is what
// the driver's timer was set to, and rearm compares against it.
func (m *Machine) shift(d time.Duration) {
	for _, t := range []*time.Time{&m.advertAt, &m.downAt, &m.preemptAt, &m.lastAnnounce, &m.unverifiedAt} {
		shiftTime(t, d)
	}
	for i := range m.links {
		shiftTime(&m.links[i].upAt, d)
	}
	for i := range m.peers {
		shiftTime(&m.peers[i].until, d)
	}
}

func shiftTime(t *time.Time, d time.Duration) {
	if !t.IsZero() {
		*t = t.Add(d)
	}
}

func due(t, now time.Time) bool { return !t.IsZero() && !now.Before(t) }

// next returns the earliest deadline, or zero.
func (m *Machine) next() time.Time {
	var n time.Time
	for _, t := range []time.Time{m.advertAt, m.downAt, m.preemptAt} {
		n = earlier(n, t)
	}
	for _, l := range m.links {
		n = earlier(n, l.upAt)
	}
	return n
}

func earlier(a, b time.Time) time.Time {
	if a.IsZero() || !b.IsZero() && b.Before(a) {
		return b
	}
	return a
}

// runDue runs every deadline that has come. Each handler clears its
// deadline or moves it past now, so the loop ends; the bound is a guard.
func (m *Machine) runDue(now time.Time, out []Action) []Action {
	for range 4 + len(m.links) {
		if i := m.dueLink(now); i >= 0 {
			out = m.linkHeld(now, i, out) // first: the adverts below then carry the new rank
			continue
		}
		switch {
		case due(m.preemptAt, now):
			out = m.preemptDue(now, out)
		case due(m.downAt, now):
			out = m.becomeMaster(now, m.downWhy, out)
		case due(m.advertAt, now):
			out = m.advertDue(now, out)
		default:
			return out
		}
	}
	return out
}

// rearm tells the driver about a new earliest deadline.
func (m *Machine) rearm(out []Action) []Action {
	if n := m.next(); !n.Equal(m.armed) {
		m.armed = n
		out = append(out, ArmTimer{At: n})
	}
	return out
}
