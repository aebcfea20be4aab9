package appliance

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"rampart/webui"
)

// The web UI's live log and the HA page's transitions come from the
// daemon's own log: every record passes through logHandler on its way to
// the console and leaves a copy in a bounded ring. Bounded because the
// box runs for years and a chatty peer must not fill its memory.

// Ring sizes.
const (
	logRingSize        = 2000
	transitionRingSize = 100 // webui.HAStatus asks for "a hundred is plenty"
)

// carpTransitionMsg is the message carp/driver logs each state change with.
const carpTransitionMsg = "carp: transition"

// secretKeys are attributes that never reach the ring: the live log is a
// page, and the console already showed them.
var secretKeys = map[string]bool{"setup_token": true}

// logRing keeps the most recent log lines and HA transitions.
type logRing struct {
	mu          sync.Mutex
	lines       []webui.LogLine // circular once full
	next        int             // where the next line goes once full
	seq         uint64          // Seq of the newest line
	transitions []webui.Transition
}

func newLogRing() *logRing { return &logRing{} }

func (r *logRing) add(l webui.LogLine) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	l.Seq = r.seq
	if len(r.lines) < logRingSize {
		r.lines = append(r.lines, l)
		return
	}
	r.lines[r.next] = l
	r.next = (r.next + 1) % logRingSize
}

func (r *logRing) addTransition(t webui.Transition) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.transitions) == transitionRingSize {
		r.transitions = append(r.transitions[:0], r.transitions[1:]...)
	}
	r.transitions = append(r.transitions, t)
}

// since returns up to max lines with Seq > after, oldest first.
func (r *logRing) since(after uint64, max int) []webui.LogLine {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []webui.LogLine
	n := len(r.lines)
	for i := 0; i < n && len(out) < max; i++ {
		l := r.lines[(r.next+i)%n]
		if l.Seq > after {
			out = append(out, l)
		}
	}
	return out
}

// recentTransitions returns the kept transitions, oldest first.
func (r *logRing) recentTransitions() []webui.Transition {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]webui.Transition(nil), r.transitions...)
}

// logHandler tees records to next and into the ring.
type logHandler struct {
	next   slog.Handler
	ring   *logRing
	prefix string      // "group." for attributes added inside WithGroup
	attrs  []slog.Attr // from WithAttrs, already prefixed
}

func (h *logHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

func (h *logHandler) Handle(ctx context.Context, rec slog.Record) error {
	h.keep(rec)
	return h.next.Handle(ctx, rec)
}

func (h *logHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(as)
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), prefixed(h.prefix, as)...)
	return &c
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	c.prefix = h.prefix + name + "."
	return &c
}

func prefixed(prefix string, as []slog.Attr) []slog.Attr {
	if prefix == "" {
		return as
	}
	out := make([]slog.Attr, len(as))
	for i, a := range as {
		out[i] = slog.Attr{Key: prefix + a.Key, Value: a.Value}
	}
	return out
}

// keep renders rec as one line, "level msg key=value ...", and records
// carp's transitions apart.
func (h *logHandler) keep(rec slog.Record) {
	attrs := append([]slog.Attr(nil), h.attrs...)
	rec.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, prefixed(h.prefix, []slog.Attr{a})...)
		return true
	})
	var b strings.Builder
	b.WriteString(rec.Level.String())
	b.WriteByte(' ')
	b.WriteString(rec.Message)
	for _, a := range attrs {
		v := valueText(a.Value.Resolve())
		if secretKeys[a.Key] {
			v = "(shown on the console)"
		}
		if strings.ContainsAny(v, " \"=") {
			v = fmt.Sprintf("%q", v)
		}
		fmt.Fprintf(&b, " %s=%s", a.Key, v)
	}
	kind := "system"
	if rec.Message == carpTransitionMsg {
		kind = "transition"
		h.ring.addTransition(transitionOf(rec.Time, attrs))
	}
	h.ring.add(webui.LogLine{Time: rec.Time, Kind: kind, Text: b.String()})
}

// valueText is how a value reads in the live log: times as RFC 3339.
func valueText(v slog.Value) string {
	if v.Kind() == slog.KindTime {
		return v.Time().UTC().Format(time.RFC3339)
	}
	return v.String()
}

// transitionOf reads carp's transition attributes: group, from, to, why.
func transitionOf(t time.Time, attrs []slog.Attr) webui.Transition {
	tr := webui.Transition{Time: t}
	for _, a := range attrs {
		v := a.Value.Resolve()
		switch a.Key {
		case "group":
			switch v.Kind() {
			case slog.KindUint64:
				tr.VHID = uint8(v.Uint64())
			case slog.KindInt64:
				tr.VHID = uint8(v.Int64())
			}
		case "from":
			tr.From = v.String()
		case "to":
			tr.To = v.String()
		case "why":
			tr.Why = v.String()
		}
	}
	return tr
}
