package carp

import "cmp"

// Rank is what adverts are compared by. Lower is better in every field,
// compared in order: demotion counter, advbase, advskew (as in CARP, where
// the node that would advertise more often wins), then node id to break
// ties.
type Rank struct {
	Demote    uint8
	AdvBaseMS uint16
	AdvSkew   uint8
	Node      NodeID
}

// RankOf returns the rank an advert claims.
func RankOf(a Advert) Rank {
	return Rank{Demote: a.Demote, AdvBaseMS: a.AdvBaseMS, AdvSkew: a.AdvSkew, Node: a.Node}
}

// Compare is a total order: negative when r is better than o. Two masters
// that hear each other agree on it, so exactly one stays master.
func (r Rank) Compare(o Rank) int {
	return cmp.Or(r.comparePriority(o), r.Node.Compare(o.Node))
}

// Beats reports whether r is better than o: a master that hears a better
// master steps down.
func (r Rank) Beats(o Rank) bool { return r.Compare(o) < 0 }

// Outranks reports whether r is strictly better than o without the node id
// tie-break. Only this preempts a live master: equal priorities never move
// the VIPs back and forth, whoever is master stays master.
func (r Rank) Outranks(o Rank) bool { return r.comparePriority(o) < 0 }

func (r Rank) comparePriority(o Rank) int {
	return cmp.Or(
		cmp.Compare(r.Demote, o.Demote),
		cmp.Compare(r.AdvBaseMS, o.AdvBaseMS),
		cmp.Compare(r.AdvSkew, o.AdvSkew),
	)
}
