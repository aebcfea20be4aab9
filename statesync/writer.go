package statesync

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"rampart/statesync/ctnl"
)

// errReaderDone tells the session that the acknowledgement reader ended;
// its own error says why.
var errReaderDone = errors.New("acknowledgement reader ended")

// writer is the sending half of one session. It runs in one goroutine
// and owns the connection's write side.
type writer struct {
	s         *Sender
	c         net.Conn
	readDone  <-chan struct{}
	healthy   bool // a bulk update went through
	buf       []byte
	recs      []Record
	lastWrite time.Time
	bulk      *bulkRun
}

// bulkRun is a bulk update being sent, frame by frame.
type bulkRun struct {
	reason  string
	entries []ctnl.Entry
	pos     int
	started time.Time
}

// loop sends until the session fails or ctx ends. Each turn sends at
// most one frame, picked in this order: the next frame of a bulk update;
// queued changes when a frame's worth is queued or the oldest has waited
// FlushDelay; a ping when nothing was sent for Keepalive. Changes that
// arrive during a bulk update wait until it ends, so that they are
// applied after the snapshot they may be newer than. Nothing is sent
// while Window frames are in flight; a frame unacknowledged for
// PeerTimeout ends the session.
func (w *writer) loop(ctx context.Context) error {
	s, t := w.s, w.s.cfg.Tuning
	w.lastWrite = s.cfg.Clock.Now()
	for {
		now := s.cfg.Clock.Now()
		s.mu.Lock()
		// Built frames, when there are some, are older than the queue.
		n := s.built.n + s.pend.len()
		full := s.built.full(t.FrameEntries) || s.pend.len() >= t.FrameEntries
		oldest, ok := s.built.oldest()
		if !ok {
			oldest, _ = s.pend.oldest()
		}
		room := len(s.inflight) < t.Window
		var ackDue time.Time
		if len(s.inflight) > 0 {
			ackDue = s.inflight[0].sent.Add(t.PeerTimeout)
		}
		s.mu.Unlock()
		if !ackDue.IsZero() && !now.Before(ackDue) {
			return fmt.Errorf("no acknowledgement from %s in %v", s.cfg.Peer, t.PeerTimeout)
		}
		if err := w.writeRequests(); err != nil {
			return err
		}
		if room && w.bulk == nil {
			if reason := s.takeResync(); reason != "" {
				if err := w.startBulk(ctx, reason); err != nil {
					return err
				}
				continue
			}
		}
		var next time.Time
		switch {
		case !room:
			next = ackDue
		case w.bulk != nil:
			if err := w.bulkStep(); err != nil {
				return err
			}
			continue
		case n > 0 && (full || !now.Before(oldest.Add(t.FlushDelay))):
			if err := w.sendChanges(); err != nil {
				return err
			}
			continue
		case n > 0:
			next = oldest.Add(t.FlushDelay)
		default:
			next = w.lastWrite.Add(t.Keepalive)
			if !now.Before(next) {
				if err := w.send(&Frame{Type: TypePing}, time.Time{}); err != nil {
					return err
				}
				continue
			}
		}
		if !ackDue.IsZero() && ackDue.Before(next) {
			next = ackDue
		}
		if err := w.wait(ctx, next.Sub(now)); err != nil {
			return err
		}
	}
}

// wait blocks for d or until something changes: a change queued, an
// acknowledgement, the reader ending, ctx ending.
func (w *writer) wait(ctx context.Context, d time.Duration) error {
	tick, stop := after(w.s.cfg.Clock, d)
	defer stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-w.readDone:
		return errReaderDone
	case <-w.s.wake:
	case <-w.s.acked:
	case <-tick:
	}
	return nil
}

// takeResync returns the reason of a requested resync and clears it,
// together with the queued changes: the snapshot about to be taken
// supersedes them.
func (s *Sender) takeResync() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.resync
	if r != "" {
		s.resync = ""
		s.built.reset()
		s.pend.reset()
		s.st.bulk = true
	}
	return r
}

