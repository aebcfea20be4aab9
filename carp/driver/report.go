package driver

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"rampart/carp"
)

// Transition is one state change of one group, as the hooks and the
// notify command see it.
type Transition struct {
	Group    uint8
	From, To carp.State
	Reason   carp.Why
	Node     string // this node's id
	At       time.Time
}

// reporter takes what the run loop has to say off its thread: log lines,
// hooks and notifications run on an ordinary goroutine, so that a slow
// log pipe, a hook or a mutex held by a descheduled goroutine can never
// delay an advert. The loop never blocks on it; when it falls behind,
// reports are dropped and counted.
type reporter struct {
	log     *slog.Logger
	node    string
	ch      chan report
	done    chan struct{}
	dropped atomic.Uint64
	chMu    sync.RWMutex // put against close: a loop that outlived Close must not send on a closed channel
	closed  bool

	mu     sync.Mutex
	hooks  []func(group uint8, from, to carp.State, reason carp.Why)
	notify *notifier
}

type report struct {
	level slog.Level
	msg   string
	attrs []any
	tr    *Transition
}

// reportQueue is deep enough for every report of a takeover of many
// groups at once.
const reportQueue = 256

func newReporter(log *slog.Logger, node string) *reporter {
	r := &reporter{log: log, node: node, ch: make(chan report, reportQueue), done: make(chan struct{})}
	go r.run()
	return r
}

func (r *reporter) run() {
	defer close(r.done)
	for rep := range r.ch {
		r.log.Log(context.Background(), rep.level, rep.msg, rep.attrs...)
		if rep.tr == nil {
			continue
		}
		r.mu.Lock()
		hooks, n := append([]func(uint8, carp.State, carp.State, carp.Why){}, r.hooks...), r.notify
		r.mu.Unlock()
		for _, h := range hooks {
			h(rep.tr.Group, rep.tr.From, rep.tr.To, rep.tr.Reason)
		}
		if n != nil {
			n.enqueue(*rep.tr)
		}
	}
}

// close stops the reporter once everything queued is out.
func (r *reporter) close() {
	r.chMu.Lock()
	if !r.closed {
		r.closed = true
		close(r.ch)
	}
	r.chMu.Unlock()
	<-r.done
}

func (r *reporter) put(rep report) {
	r.chMu.RLock()
	defer r.chMu.RUnlock()
	if r.closed {
		return
	}
	select {
	case r.ch <- rep:
	default:
		r.dropped.Add(1)
	}
}

func (r *reporter) transition(now time.Time, g *group, s carp.StateChanged) {
	tr := &Transition{Group: g.plan.cfg.VHID, From: s.From, To: s.To, Reason: s.Why, Node: r.node, At: now}
	r.put(report{level: slog.LevelInfo, msg: "carp: transition", tr: tr,
		attrs: []any{"group", tr.Group, "from", s.From.String(), "to", s.To.String(), "why", s.Why.String()}})
}

// alarm is a loud report. vhid 0 concerns the node, not a group.
func (r *reporter) alarm(vhid uint8, kind, node, detail string) {
	attrs := []any{"kind", kind}
	if vhid != 0 {
		attrs = append(attrs, "group", vhid)
	}
	if node != "" {
		attrs = append(attrs, "peer", node)
	}
	r.put(report{level: slog.LevelError, msg: "carp: alarm", attrs: append(attrs, "detail", detail)})
}

func (r *reporter) info(msg string, attrs ...any) {
	r.put(report{level: slog.LevelInfo, msg: msg, attrs: attrs})
}

func (r *reporter) warn(msg string, attrs ...any) {
	r.put(report{level: slog.LevelWarn, msg: msg, attrs: attrs})
}

func (r *reporter) errorf(format string, args ...any) {
	r.put(report{level: slog.LevelError, msg: fmt.Sprintf(format, args...)})
}

func (r *reporter) addHook(h func(group uint8, from, to carp.State, reason carp.Why)) {
	r.mu.Lock()
	r.hooks = append(r.hooks, h)
	r.mu.Unlock()
}

func (r *reporter) setNotifier(n *notifier) {
	r.mu.Lock()
	old := r.notify
	r.notify = n
	r.mu.Unlock()
	if old != nil {
		old.close()
	}
}
