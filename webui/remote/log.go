package remote

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// The UI process logs through the daemon, so that its lines land in the
// daemon's log (and its live-log ring) in the daemon's format, exactly as
// when the UI ran in the daemon: LogHandler sends each record as a "Log"
// notification, ServeLog writes it to the daemon's logger.

// logQueue bounds the records waiting to be sent; past it they are
// dropped and counted, since a UI handler must never wait for the log.
const logQueue = 256

type logRecord struct {
	Time  time.Time
	Level slog.Level
	Msg   string
	Attrs []logAttr
}

// logAttr is one attribute, flattened ("group.key"); V keeps numbers and
// booleans as such and is the text of anything else.
type logAttr struct {
	K string
	V any
}

// ServeLog writes the records the other side sends to log.
func ServeLog(m Mux, log *slog.Logger) {
	Handle(m, "Log", func(ctx context.Context, r logRecord) (none, error) {
		rec := slog.NewRecord(r.Time, r.Level, r.Msg, 0)
		for _, a := range r.Attrs {
			rec.AddAttrs(slog.Any(a.K, a.V))
		}
		if log.Handler().Enabled(ctx, r.Level) {
			log.Handler().Handle(ctx, rec)
		}
		return none{}, nil
	})
}

// LogHandler is a slog.Handler that sends records over c, at level and
// above. Dropped counts the records lost to a full queue.
type LogHandler struct {
	q       chan logRecord
	level   slog.Level
	prefix  string
	attrs   []logAttr
	dropped *atomic.Uint64
}

// NewLogHandler starts sending records over c until it closes.
func NewLogHandler(c *Conn, level slog.Level) *LogHandler {
	h := &LogHandler{q: make(chan logRecord, logQueue), level: level, dropped: new(atomic.Uint64)}
	go func() {
		for {
			select {
			case <-c.Done():
				return
			case r := <-h.q:
				Notify(c, "Log", r)
			}
		}
	}()
	return h
}

// Dropped is how many records were lost to a full queue.
func (h *LogHandler) Dropped() uint64 { return h.dropped.Load() }

func (h *LogHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }

func (h *LogHandler) Handle(_ context.Context, rec slog.Record) error {
	r := logRecord{Time: rec.Time, Level: rec.Level, Msg: rec.Message, Attrs: append([]logAttr(nil), h.attrs...)}
	rec.Attrs(func(a slog.Attr) bool {
		r.Attrs = flatten(r.Attrs, h.prefix, a)
		return true
	})
	select {
	case h.q <- r:
	default:
		h.dropped.Add(1)
	}
	return nil
}

func (h *LogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append([]logAttr(nil), h.attrs...)
	for _, a := range as {
		c.attrs = flatten(c.attrs, h.prefix, a)
	}
	return &c
}

func (h *LogHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.prefix = h.prefix + name + "."
	return &c
}

func flatten(out []logAttr, prefix string, a slog.Attr) []logAttr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindGroup:
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range v.Group() {
			out = flatten(out, p, g)
		}
		return out
	case slog.KindBool, slog.KindInt64, slog.KindUint64, slog.KindFloat64:
		return append(out, logAttr{prefix + a.Key, v.Any()})
	}
	return append(out, logAttr{prefix + a.Key, v.String()})
}
