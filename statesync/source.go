package statesync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"sync"
	"sync/atomic"

	"rampart/statesync/ctnl"
)

// Sink takes what a Source reads; *Sender is one.
type Sink interface {
	// Update takes events of synced flows, in order. The source reuses
	// evs for its next read: Update keeps nothing of it.
	Update(evs ...ctnl.Event)
	// Resync says that events were lost and why: only a full snapshot
	// makes the peer whole again.
	Resync(reason string)
}

// SourceConfig configures a Source.
type SourceConfig struct {
	// NetNS is the network namespace whose table is synced; 0 for the
	// caller's own.
	NetNS int
	// ReadBuffer is the event socket's receive buffer;
	// 0 means DefaultEventBuffer.
	ReadBuffer int
	Filter     Filter
	Logger     *slog.Logger
	Clock      Clock
	// Backoff spaces attempts to reopen a failed event socket.
	Backoff Backoff
}

// DefaultEventBuffer is the event socket's receive buffer: about 250,000
// events of burst while the reader is busy. It is forced past
// net.core.rmem_max (the daemon runs as root).
const DefaultEventBuffer = 64 << 20

// Source reads the kernel's conntrack events, drops the flows that are
// not synced and hands the rest to a Sink. It never goes silent on a
// loss: an overrun of the socket buffer, an undecodable message or a
// failed socket is counted and answered with a resync, a fresh dump of
// the table.
type Source struct {
	cfg    SourceConfig
	filter atomic.Pointer[filter]
	events atomic.Uint64
	skips  atomic.Uint64

	mu   sync.Mutex // guards ln, dump and gaps
	ln   *ctnl.Listener
	dump *ctnl.Conn
	gaps counters
}

// NewSource subscribes to conntrack events at once, so that none is
// missed between now and the first snapshot.
func NewSource(cfg SourceConfig) (*Source, error) {
	if cfg.ReadBuffer == 0 {
		cfg.ReadBuffer = DefaultEventBuffer
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	if cfg.Backoff == (Backoff{}) {
		cfg.Backoff = Backoff{Min: DefaultBackoffMin, Max: DefaultBackoffMax}
	}
	s := &Source{cfg: cfg}
	s.filter.Store(cfg.Filter.compile())
	ln, err := ctnl.Listen(ctnl.Config{NetNS: cfg.NetNS, ReadBuffer: cfg.ReadBuffer})
	if err != nil {
		return nil, fmt.Errorf("statesync: source: %w", err)
	}
	dump, err := ctnl.Dial(ctnl.Config{NetNS: cfg.NetNS})
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("statesync: source: %w", err)
	}
	s.ln, s.dump = ln, dump
	return s, nil
}

// SetFilter replaces the filter, for address changes (DHCP, VIPs). Flows
// already synced stay synced until they end.
func (s *Source) SetFilter(f Filter) { s.filter.Store(f.compile()) }

// Close closes the sockets. Run returns once its socket is closed.
func (s *Source) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(s.ln.Close(), s.dump.Close())
}

// Run reads events until ctx ends, then closes the sockets. It returns
// nil when ctx ends.
func (s *Source) Run(ctx context.Context, sink Sink) error {
	stop := context.AfterFunc(ctx, func() { s.Close() })
	defer stop()
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	buf := make([]ctnl.Event, 0, 256) // reused: the sink keeps nothing of it
	for {
		evs, err := ln.ReceiveInto(buf[:0])
		if cap(evs) > cap(buf) {
			buf = evs
		}
		if ctx.Err() != nil {
			return nil
		}
		s.deliver(evs, sink)
		switch {
		case err == nil:
		case errors.Is(err, ctnl.ErrOverrun):
			s.gap(sink, "overrun", err)
		case evs != nil:
			// A decode error comes with the events that did decode.
			s.gap(sink, "decode", err)
		default:
			s.gap(sink, "listener", err)
			if ln, err = s.reopen(ctx); err != nil {
				return nil // ctx ended
			}
			sink.Resync("listener")
		}
	}
}

// deliver hands the events of synced flows to sink, all of one read at
// once. It filters evs in place.
func (s *Source) deliver(evs []ctnl.Event, sink Sink) {
	f := s.filter.Load()
	keep := evs[:0]
	for i := range evs {
		if f.skip(&evs[i].Entry) {
			continue
		}
		keep = append(keep, evs[i])
	}
	s.events.Add(uint64(len(evs)))
	s.skips.Add(uint64(len(evs) - len(keep)))
	if len(keep) > 0 {
		sink.Update(keep...)
	}
}

// gap counts a loss of events and asks for a resync.
func (s *Source) gap(sink Sink, reason string, err error) {
	s.mu.Lock()
	s.gaps.inc(reason)
	s.mu.Unlock()
	s.cfg.Logger.Warn("state sync: conntrack events lost; resyncing the peer", "reason", reason, "err", err)
	if reason != "listener" {
		sink.Resync(reason)
	}
}

// reopen replaces a failed event socket, retrying with backoff until it
// works or ctx ends.
func (s *Source) reopen(ctx context.Context) (*ctnl.Listener, error) {
	for attempt := 0; ; attempt++ {
		tick, stop := after(s.cfg.Clock, s.cfg.Backoff.Delay(attempt, mrand.Float64()))
		select {
		case <-ctx.Done():
			stop()
			return nil, ctx.Err()
		case <-tick:
		}
		ln, err := ctnl.Listen(ctnl.Config{NetNS: s.cfg.NetNS, ReadBuffer: s.cfg.ReadBuffer})
		if err != nil {
			s.cfg.Logger.Warn("state sync: reopen conntrack events", "err", err)
			continue
		}
		s.mu.Lock()
		old := s.ln
		s.ln = ln
		s.mu.Unlock()
		old.Close()
		if ctx.Err() != nil {
			ln.Close()
			return nil, ctx.Err()
		}
		return ln, nil
	}
}

// Snapshot dumps the table and returns the flows to sync. Entries that
// do not decode are left out and counted as a "decode" gap.
func (s *Source) Snapshot(ctx context.Context) ([]ctnl.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	dump := s.dump
	s.mu.Unlock()
	entries, err := dump.Dump()
	if err != nil {
		var ce *ctnl.Error
		if !errors.As(err, &ce) || ce.Op != "dump: decode" {
			return nil, fmt.Errorf("statesync: snapshot: %w", err)
		}
		s.mu.Lock()
		s.gaps.inc("decode")
		s.mu.Unlock()
		s.cfg.Logger.Warn("state sync: entries of the dump do not decode", "err", err)
	}
	f := s.filter.Load()
	out := entries[:0]
	for i := range entries {
		if !f.skip(&entries[i]) {
			out = append(out, entries[i])
		}
	}
	return out, nil
}

// Status returns the source's part of the status.
func (s *Source) Status() SourceStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := SourceStatus{Events: s.events.Load(), Filtered: s.skips.Load(), Gaps: s.gaps.snapshot()}
	if n, err := s.ln.ReadBuffer(); err == nil {
		st.ReadBuffer = n
	}
	return st
}
