package statesync

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"slices"
	"sync"
	"time"

	"rampart/statesync/ctnl"
)

// SenderConfig configures a Sender.
type SenderConfig struct {
	// Peer is the receiver's address, host:port, on the sync link.
	Peer     string
	Identity Identity
	// Snapshot returns the current state of every flow to sync: the
	// content of the bulk update that starts every session and follows
	// every gap. In the daemon it is Source.Snapshot, a kernel dump.
	Snapshot func(ctx context.Context) ([]ctnl.Entry, error)
	// Dial opens the TCP connection; nil means a net.Dialer.
	Dial   func(ctx context.Context, network, addr string) (net.Conn, error)
	Logger *slog.Logger
	Clock  Clock
	Tuning Tuning

	versions versions // tests only: speak another protocol version
}

// Sender streams this node's conntrack changes to the peer. Changes come
// in through Update; Run keeps a session to the peer's Receiver up, and
// each session begins with a bulk update of the whole table.
//
// While no session is up, changes are not queued at all: the bulk update
// of the next session carries their result.
type Sender struct {
	cfg      SenderConfig
	tls      *tls.Config
	instance uint64
	wake     chan struct{} // a change to send or a resync to do
	acked    chan struct{} // the window opened

	mu        sync.Mutex
	built     built
	pend      pending
	accepting bool   // a session is up: queue changes
	resync    string // reason of the resync to do; "" for none
	seq       uint64 // last sequence number used
	inflight  []inflight
	lags      lagRing
	st        senderCounters

	reqID    uint64
	reqQueue []*outRequest          // to write
	waiting  map[uint64]*outRequest // written or queued, not answered
}

// inflight is a sequenced frame waiting for its acknowledgement.
type inflight struct {
	seq   uint64
	since time.Time // oldest change it carries; zero for bulk and pings
	sent  time.Time
}

type senderCounters struct {
	connected       bool
	connects        uint64
	reconnects      uint64
	lastAck         time.Time
	resyncs, drops  counters
	coalesced       uint64
	frames, entries uint64
	authFailures    uint64
	versionRefusals uint64
	lastErr         string
	lastErrAt       time.Time
	bulk            bool
	bulkEntries     int
	bulkDuration    time.Duration
}

