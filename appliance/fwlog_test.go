package appliance

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"rampart/config"
)

// nflogMessage builds an NFLOG packet message body as the kernel sends it.
func nflogMessage(t testing.TB, family uint8, prefix string, in, out uint32, payload []byte) []byte {
	t.Helper()
	ae := netlink.NewAttributeEncoder()
	ae.ByteOrder = binary.BigEndian
	ae.Bytes(nfulaPacketHdr, []byte{0x08, 0x00, 1, 0})
	if in != 0 {
		ae.Uint32(nfulaIfindexIndev, in)
	}
	if out != 0 {
		ae.Uint32(nfulaIfindexOutdev, out)
	}
	ae.Bytes(nfulaPayload, payload)
	ae.String(nfulaPrefix, prefix) // NUL-terminated, as the kernel writes it
	b, err := ae.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte{family, 0, 0, 10}, b...)
}

func ipv4(proto uint8, src, dst string, l4 []byte) []byte {
	h := make([]byte, 20)
	h[0] = 0x45
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(l4)))
	h[8], h[9] = 64, proto
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	copy(h[12:], s[:])
	copy(h[16:], d[:])
	return append(h, l4...)
}

func ipv6(next uint8, src, dst string, rest []byte) []byte {
	h := make([]byte, 40)
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(len(rest)))
	h[6], h[7] = next, 64
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	copy(h[8:], s[:])
	copy(h[24:], d[:])
	return append(h, rest...)
}

func ports(s, d uint16, n int) []byte {
	b := make([]byte, n)
	binary.BigEndian.PutUint16(b, s)
	binary.BigEndian.PutUint16(b[2:], d)
	return b
}

const fwlogConfig = `schema_version: 1
hostname: fw
interfaces:
  lan: {device: eth0, addresses: [192.168.1.1/24]}
  wan: {device: eth1, addresses: [203.0.113.2/24]}
rules:
  - {comment: lan out, from: {interface: lan}, action: accept}
  - {comment: no telnet, from: {interface: wan}, protocol: tcp, to: {ports: [23]}, action: drop, log: true}
nat:
  port_forwards: [{in: wan, protocol: tcp, port: 443, to: 192.168.1.20, log: true, comment: web}]
management: {interfaces: [lan]}
`