// startBulk takes the snapshot and sends the bulk-begin frame.
func (w *writer) startBulk(ctx context.Context, reason string) error {
	s := w.s
	started := s.cfg.Clock.Now()
	entries, err := s.cfg.Snapshot(ctx)
	if err != nil {
		return fmt.Errorf("snapshot for the bulk update: %w", err)
	}
	valid := entries[:0]
	invalid := 0
	for i := range entries {
		if entries[i].Validate() == nil {
			valid = append(valid, entries[i])
		} else {
			invalid++
		}
	}
	if invalid > 0 {
		s.mu.Lock()
		for range invalid {
			s.st.drops.inc("invalid")
		}
		s.mu.Unlock()
	}
	w.bulk = &bulkRun{reason: reason, entries: valid, started: started}
	return w.send(&Frame{Type: TypeBulkBegin}, time.Time{})
}

// bulkStep sends the next frame of the bulk update: entries, or the end.
func (w *writer) bulkStep() error {
	s, b := w.s, w.bulk
	if b.pos < len(b.entries) {
		end := min(b.pos+s.cfg.Tuning.FrameEntries, len(b.entries))
		recs := w.recs[:0]
		for i := b.pos; i < end; i++ {
			recs = append(recs, Record{Op: OpUpdate, Entry: b.entries[i]})
		}
		b.pos = end
		return w.send(&Frame{Type: TypeEntries, Records: recs}, time.Time{})
	}
	if err := w.send(&Frame{Type: TypeBulkEnd, Count: uint32(len(b.entries))}, time.Time{}); err != nil {
		return err
	}
	now := s.cfg.Clock.Now()
	s.mu.Lock()
	s.st.resyncs.inc(b.reason)
	s.st.bulk = false
	s.st.bulkEntries = len(b.entries)
	s.st.bulkDuration = now.Sub(b.started)
	s.mu.Unlock()
	s.cfg.Logger.Info("state sync: bulk update sent", "peer", s.cfg.Peer, "reason", b.reason, "entries", len(b.entries), "duration", now.Sub(b.started))
	w.bulk = nil
	w.healthy = true
	return nil
}

// sendChanges sends the oldest built frame if there is one, else up to
// a frame's worth of queued changes: built changes are older than any
// queued one.
func (w *writer) sendChanges() error {
	s := w.s
	s.mu.Lock()
	if f, ok := s.built.take(); ok {
		s.mu.Unlock()
		err := w.sendBuilt(&f)
		s.mu.Lock()
		s.built.recycle(f.buf)
		s.mu.Unlock()
		return err
	}
	recs, since := s.pend.take(s.cfg.Tuning.FrameEntries, w.recs[:0])
	s.mu.Unlock()
	return w.send(&Frame{Type: TypeEntries, Records: recs}, since)
}

// sendBuilt numbers and writes a built frame.
func (w *writer) sendBuilt(f *builtFrame) error {
	seq, lag, now := w.number(f.n, f.since)
	err := putEntriesHeader(f.buf, seq, lag)
	if err == nil {
		err = writeBytes(w.c, f.buf, w.s.cfg.Tuning.PeerTimeout)
	}
	w.lastWrite = now
	if err != nil {
		return fmt.Errorf("send %v frame to %s: %w", TypeEntries, w.s.cfg.Peer, err)
	}
	return nil
}

// send numbers a sequenced frame, records it as in flight and writes it.
// since is when its oldest change was received, zero for frames that
// carry no lag sample.
func (w *writer) send(f *Frame, since time.Time) error {
	s := w.s
	var now time.Time
	f.Seq, f.Lag, now = w.number(len(f.Records), since)
	var err error
	w.buf, err = writeFrame(w.c, w.buf, f, s.cfg.Tuning.PeerTimeout)
	w.lastWrite = now
	w.recs = f.Records[:0]
	if err != nil {
		return fmt.Errorf("send %v frame to %s: %w", f.Type, s.cfg.Peer, err)
	}
	return nil
}

// number gives the next frame, of records changes, its sequence number
// and records it as in flight. It returns the lag to carry and the time
// of sending.
func (w *writer) number(records int, since time.Time) (seq uint64, lag time.Duration, now time.Time) {
	s := w.s
	now = s.cfg.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	s.inflight = append(s.inflight, inflight{seq: s.seq, since: since, sent: now})
	s.st.frames++
	s.st.entries += uint64(records)
	return s.seq, s.lags.last, now
}
