// Package session keeps the web UI's login sessions in memory. A session
// id is 256 random bits and is the only thing the browser holds; the store
// is keyed by the id's SHA-256, so a map lookup's timing cannot leak how
// much of a guessed id is right. A reboot ends every session.
package session

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"time"
)

// IDBytes is the session id's entropy: 256 bits.
const IDBytes = 32

// Defaults for Config.
const (
	DefaultIdle     = 30 * time.Minute // config WebUI.SessionIdle
	DefaultLifetime = 12 * time.Hour   // even an active session logs in again daily
	DefaultMax      = 64               // sessions kept; the oldest idle one goes first
)

// Config sets the store's timeouts and bound.
type Config struct {
	Idle     time.Duration // ends a session this long after its last request
	Lifetime time.Duration // ends a session this long after login
	Max      int           // sessions kept at once
}

// Session is one logged-in actor.
type Session struct {
	ID       string // the cookie value; never log it
	Actor    string
	Created  time.Time
	LastSeen time.Time
}

// Store holds sessions. It is safe for concurrent use.
type Store struct {
	cfg      Config
	now      func() time.Time
	mu       sync.Mutex
	sessions map[[32]byte]*Session
}

// NewStore returns an empty store; zero Config fields take the defaults.
func NewStore(cfg Config, now func() time.Time) *Store {
	if cfg.Idle <= 0 {
		cfg.Idle = DefaultIdle
	}
	if cfg.Lifetime <= 0 {
		cfg.Lifetime = DefaultLifetime
	}
	if cfg.Max <= 0 {
		cfg.Max = DefaultMax
	}
	return &Store{cfg: cfg, now: now, sessions: make(map[[32]byte]*Session)}
}

// NewID returns a fresh random session id, base64url-encoded.
func NewID() string {
	b := make([]byte, IDBytes)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Create starts a session for actor under a fresh id. Callers pass the id
// the browser presented as replaces: it is ended, so a login always rotates
// the id and an id planted before login (session fixation) is worthless.
func (s *Store) Create(actor, replaces string) Session {
	now := s.now()
	sess := &Session{ID: NewID(), Actor: actor, Created: now, LastSeen: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	if replaces != "" {
		delete(s.sessions, key(replaces))
	}
	s.expire(now)
	if len(s.sessions) >= s.cfg.Max {
		s.evictIdlest()
	}
	s.sessions[key(sess.ID)] = sess
	return *sess
}

// Get returns the live session with id and marks it used now. An expired
// session is removed and reported missing.
func (s *Store) Get(id string) (Session, bool) {
	if id == "" {
		return Session{}, false
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[key(id)]
	if !ok {
		return Session{}, false
	}
	if s.expired(sess, now) {
		delete(s.sessions, key(id))
		return Session{}, false
	}
	sess.LastSeen = now
	return *sess, true
}

// Delete ends the session with id (logout). Unknown ids are ignored.
func (s *Store) Delete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, key(id))
}

// DeleteActor ends every session of actor, as a password change must.
func (s *Store) DeleteActor(actor string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, sess := range s.sessions {
		if sess.Actor == actor {
			delete(s.sessions, k)
		}
	}
}

// Len returns the number of sessions held, expired ones included until
// the next sweep.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

func (s *Store) expired(sess *Session, now time.Time) bool {
	return now.Sub(sess.LastSeen) >= s.cfg.Idle || now.Sub(sess.Created) >= s.cfg.Lifetime
}

func (s *Store) expire(now time.Time) {
	for k, sess := range s.sessions {
		if s.expired(sess, now) {
			delete(s.sessions, k)
		}
	}
}

func (s *Store) evictIdlest() {
	var oldest [32]byte
	var seen time.Time
	for k, sess := range s.sessions {
		if seen.IsZero() || sess.LastSeen.Before(seen) {
			oldest, seen = k, sess.LastSeen
		}
	}
	delete(s.sessions, oldest)
}

func key(id string) [32]byte { return sha256.Sum256([]byte(id)) }
