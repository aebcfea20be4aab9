package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// APITokenPrefix marks Rampart API tokens so secret scanners and humans
// recognize one pasted where it should not be.
const APITokenPrefix = "rpt_"

// Limits on API tokens: a handful of scripts, not a user database.
const (
	MaxAPITokens       = 32
	MaxAPITokenNameLen = 64
)

// APIToken is a stored script token. Only the SHA-256 of the secret is kept:
// the secret is 256 random bits, so a slow hash would add nothing but CPU
// on every API call.
type APIToken struct {
	ID      string    `json:"id"` // public; names the token in lists and revocations
	Name    string    `json:"name"`
	Hash    string    `json:"sha256"`
	Created time.Time `json:"created"`
}

// NewAPIToken makes a token named name. The returned secret is shown to the
// admin once and never stored.
func NewAPIToken(name string, now time.Time) (secret string, t APIToken, err error) {
	if err := CheckTokenName(name); err != nil {
		return "", APIToken{}, err
	}
	id := make([]byte, 8)
	rand.Read(id)
	key := make([]byte, 32)
	rand.Read(key)
	secret = APITokenPrefix + base64.RawURLEncoding.EncodeToString(key)
	sum := sha256.Sum256([]byte(secret))
	return secret, APIToken{ID: hex.EncodeToString(id), Name: name, Hash: hex.EncodeToString(sum[:]), Created: now.UTC()}, nil
}

// MatchAPIToken returns the token whose secret is secret. Every stored hash
// is compared in constant time, so timing does not reveal which one is
// near.
func MatchAPIToken(tokens []APIToken, secret string) (APIToken, bool) {
	if !strings.HasPrefix(secret, APITokenPrefix) || len(secret) > 128 {
		return APIToken{}, false
	}
	sum := sha256.Sum256([]byte(secret))
	var found APIToken
	ok := false
	for _, t := range tokens {
		want, err := hex.DecodeString(t.Hash)
		if err == nil && subtle.ConstantTimeCompare(sum[:], want) == 1 {
			found, ok = t, true
		}
	}
	return found, ok
}

// CheckTokenName reports why name cannot name an API token, or nil.
func CheckTokenName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return errors.New("token name is empty")
	case len(name) > MaxAPITokenNameLen:
		return fmt.Errorf("token name is longer than %d bytes", MaxAPITokenNameLen)
	}
	for _, r := range name {
		if !unicode.IsPrint(r) || r == unicode.ReplacementChar {
			return errors.New("token name contains unprintable characters")
		}
	}
	return nil
}
