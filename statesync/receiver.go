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
	"net"
	"sync"
	"time"
)

// ReceiverConfig configures a Receiver.
type ReceiverConfig struct {
	Identity Identity
	Logger   *slog.Logger
	Clock    Clock
	Tuning   Tuning
	// OnRequest answers the peer's requests; nil refuses them.
	OnRequest RequestHandler

	versions versions // tests only: speak another protocol version
}

// Receiver accepts the peer's sessions, applies its stream to the Cache
// and acknowledges it. It serves one session at a time: a new
// authenticated session ends the previous one (the peer reconnected and
// the old connection is half dead), so frames of two sessions are never
// interleaved.
type Receiver struct {
	cfg        ReceiverConfig
	tls        *tls.Config
	instance   uint64
	cache      *Cache
	bulkDone   chan struct{}
	bulkOnce   sync.Once
	handshakes chan struct{} // bounds handshakes in progress
	serving    sync.Mutex    // held by the session that applies frames

	mu        sync.Mutex
	cur       net.Conn // the newest authenticated session
	st        receiverCounters
	watchStop func() bool // the bulk watchdog
	watchGen  uint64

	onApply func(*Frame) // tests only: sees every frame applied, in order
}

type receiverCounters struct {
	connected       bool
	lastFrame       time.Time
	peerLag         time.Duration
	bulks           uint64
	bulkDone        bool
	frames, entries uint64
	authFailures    uint64
	versionRefusals uint64
	protocolErrors  uint64
	lastErr         string
	lastErrAt       time.Time
	alarm           string
	lastCommit      *CommitResult
	lastInstance    uint64
	lastSeq         uint64
}

// maxHandshakes bounds the TLS handshakes a receiver runs at once: the
// sync link has one legitimate client.
const maxHandshakes = 4

// ackEvery is the most frames a receiver applies before it acknowledges,
// when more are already buffered.
const ackEvery = 8

// NewReceiver checks cfg and returns a Receiver; Serve starts it.
func NewReceiver(cfg ReceiverConfig) (*Receiver, error) {
	tc, err := cfg.Identity.tlsConfig(true)
	if err != nil {
		return nil, fmt.Errorf("statesync: receiver: %w", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = SystemClock{}
	}
	cfg.Tuning = cfg.Tuning.withDefaults()
	cfg.versions = cfg.versions.orDefault()
	var b [8]byte
	_, _ = rand.Read(b[:])
	return &Receiver{
		cfg:        cfg,
		tls:        tc,
		instance:   binary.BigEndian.Uint64(b[:]),
		cache:      NewCache(cfg.Tuning.MaxCache),
		bulkDone:   make(chan struct{}),
		handshakes: make(chan struct{}, maxHandshakes),
	}, nil
}

// Cache returns the receiver's cache.
func (r *Receiver) Cache() *Cache { return r.cache }

// BulkDone is closed when the first bulk update from the peer is
// complete, or when BulkTimeout passed since Serve started without one:
// then Status().Receiver.Alarm says so. The boot hold-down of CARP waits
// for it, and so never lasts forever (opnsense/core#10858).
func (r *Receiver) BulkDone() <-chan struct{} { return r.bulkDone }

// Serve accepts sessions on ln until ctx ends, and closes ln. It returns
// nil when ctx ends.
func (r *Receiver) Serve(ctx context.Context, ln net.Listener) error {
	r.armWatchdog(fmt.Sprintf("no complete bulk update from the peer within %v of start", r.cfg.Tuning.BulkTimeout))
	defer r.stopWatchdog()
	var wg sync.WaitGroup
	defer wg.Wait() // after cancel: the sessions end with ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("statesync: accept: %w", err)
			}
			r.cfg.Logger.Warn("state sync: accept failed", "err", err)
			tick, stop := after(r.cfg.Clock, 100*time.Millisecond)
			select {
			case <-tick:
			case <-ctx.Done():
				stop()
			}
			continue
		}
		select {
		case r.handshakes <- struct{}{}:
		default:
			c.Close()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.handle(ctx, c)
		}()
	}
}

