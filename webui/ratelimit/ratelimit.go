// Package ratelimit slows password guessing: a token bucket per client
// network plus one global bucket, keyed on the TCP peer address only.
// X-Forwarded-For and friends are never read: the UI has no proxy in front,
// and a header would let a guesser pick a fresh "address" per request.
package ratelimit

import (
	"net/netip"
	"sync"
	"time"
)

// Config sets the buckets. Rates are tokens per second; one attempt costs
// one token.
type Config struct {
	PeerBurst   float64 // attempts a client network may make at once
	PeerRate    float64 // and then per second
	GlobalBurst float64
	GlobalRate  float64
	MaxPeers    int // buckets kept; the longest-idle one goes first
}

// DefaultConfig lets one network try 5 passwords, then one every 20 s, and
// everyone together 20, then one a second: an admin with typos is never
// held up long, and a guesser gets a few thousand tries a day at best.
// The global bucket also bounds the argon2id work guessers can cause.
func DefaultConfig() Config {
	return Config{PeerBurst: 5, PeerRate: 1.0 / 20, GlobalBurst: 20, GlobalRate: 1, MaxPeers: 4096}
}

// Limiter is safe for concurrent use. Memory is bounded by MaxPeers.
type Limiter struct {
	cfg    Config
	now    func() time.Time
	mu     sync.Mutex
	global bucket
	peers  map[netip.Prefix]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// New returns a Limiter; zero Config fields take DefaultConfig's values.
func New(cfg Config, now func() time.Time) *Limiter {
	def := DefaultConfig()
	if cfg.PeerBurst <= 0 {
		cfg.PeerBurst = def.PeerBurst
	}
	if cfg.PeerRate <= 0 {
		cfg.PeerRate = def.PeerRate
	}
	if cfg.GlobalBurst <= 0 {
		cfg.GlobalBurst = def.GlobalBurst
	}
	if cfg.GlobalRate <= 0 {
		cfg.GlobalRate = def.GlobalRate
	}
	if cfg.MaxPeers <= 0 {
		cfg.MaxPeers = def.MaxPeers
	}
	return &Limiter{
		cfg:    cfg,
		now:    now,
		global: bucket{tokens: cfg.GlobalBurst, last: now()},
		peers:  make(map[netip.Prefix]*bucket),
	}
}

// Key is the network a peer is limited as: its /32 for IPv4 and its /64
// for IPv6, since one IPv6 host can use a whole /64. IPv4-mapped IPv6 is
// treated as IPv4.
func Key(peer netip.Addr) netip.Prefix {
	peer = peer.Unmap().WithZone("")
	bits := 32
	if peer.Is6() {
		bits = 64
	}
	p, _ := peer.Prefix(bits) // fails only for an invalid Addr, whose zero Prefix is a key too
	return p
}

// Allow spends one attempt for peer and reports whether it may go ahead.
// A refused attempt spends nothing, so a guesser who keeps knocking waits
// no longer than one who pauses; the global bucket is only spent when the
// peer's bucket allows.
func (l *Limiter) Allow(peer netip.Addr) bool {
	now := l.now()
	k := Key(peer)
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.peers[k]
	if b == nil {
		if len(l.peers) >= l.cfg.MaxPeers {
			l.evict(now)
		}
		b = &bucket{tokens: l.cfg.PeerBurst, last: now}
		l.peers[k] = b
	}
	b.refill(now, l.cfg.PeerBurst, l.cfg.PeerRate)
	l.global.refill(now, l.cfg.GlobalBurst, l.cfg.GlobalRate)
	if b.tokens < 1 || l.global.tokens < 1 {
		return false
	}
	b.tokens--
	l.global.tokens--
	return true
}

// Len returns the number of peer buckets held.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.peers)
}

func (b *bucket) refill(now time.Time, burst, rate float64) {
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = min(burst, b.tokens+dt*rate)
	}
	b.last = now
}

// evict drops every bucket that has refilled (forgetting it changes
// nothing), or else the one idle longest.
func (l *Limiter) evict(now time.Time) {
	var idlest netip.Prefix
	var last time.Time
	for k, b := range l.peers {
		if b.tokens+now.Sub(b.last).Seconds()*l.cfg.PeerRate >= l.cfg.PeerBurst {
			delete(l.peers, k)
			continue
		}
		if last.IsZero() || b.last.Before(last) {
			idlest, last = k, b.last
		}
	}
	if len(l.peers) >= l.cfg.MaxPeers {
		delete(l.peers, idlest)
	}
}
