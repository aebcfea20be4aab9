package carp

import "time"

// The transitions and the adverts they send. Each leaves the deadlines of
// the new state set and those of the old one cleared.

func (m *Machine) armDown(now time.Time) {
	m.downAt, m.downWhy = now.Add(m.MasterDown()), WhyMasterDown
}

func (m *Machine) becomeMaster(now time.Time, why Why, out []Action) []Action {
	from := m.state
	m.state = Master
	m.downAt, m.preemptAt = time.Time{}, time.Time{}
	m.peers = m.peers[:0]
	m.lastAnnounce = now
	out = append(out, AddVIPs{})
	out = m.advertise(now, out)
	return append(out, Announce{}, StateChanged{From: from, To: Master, Why: why})
}

func (m *Machine) stepDown(now time.Time, better Advert, out []Action) []Action {
	m.state = Backup
	m.advertAt = time.Time{}
	m.armDown(now)
	m.notePeer(now, better)
	return append(out, SendAdvert{Advert: m.advert(TypeStepDown)}, RemoveVIPs{}, StateChanged{From: Master, To: Backup, Why: WhyHeardBetter})
}

// bowOut leaves MASTER for to, telling the backups to take over now.
func (m *Machine) bowOut(now time.Time, to State, why Why, out []Action) []Action {
	out = append(out, SendAdvert{Advert: m.advert(TypeBowOut)}, RemoveVIPs{}, StateChanged{From: Master, To: to, Why: why})
	m.state = to
	m.advertAt = time.Time{}
	if to == Backup {
		m.armDown(now)
	}
	return out
}

func (m *Machine) advertise(now time.Time, out []Action) []Action {
	m.advertAt = now.Add(m.cfg.AdvBase)
	return append(out, SendAdvert{Advert: m.advert(TypeAdvert)})
}

// advertDue sends the periodic advert. The next one is due one advbase
// after this one was due, not after now, so a late timer does not stretch
// the interval the backups count on.
func (m *Machine) advertDue(now time.Time, out []Action) []Action {
	next := m.advertAt.Add(m.cfg.AdvBase)
	out = m.advertise(now, out)
	if next.After(now) {
		m.advertAt = next
	}
	return out
}

func (m *Machine) advert(t Type) Advert {
	m.seq++
	r := m.Rank()
	return Advert{
		Type:      t,
		VHID:      m.cfg.VHID,
		AdvSkew:   r.AdvSkew,
		Demote:    r.Demote,
		AdvBaseMS: r.AdvBaseMS,
		Node:      m.cfg.Node,
		Epoch:     m.cfg.Epoch,
		Seq:       m.seq,
		Digest:    m.cfg.Digest,
	}
}