// handle runs one session: TLS, hello, then frames until it fails.
func (r *Receiver) handle(ctx context.Context, raw net.Conn) {
	defer raw.Close()
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()
	peer := raw.RemoteAddr().String()
	c := tls.Server(raw, r.tls)
	hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	err := c.HandshakeContext(hctx)
	cancel()
	var hello Hello
	br := bufio.NewReaderSize(c, 64<<10)
	if err != nil {
		err = fmt.Errorf("TLS handshake: %w", authError(err))
	} else if hello, _, err = serverHello(c, br, r.cfg.versions, r.instance); err != nil {
		err = fmt.Errorf("hello: %w", err)
	}
	<-r.handshakes
	if err != nil {
		if ctx.Err() == nil {
			r.failed(peer, err)
		}
		return
	}
	release := r.takeOver(raw) // closing raw ends a session at once; a TLS close could block on a stalled peer
	defer release()
	r.cfg.Logger.Info("state sync: peer connected", "peer", peer)
	err = r.serve(c, br, hello)
	if ctx.Err() == nil {
		r.failed(peer, err)
	}
}

// takeOver makes c the session that applies frames. It ends the current
// session and waits for it to let go; a session that is itself ended
// while it waits finds its connection closed and leaves at once.
func (r *Receiver) takeOver(c net.Conn) (release func()) {
	r.mu.Lock()
	if r.cur != nil {
		r.cur.Close()
	}
	r.cur = c
	r.mu.Unlock()
	r.serving.Lock()
	r.mu.Lock()
	r.st.connected = true
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		if r.cur == c {
			r.cur = nil
		}
		r.st.connected = false
		r.mu.Unlock()
		r.serving.Unlock()
	}
}

// failed records why a session ended and logs it, at error level for
// what does not heal by itself: authentication and version refusals.
func (r *Receiver) failed(peer string, err error) {
	if err == nil {
		return
	}
	r.mu.Lock()
	r.st.lastErr, r.st.lastErrAt = err.Error(), r.cfg.Clock.Now()
	var pe *protocolError
	switch {
	case errors.Is(err, ErrAuth):
		r.st.authFailures++
	case errors.Is(err, ErrVersion):
		r.st.versionRefusals++
	case errors.As(err, &pe):
		r.st.protocolErrors++
	}
	r.mu.Unlock()
	lvl := slog.LevelWarn
	if errors.Is(err, ErrAuth) || errors.Is(err, ErrVersion) || pe != nil {
		lvl = slog.LevelError
	}
	r.cfg.Logger.Log(context.Background(), lvl, "state sync: session from peer ended", "peer", peer, "err", err)
}

// Status returns the receiver's part of the status.
func (r *Receiver) Status() ReceiverStatus {
	now := r.cfg.Clock.Now()
	cs := r.cache.Stats()
	r.mu.Lock()
	defer r.mu.Unlock()
	st := ReceiverStatus{
		PeerConnected:   r.st.connected,
		LastSyncAge:     age(now, r.st.lastFrame),
		PeerLag:         r.st.peerLag,
		CacheSize:       cs.Size,
		BulkDone:        r.st.bulkDone,
		BulkInProgress:  cs.InBulk,
		Bulks:           r.st.bulks,
		Expired:         cs.Expired,
		FramesApplied:   r.st.frames,
		EntriesApplied:  r.st.entries,
		AuthFailures:    r.st.authFailures,
		VersionRefusals: r.st.versionRefusals,
		ProtocolErrors:  r.st.protocolErrors,
		LastError:       r.st.lastErr,
		LastErrorAge:    age(now, r.st.lastErrAt),
		Alarm:           r.st.alarm,
	}
	if cs.Drops > 0 {
		st.Drops = map[string]uint64{"cache_full": cs.Drops}
	}
	if c := r.st.lastCommit; c != nil {
		cp := *c
		st.LastCommit = &cp
	}
	return st
}
