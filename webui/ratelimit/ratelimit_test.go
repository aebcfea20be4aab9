package ratelimit

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time          { return c.t }
func (c *fakeClock) Advance(d time.Duration) { c.t = c.t.Add(d) }

func newLimiter(cfg Config) (*Limiter, *fakeClock) {
	clk := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	return New(cfg, clk.Now), clk
}

func attempts(l *Limiter, addr string, n int) []bool {
	var got []bool
	for range n {
		got = append(got, l.Allow(netip.MustParseAddr(addr)))
	}
	return got
}

func TestKey(t *testing.T) {
	for addr, want := range map[string]string{
		"192.0.2.7":                 "192.0.2.7/32",
		"::ffff:192.0.2.7":          "192.0.2.7/32",
		"2001:db8:1:2:3:4:5:6":      "2001:db8:1:2::/64",
		"fe80::1%eth0":              "fe80::/64",
		"2001:db8:1:2:ffff:ffff::1": "2001:db8:1:2::/64",
	} {
		if got := Key(netip.MustParseAddr(addr)).String(); got != want {
			t.Errorf("Key(%s) = %s, want %s", addr, got, want)
		}
	}
}

func TestPeerBucket(t *testing.T) {
	l, clk := newLimiter(Config{PeerBurst: 3, PeerRate: 0.1, GlobalBurst: 100, GlobalRate: 100})
	if diff := cmp.Diff([]bool{true, true, true, false, false}, attempts(l, "192.0.2.1", 5)); diff != "" {
		t.Errorf("burst (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]bool{true, true, true}, attempts(l, "192.0.2.2", 3)); diff != "" {
		t.Errorf("another peer is held up (-want +got):\n%s", diff)
	}
	clk.Advance(10 * time.Second)
	if diff := cmp.Diff([]bool{true, false}, attempts(l, "192.0.2.1", 2)); diff != "" {
		t.Errorf("after one refill period (-want +got):\n%s", diff)
	}
}

func TestIPv6SharesA64(t *testing.T) {
	l, _ := newLimiter(Config{PeerBurst: 2, PeerRate: 0.1, GlobalBurst: 100, GlobalRate: 100})
	got := []bool{
		l.Allow(netip.MustParseAddr("2001:db8::1")),
		l.Allow(netip.MustParseAddr("2001:db8::2")),
		l.Allow(netip.MustParseAddr("2001:db8::ffff:3")),
		l.Allow(netip.MustParseAddr("2001:db8:0:1::1")),
	}
	if diff := cmp.Diff([]bool{true, true, false, true}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestGlobalBucket(t *testing.T) {
	l, _ := newLimiter(Config{PeerBurst: 2, PeerRate: 0.1, GlobalBurst: 3, GlobalRate: 0.1})
	got := append(attempts(l, "192.0.2.1", 2), attempts(l, "192.0.2.2", 2)...)
	if diff := cmp.Diff([]bool{true, true, true, false}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestBoundedMemory(t *testing.T) {
	l, clk := newLimiter(Config{PeerBurst: 2, PeerRate: 0.01, GlobalBurst: 1e9, GlobalRate: 1e9, MaxPeers: 10})
	attempts(l, "198.51.100.1", 2) // an exhausted guesser
	for i := range 50 {
		clk.Advance(time.Second)
		l.Allow(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}))
	}
	if l.Len() > 10 {
		t.Errorf("Len() = %d, want at most 10", l.Len())
	}
}