// NewSender checks cfg and returns a Sender; Run starts it.
func NewSender(cfg SenderConfig) (*Sender, error) {
	if cfg.Peer == "" || cfg.Snapshot == nil {
		return nil, errors.New("statesync: sender: no peer address or no snapshot function")
	}
	tc, err := cfg.Identity.tlsConfig(false)
	if err != nil {
		return nil, fmt.Errorf("statesync: sender: %w", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	if cfg.Dial == nil {
		var d net.Dialer
		cfg.Dial = d.DialContext
	}
	cfg.Tuning = cfg.Tuning.withDefaults()
	cfg.versions = cfg.versions.orDefault()
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read does not fail
	return &Sender{
		cfg:      cfg,
		tls:      tc,
		instance: binary.BigEndian.Uint64(b[:]),
		wake:     make(chan struct{}, 1),
		acked:    make(chan struct{}, 1),
		pend:     newPending(),
	}, nil
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Update queues conntrack events for the peer: encoded at once into
// frames while nothing waits and the window has room (see built), else
// in the pending queue, each merged with the queued change of the same
// flow if there is one. When the queue is full a change is dropped and a
// resync scheduled: the bulk update carries the flow's state instead.
// Update never blocks on the network and keeps nothing of evs. The
// events of one read go in under one lock.
func (s *Sender) Update(evs ...ctnl.Event) {
	now := s.cfg.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.accepting {
		return
	}
	wake := false
	for i := range evs {
		wake = s.updateLocked(&evs[i], now) || wake
	}
	if wake {
		signal(s.wake)
	}
}

// updateLocked queues one event and reports whether the writer should
// wake: a built frame or the queue got its first change or a frame's
// worth.
func (s *Sender) updateLocked(ev *ctnl.Event, now time.Time) bool {
	t := &s.cfg.Tuning
	op := OpUpdate
	if ev.Type == ctnl.EventDestroy {
		op = OpDestroy
	}
	// During a bulk update changes wait in the queue: coalesced there, a
	// change read before the snapshot was taken goes after the bulk as
	// the flow's latest state, never as an older one.
	if s.pend.len() == 0 && !s.st.bulk {
		ok, wake, err := s.built.add(op, &ev.Entry, now, t.FrameEntries, t.Window-len(s.inflight))
		if err != nil {
			s.st.drops.inc("invalid")
			return false
		}
		if ok {
			return wake
		}
	}
	if err := ev.Entry.Validate(); err != nil {
		s.st.drops.inc("invalid")
		return false
	}
	// Built records count against the queue's bound.
	switch s.pend.add(op, &ev.Entry, now, t.MaxPending-s.built.n) {
	case added:
		n := s.pend.len()
		return n == 1 || n == t.FrameEntries
	case coalesced:
		s.st.coalesced++
	case refused:
		s.st.drops.inc("pending_full")
		s.requestResyncLocked("pending_full")
	}
	return false
}

// Resync schedules a bulk update: the source lost events (reason says
// how) and only a full snapshot makes the peer whole again.
func (s *Sender) Resync(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requestResyncLocked(reason)
}

func (s *Sender) requestResyncLocked(reason string) {
	if s.accepting && s.resync == "" {
		s.resync = reason
		signal(s.wake)
	}
}

// Run keeps a session with the peer up until ctx ends, reconnecting with
// backoff. It returns nil when ctx ends.
func (s *Sender) Run(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		healthy, err := s.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		s.failed(err)
		if healthy {
			attempt = 0
		}
		d := s.cfg.Tuning.Backoff.Delay(attempt, mrand.Float64())
		tick, stop := after(s.cfg.Clock, d)
		select {
		case <-ctx.Done():
			stop()
			return nil
		case <-tick:
		}
		s.mu.Lock()
		s.st.reconnects++
		s.mu.Unlock()
	}
}

// failed records why a session ended and logs it: an authentication
// failure or a version refusal at error level, since neither heals by
// itself.
func (s *Sender) failed(err error) {
	if err == nil {
		err = errors.New("session ended")
	}
	s.mu.Lock()
	s.st.lastErr, s.st.lastErrAt = err.Error(), s.cfg.Clock.Now()
	switch {
	case errors.Is(err, ErrAuth):
		s.st.authFailures++
	case errors.Is(err, ErrVersion):
		s.st.versionRefusals++
	}
	s.mu.Unlock()
	lvl := slog.LevelWarn
	if errors.Is(err, ErrAuth) || errors.Is(err, ErrVersion) {
		lvl = slog.LevelError
	}
	s.cfg.Logger.Log(context.Background(), lvl, "state sync: session to peer ended", "peer", s.cfg.Peer, "err", err)
}

// session runs one connection: TLS, hello, then the write loop, with
// acknowledgements read by a second goroutine. healthy reports that a
// bulk update went through, which resets the backoff.
func (s *Sender) session(ctx context.Context) (healthy bool, err error) {
	dctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	raw, err := s.cfg.Dial(dctx, "tcp", s.cfg.Peer)
	if err != nil {
		return false, fmt.Errorf("dial %s: %w", s.cfg.Peer, err)
	}
	defer raw.Close()
	c := tls.Client(raw, s.tls)
	if err := c.HandshakeContext(dctx); err != nil {
		return false, fmt.Errorf("TLS handshake with %s: %w", s.cfg.Peer, authError(err))
	}
	r := bufio.NewReaderSize(c, 64<<10)
	hello := Hello{Instance: s.instance, Keepalive: s.cfg.Tuning.Keepalive}
	if _, err := clientHello(c, r, s.cfg.versions, hello); err != nil {
		return false, fmt.Errorf("hello with %s: %w", s.cfg.Peer, err)
	}
	if err := c.SetReadDeadline(time.Time{}); err != nil {
		return false, err
	}
	s.begin()
	defer s.end()
	s.cfg.Logger.Info("state sync: connected to peer", "peer", s.cfg.Peer)

	var readErr error
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		readErr = s.readAcks(r)
	}()
	w := writer{s: s, c: c, readDone: readDone}
	err = w.loop(ctx)
	raw.Close() // unblocks the reader; a TLS close could block on a stalled peer
	<-readDone
	if errors.Is(err, errReaderDone) {
		err = readErr
	}
	return w.healthy, err
}

// begin starts queueing changes and schedules the session's bulk update.
func (s *Sender) begin() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accepting = true
	s.resync = "connect"
	s.st.connected = true
	s.st.connects++
}

