package sim

import (
	"fmt"
	"time"

	"rampart/carp"
)

// traceLen is how many steps a failure report shows.
const traceLen = 80

type entryKind uint8

const (
	kFault entryKind = iota
	kSend
	kRecv
	kReject
	kState
	kAlarm
)

// entry is one traced happening, kept raw and only formatted on failure:
// formatting every step would cost more than simulating it.
type entry struct {
	step   int
	at     time.Duration
	node   int
	group  int
	kind   entryKind
	text   string
	adv    carp.Advert
	reason carp.Reason
	path   path
}

// trace is a ring of the last entries.
type trace struct {
	ring [traceLen]entry
	n    int
}

func (t *trace) add(w *World, e entry) {
	e.step, e.at = w.steps, w.Now()
	t.ring[t.n%traceLen] = e
	t.n++
}

func (t *trace) lines(w *World) []string {
	var out []string
	for i := max(0, t.n-traceLen); i < t.n; i++ {
		out = append(out, t.ring[i%traceLen].format(w))
	}
	return out
}

func (e *entry) format(w *World) string {
	who := "world"
	if e.node >= 0 {
		who = w.nodes[e.node].name
	}
	head := fmt.Sprintf("%7d %12v %-6s", e.step, e.at, who)
	switch e.kind {
	case kSend:
		return fmt.Sprintf("%s sends %s", head, advText(e.adv))
	case kRecv:
		return fmt.Sprintf("%s accepts via %v %s", head, e.path, advText(e.adv))
	case kReject:
		return fmt.Sprintf("%s rejects via %v: %v", head, e.path, e.reason)
	case kState:
		return fmt.Sprintf("%s state %s", head, e.text)
	case kAlarm:
		return fmt.Sprintf("%s ALARM %s", head, e.text)
	}
	return fmt.Sprintf("%s %s", head, e.text)
}

func advText(a carp.Advert) string {
	return fmt.Sprintf("%v vhid=%d from=%v epoch=%d seq=%d demote=%d skew=%d", a.Type, a.VHID, a.Node, a.Epoch, a.Seq, a.Demote, a.AdvSkew)
}
