package session

import (
	"encoding/base64"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time          { return c.t }
func (c *fakeClock) Advance(d time.Duration) { c.t = c.t.Add(d) }

func newStore(cfg Config) (*Store, *fakeClock) {
	clk := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	return NewStore(cfg, clk.Now), clk
}

func TestIDIs256Bits(t *testing.T) {
	id := NewID()
	b, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(b) != 32 {
		t.Errorf("NewID() = %q: %d bytes, err %v; want 32 bytes base64url", id, len(b), err)
	}
	if NewID() == id {
		t.Error("two ids are equal")
	}
}

func TestIdleTimeout(t *testing.T) {
	s, clk := newStore(Config{Idle: 30 * time.Minute})
	sess := s.Create("admin", "")
	clk.Advance(29 * time.Minute)
	if _, ok := s.Get(sess.ID); !ok {
		t.Fatal("session gone before the idle timeout")
	}
	clk.Advance(29 * time.Minute) // 58 minutes after login, 29 after last use
	if _, ok := s.Get(sess.ID); !ok {
		t.Fatal("a used session expired: Get must refresh LastSeen")
	}
	clk.Advance(30 * time.Minute)
	if _, ok := s.Get(sess.ID); ok {
		t.Error("session alive after 30 idle minutes")
	}
	if s.Len() != 0 {
		t.Errorf("expired session still held: Len() = %d", s.Len())
	}
}

func TestLifetime(t *testing.T) {
	s, clk := newStore(Config{Idle: time.Hour, Lifetime: 2 * time.Hour})
	sess := s.Create("admin", "")
	for range 3 {
		clk.Advance(50 * time.Minute)
		s.Get(sess.ID)
	}
	if _, ok := s.Get(sess.ID); ok {
		t.Error("session alive past its absolute lifetime")
	}
}

func TestCreateRotatesAndDelete(t *testing.T) {
	s, _ := newStore(Config{})
	first := s.Create("admin", "")
	second := s.Create("admin", first.ID)
	if second.ID == first.ID {
		t.Fatal("Create reused the id it replaces")
	}
	if _, ok := s.Get(first.ID); ok {
		t.Error("the replaced session is still valid")
	}
	s.Delete(second.ID)
	if _, ok := s.Get(second.ID); ok {
		t.Error("a deleted session is still valid")
	}
	if _, ok := s.Get(""); ok {
		t.Error("the empty id is valid")
	}
}

func TestBounded(t *testing.T) {
	s, clk := newStore(Config{Max: 3})
	first := s.Create("admin", "")
	for range 5 {
		clk.Advance(time.Second)
		s.Create("admin", "")
	}
	if s.Len() != 3 {
		t.Errorf("Len() = %d, want the bound 3", s.Len())
	}
	if _, ok := s.Get(first.ID); ok {
		t.Error("the idlest session survived eviction")
	}
}

func TestDeleteActor(t *testing.T) {
	s, _ := newStore(Config{})
	a := s.Create("admin", "")
	b := s.Create("other", "")
	s.DeleteActor("admin")
	if _, ok := s.Get(a.ID); ok {
		t.Error("admin session survived DeleteActor")
	}
	if _, ok := s.Get(b.ID); !ok {
		t.Error("DeleteActor ended another actor's session")
	}
}