func TestDescribeLoggedPackets(t *testing.T) {
	cfg, err := config.Parse("test", []byte(fwlogConfig))
	if err != nil {
		t.Fatal(err)
	}
	names := map[uint32]string{2: "eth0", 3: "eth1", 9: "tun0"}
	ifName := func(i uint32) string { return names[i] }
	hbh := append([]byte{unix.IPPROTO_UDP, 0}, make([]byte, 6)...) // hop-by-hop options, 8 bytes
	for _, tc := range []struct {
		name string
		msg  []byte
		want string
	}{
		{"tcp rule", nflogMessage(t, unix.AF_INET, "rampart rule 1: ", 3, 0, ipv4(unix.IPPROTO_TCP, "198.51.100.7", "203.0.113.2", ports(40000, 23, 20))),
			"rule 2 (no telnet) drop: in=wan (eth1) tcp 198.51.100.7:40000 → 203.0.113.2:23 len 40"},
		{"port forward", nflogMessage(t, unix.AF_INET, "rampart pf 0: ", 3, 2, ipv4(unix.IPPROTO_TCP, "198.51.100.7", "192.168.1.20", ports(40001, 443, 20))),
			"port forward 1 (web) accept: in=wan (eth1) out=lan (eth0) tcp 198.51.100.7:40001 → 192.168.1.20:443 len 40"},
		{"udp over ipv6 after an extension header", nflogMessage(t, unix.AF_INET6, "rampart rule 1: ", 9, 0,
			ipv6(unix.IPPROTO_HOPOPTS, "2001:db8::7", "2001:db8:2::2", append(hbh, ports(5353, 53, 8)...))),
			"rule 2 (no telnet) drop: in=tun0 udp [2001:db8::7]:5353 → [2001:db8:2::2]:53 len 56"},
		{"icmp", nflogMessage(t, unix.AF_INET, "rampart rule 1: ", 3, 0, ipv4(unix.IPPROTO_ICMP, "198.51.100.7", "203.0.113.2", []byte{8, 0, 0, 0})),
			"rule 2 (no telnet) drop: in=wan (eth1) icmp 198.51.100.7 → 203.0.113.2 type 8 code 0 len 24"},
		{"rule gone since", nflogMessage(t, unix.AF_INET, "rampart rule 7: ", 3, 0, ipv4(unix.IPPROTO_TCP, "198.51.100.7", "203.0.113.2", ports(1, 2, 20))),
			"rule 8: in=wan (eth1) tcp 198.51.100.7:1 → 203.0.113.2:2 len 40"},
		{"foreign prefix", nflogMessage(t, unix.AF_INET, "someone else: ", 0, 0, ipv4(47, "10.0.0.1", "10.0.0.2", nil)),
			`prefix "someone else: ": 47 10.0.0.1 → 10.0.0.2 len 20`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := parseNFLOG(tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, describe(p, cfg, ifName)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseNFLOGRefuses(t *testing.T) {
	good := nflogMessage(t, unix.AF_INET, "rampart rule 0: ", 1, 0, ipv4(unix.IPPROTO_UDP, "10.0.0.1", "10.0.0.2", ports(1, 2, 8)))
	for _, tc := range []struct {
		name, want string
		msg        []byte
	}{
		{"no header", "header: truncated", good[:3]},
		{"cut attribute", "attributes", good[:len(good)-8]},
		{"not ip", "not an IPv4 or IPv6 packet", nflogMessage(t, unix.AF_INET, "rampart rule 0: ", 1, 0, []byte{0x45, 0})},
		{"bad ihl", "truncated", nflogMessage(t, unix.AF_INET, "rampart rule 0: ", 1, 0, append([]byte{0x4f}, make([]byte, 23)...))},
		{"ipv6 extension past the end", "truncated", nflogMessage(t, unix.AF_INET6, "rampart rule 0: ", 1, 0,
			ipv6(unix.IPPROTO_ROUTING, "::1", "::2", []byte{unix.IPPROTO_TCP, 4, 0, 0, 0, 0, 0, 0}))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseNFLOG(tc.msg)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "nflog: ") {
				t.Errorf("error %v, want one with %q", err, tc.want)
			}
		})
	}
}

func TestRuleOf(t *testing.T) {
	for prefix, want := range map[string]string{
		"rampart rule 3: ": "rule 3", "rampart pf 0: ": "pf 0", "rampart rule -1: ": "", "rampart nat 1: ": "", "other rule 1: ": "", "rampart rule x: ": "",
	} {
		kind, i, ok := ruleOf(prefix)
		got := ""
		if ok {
			got = kind + " " + string(rune('0'+i))
		}
		if got != want {
			t.Errorf("ruleOf(%q) = %q, want %q", prefix, got, want)
		}
	}
}

// FuzzParseNFLOG: parsing never panics, and what it parses describes.
func FuzzParseNFLOG(f *testing.F) {
	f.Add(nflogMessage(f, unix.AF_INET, "rampart rule 1: ", 3, 0, ipv4(unix.IPPROTO_TCP, "198.51.100.7", "203.0.113.2", ports(40000, 23, 20))))
	f.Add(nflogMessage(f, unix.AF_INET6, "rampart pf 0: ", 3, 2, ipv6(unix.IPPROTO_FRAGMENT, "::1", "::2", []byte{unix.IPPROTO_UDP, 0, 0, 1, 0, 0, 0, 0})))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parseNFLOG(b)
		if err == nil {
			_ = describe(p, nil, func(uint32) string { return "x" })
		}
	})
}

// TestFirewallLogLimit: a flood on one rule shows a burst, then the rate,
// with a count of what was held back; other rules are not held back.
func TestFirewallLogLimit(t *testing.T) {
	now := time.Unix(1000, 0)
	ring := newLogRing()
	l := &fwLog{opts: fwLogOptions{Ring: ring, Now: func() time.Time { return now }, IfName: func(uint32) string { return "eth1" }}}
	msg := func(prefix string) netlink.Message {
		return netlink.Message{Header: netlink.Header{Type: nflogMsgType},
			Data: nflogMessage(t, unix.AF_INET, prefix, 3, 0, ipv4(unix.IPPROTO_UDP, "198.51.100.7", "203.0.113.2", ports(1, 2, 8)))}
	}
	for range 100 {
		l.handle(msg("rampart rule 1: "))
	}
	l.handle(msg("rampart rule 0: "))
	now = now.Add(time.Second / 10) // two more tokens
	for range 3 {
		l.handle(msg("rampart rule 1: "))
	}
	var rule1, held []string
	other := 0
	for _, ln := range ring.since(0, 1000) {
		switch {
		case strings.Contains(ln.Text, "not shown"):
			held = append(held, ln.Text)
		case strings.HasPrefix(ln.Text, "rule 2"):
			rule1 = append(rule1, ln.Text)
		case strings.HasPrefix(ln.Text, "rule 1"):
			other++
		}
	}
	if len(rule1) != fwLogBurst+2 || other != 1 {
		t.Errorf("%d lines of the flooded rule, want %d; %d of the other, want 1", len(rule1), fwLogBurst+2, other)
	}
	want := []string{fmt.Sprintf(`"rampart rule 1: ": %d more packet(s) not shown (over %d lines/s per rule)`, 100-fwLogBurst, fwLogRate)}
	if diff := cmp.Diff(want, held); diff != "" {
		t.Errorf("held-back lines (-want +got):\n%s", diff)
	}
}
