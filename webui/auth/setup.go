package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"strings"
	"sync"
	"time"
)

// SetupTokenBytes is the setup token's entropy: 160 bits, typed by hand
// from the console as 8 groups of 4 base32 characters.
const SetupTokenBytes = 20

// DefaultSetupTTL is how long a setup token lives. An expired token is
// replaced (and printed again) the next time someone asks for it, so a
// short life costs the admin nothing and limits a token photographed off a
// screen.
const DefaultSetupTTL = time.Hour

// Setup holds the one-time setup token. The token lives only in memory and
// is never written to the stick: the stick is readable by anyone holding
// it, and a reboot that issues a fresh token costs nothing. Only its
// SHA-256 digest is compared, in constant time, so a guess's length and
// prefix tell the guesser nothing.
type Setup struct {
	mu      sync.Mutex
	ttl     time.Duration
	now     func() time.Time
	token   string
	digest  [32]byte
	expires time.Time
	used    bool
	issued  func(token string, expires time.Time)
}

// NewSetup returns a Setup whose tokens live for ttl. issued, if not nil,
// is called with every new token so the caller can print it on the console.
func NewSetup(ttl time.Duration, now func() time.Time, issued func(string, time.Time)) *Setup {
	if ttl <= 0 {
		ttl = DefaultSetupTTL
	}
	return &Setup{ttl: ttl, now: now, issued: issued}
}

// Current returns the live token, issuing a fresh one when there is none or
// it expired. It returns "" once a token has been redeemed. The issued
// callback runs after the lock is released, so it may call back in.
func (s *Setup) Current() (token string, expires time.Time) {
	s.mu.Lock()
	fresh := false
	if !s.used && (s.token == "" || !s.now().Before(s.expires)) {
		s.issue()
		fresh = true
	}
	token, expires = s.token, s.expires
	s.mu.Unlock()
	if fresh && s.issued != nil {
		s.issued(token, expires)
	}
	return token, expires
}

func (s *Setup) issue() {
	b := make([]byte, SetupTokenBytes)
	rand.Read(b)
	raw := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
	var groups []string
	for i := 0; i < len(raw); i += 4 {
		groups = append(groups, raw[i:min(i+4, len(raw))])
	}
	s.token = strings.Join(groups, "-")
	s.digest = sha256.Sum256([]byte(NormalizeSetupToken(s.token)))
	s.expires = s.now().Add(s.ttl)
}

// Check reports whether candidate is the live, unused, unexpired token.
// It does not consume it: the caller redeems it with Redeem once the new
// password is safely stored.
func (s *Setup) Check(candidate string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.check(candidate)
}

func (s *Setup) check(candidate string) bool {
	if s.used || s.token == "" || !s.now().Before(s.expires) {
		return false
	}
	d := sha256.Sum256([]byte(NormalizeSetupToken(candidate)))
	return subtle.ConstantTimeCompare(d[:], s.digest[:]) == 1
}

// Redeem consumes the token for good: no later Check or Current succeeds.
func (s *Setup) Redeem() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.used = true
	s.token = ""
	s.digest = [32]byte{}
}

// NormalizeSetupToken forgives what a human does when copying a token off a
// console: lower case, dashes left out or doubled, spaces.
func NormalizeSetupToken(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '-' || r == ' ' || r == '\t':
			return -1
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		}
		return r
	}, s)
}