// end forgets what the session had queued or in flight: the next
// session's bulk update supersedes it.
func (s *Sender) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accepting = false
	s.resync = ""
	s.built.reset()
	s.pend.reset()
	s.inflight = nil
	s.st.connected = false
	s.st.bulk = false
	s.failRequestsLocked()
}

// readAcks reads the receiver's acknowledgements until the connection
// fails or the receiver refuses the session.
func (s *Sender) readAcks(r *bufio.Reader) error {
	var buf []byte
	for {
		f, b, err := ReadFrame(r, buf, nil)
		buf = b
		if err != nil {
			return fmt.Errorf("read from %s: %w", s.cfg.Peer, err)
		}
		switch f.Type {
		case TypeAck:
			if err := s.ack(f.Seq); err != nil {
				return err
			}
		case TypeResponse:
			s.answer(&f)
		case TypeRefuse:
			return &RefusedError{Code: f.Code, Reason: f.Reason}
		default:
			return fmt.Errorf("unexpected %v frame from %s", f.Type, s.cfg.Peer)
		}
	}
}

// ack retires the frames up to seq and takes a lag sample from each that
// carried changes.
func (s *Sender) ack(seq uint64) error {
	now := s.cfg.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if seq > s.seq {
		return fmt.Errorf("peer acknowledged frame %d, last sent is %d", seq, s.seq)
	}
	i := 0
	for ; i < len(s.inflight) && s.inflight[i].seq <= seq; i++ {
		if f := s.inflight[i]; !f.since.IsZero() {
			s.lags.add(now.Sub(f.since))
		}
	}
	s.inflight = slices.Delete(s.inflight, 0, i)
	s.st.lastAck = now
	signal(s.acked)
	return nil
}

// Connected reports whether a session is up, without the cost of Status.
func (s *Sender) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.connected
}

// Status returns the sender's part of the status.
func (s *Sender) Status() SenderStatus {
	now := s.cfg.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	st := SenderStatus{
		PeerConnected:    s.st.connected,
		Connects:         s.st.connects,
		Reconnects:       s.st.reconnects,
		LastAckAge:       age(now, s.st.lastAck),
		Pending:          s.pend.len() + s.built.n,
		InFlight:         len(s.inflight),
		Resyncs:          s.st.resyncs.snapshot(),
		Drops:            s.st.drops.snapshot(),
		Coalesced:        s.st.coalesced,
		FramesSent:       s.st.frames,
		EntriesSent:      s.st.entries,
		AuthFailures:     s.st.authFailures,
		VersionRefusals:  s.st.versionRefusals,
		LastError:        s.st.lastErr,
		LastErrorAge:     age(now, s.st.lastErrAt),
		BulkInProgress:   s.st.bulk,
		LastBulkEntries:  s.st.bulkEntries,
		LastBulkDuration: s.st.bulkDuration,
	}
	st.Lag, st.LagP99, st.LagMax, st.LagSamples = s.lags.stats()
	return st
}
