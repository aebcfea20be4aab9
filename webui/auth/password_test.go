package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func testHasher(t testing.TB) *Hasher {
	t.Helper()
	h, err := NewHasher(TestParams(), 2)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHashVerify(t *testing.T) {
	h := testHasher(t)
	ctx := context.Background()
	enc, err := h.Hash(ctx, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("encoding %q lacks the PHC prefix", enc)
	}
	if err := h.Verify(ctx, enc, "correct horse battery"); err != nil {
		t.Errorf("Verify(right password) = %v", err)
	}
	if err := h.Verify(ctx, enc, "correct horse batterY"); !errors.Is(err, ErrMismatch) {
		t.Errorf("Verify(wrong password) = %v, want ErrMismatch", err)
	}
	enc2, _ := h.Hash(ctx, "correct horse battery")
	if enc == enc2 {
		t.Error("two hashes of one password are equal; the salt is not random")
	}
}

// Verify reads the costs from the hash, so hashes made with older
// parameters keep working after the defaults change.
func TestVerifyUsesStoredParams(t *testing.T) {
	old, err := NewHasher(Params{MemoryKiB: 128, Time: 2, Threads: 2, SaltLen: 8, KeyLen: 16}, 1)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := old.Hash(context.Background(), "an older password")
	if err != nil {
		t.Fatal(err)
	}
	if err := testHasher(t).Verify(context.Background(), enc, "an older password"); err != nil {
		t.Errorf("Verify with other params = %v", err)
	}
}

func TestVerifyRejectsBadEncodings(t *testing.T) {
	h := testHasher(t)
	good, _ := h.Hash(context.Background(), "x")
	for _, enc := range []string{
		"",
		"plain",
		"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw",
		"$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw",
		"$argon2id$v=19$m=64,t=1000,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw",
		"$argon2id$v=19$m=64,t=1,p=0$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5aw",
		"$argon2id$v=19$m=64,t=1,p=1$!!$a2V5a2V5a2V5a2V5a2V5aw",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5",
		good + "$junk",
		good + "!",
		strings.Replace(good, "m=64", "m=064", 1),
	} {
		err := h.Verify(context.Background(), enc, "x")
		if err == nil || errors.Is(err, ErrMismatch) {
			t.Errorf("Verify(%q) = %v, want a decoding error", enc, err)
		}
	}
}

func TestHashHonoursContext(t *testing.T) {
	h, _ := NewHasher(TestParams(), 1)
	h.slots <- struct{}{} // the only slot is busy
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("Hash with a cancelled context and no free slot = %v, want context.Canceled", err)
	}
}

func TestNewHasherRejectsBadParams(t *testing.T) {
	for _, p := range []Params{
		{},
		{MemoryKiB: 64, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32},
		{MemoryKiB: 64, Time: 1, Threads: 1, SaltLen: 4, KeyLen: 32},
		{MemoryKiB: 1 << 30, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
	} {
		if _, err := NewHasher(p, 1); err == nil {
			t.Errorf("NewHasher(%+v) = nil error", p)
		}
	}
	if _, err := NewHasher(DefaultParams(), 2); err != nil {
		t.Errorf("NewHasher(DefaultParams()) = %v", err)
	}
}

// BenchmarkHashDefault measures the production cost; it is what
// DefaultParams' comment quotes. Run: go test -bench HashDefault -benchtime 10x
func BenchmarkHashDefault(b *testing.B) {
	for _, p := range []Params{
		{MemoryKiB: 64 * 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		DefaultParams(),
		{MemoryKiB: 64 * 1024, Time: 3, Threads: 1, SaltLen: 16, KeyLen: 32},
		{MemoryKiB: 64 * 1024, Time: 3, Threads: 4, SaltLen: 16, KeyLen: 32},
	} {
		b.Run(fmt.Sprintf("m=%d,t=%d,p=%d", p.MemoryKiB, p.Time, p.Threads), func(b *testing.B) {
			h, err := NewHasher(p, 1)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := h.Hash(context.Background(), "benchmark password"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
