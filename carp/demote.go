package carp

import (
	"slices"
	"time"
)

// maxSources bounds the demotion sources; the config names a handful.
const maxSources = 256

type source struct {
	cause Cause
	name  string
	by    uint8
}

// demotion is the set of active demotion sources.
type demotion []source

// set makes (cause, name) contribute by, removing it at 0, and reports
// whether anything changed. Beyond maxSources new sources are ignored.
func (d *demotion) set(c Cause, name string, by uint8) bool {
	i := slices.IndexFunc(*d, func(s source) bool { return s.cause == c && s.name == name })
	switch {
	case i >= 0 && by == 0:
		*d = slices.Delete(*d, i, i+1)
	case i >= 0 && (*d)[i].by != by:
		(*d)[i].by = by
	case i < 0 && by != 0 && len(*d) < maxSources:
		*d = append(*d, source{c, name, by})
	default:
		return false
	}
	return true
}

func (d demotion) total() uint8 {
	sum := 0
	for _, s := range d {
		sum += int(s.by)
	}
	return uint8(min(sum, 255))
}

func (d demotion) has(c Cause) bool {
	return slices.ContainsFunc(d, func(s source) bool { return s.cause == c })
}

// setDemotion applies a demotion change. A master that enters maintenance
// bows out, whatever preemption says; otherwise a master advertises its new
// rank at once (a better backup preempts it) and a backup reconsiders
// preempting.
func (m *Machine) setDemotion(now time.Time, c Cause, name string, by uint8, out []Action) []Action {
	before, inMaint := m.demotion.total(), m.demotion.has(CauseMaintenance)
	if !m.demotion.set(c, name, by) {
		return out
	}
	if m.state == Master && !inMaint && m.demotion.has(CauseMaintenance) {
		return m.bowOut(now, Backup, WhyMaintenance, out)
	}
	if m.demotion.total() == before {
		return out
	}
	switch m.state {
	case Master:
		return m.advertise(now, out)
	case Backup:
		return m.reconsider(now, out)
	}
	return out
}

// link is a tracked role. Losing carrier demotes at once; regaining it
// promotes only once the link has stayed up for LinkUpHold.
type link struct {
	name string
	down bool
	upAt time.Time // set while up but not yet trusted
}

func (m *Machine) linkChange(now time.Time, e LinkChange, out []Action) []Action {
	i, ok := slices.BinarySearchFunc(m.links, e.Name, func(l link, name string) int {
		switch {
		case l.name < name:
			return -1
		case l.name > name:
			return 1
		}
		return 0
	})
	if !ok {
		return out
	}
	l := &m.links[i]
	if !e.Up {
		l.upAt = time.Time{}
		if l.down {
			return out
		}
		l.down = true
		return m.setDemotion(now, CauseLink, l.name, LinkDemotion, out)
	}
	if l.down && l.upAt.IsZero() {
		l.upAt = now.Add(m.cfg.LinkUpHold)
	}
	return out
}

func (m *Machine) linkHeld(now time.Time, i int, out []Action) []Action {
	l := &m.links[i]
	l.down, l.upAt = false, time.Time{}
	return m.setDemotion(now, CauseLink, l.name, 0, out)
}

func (m *Machine) dueLink(now time.Time) int {
	return slices.IndexFunc(m.links, func(l link) bool { return due(l.upAt, now) })
}
