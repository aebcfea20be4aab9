package statesync

import (
	"net/netip"
	"testing"

	"rampart/statesync/ctnl"
)

func TestFilter(t *testing.T) {
	f := Filter{
		Local:  []netip.Addr{addr("10.1.0.1"), addr("192.0.2.1"), addr("fd00::1")},
		Ignore: []netip.Prefix{netip.MustParsePrefix("10.99.0.0/30"), netip.MustParsePrefix("203.0.113.0/24")},
	}.compile()
	tuple := func(src, dst string, sport, dport uint16) ctnl.Tuple {
		return ctnl.Tuple{Src: addr(src), Dst: addr(dst), Proto: 6, SrcPort: sport, DstPort: dport}
	}
	entry := func(o, r ctnl.Tuple) ctnl.Entry { return ctnl.Entry{Orig: o, Reply: r} }
	plain := func(src, dst string) ctnl.Entry {
		o := tuple(src, dst, 40000, 80)
		return entry(o, o.Reverse())
	}
	tests := []struct {
		name string
		e    ctnl.Entry
		skip bool
	}{
		{"forwarded", plain("10.1.0.2", "198.51.100.7"), false},
		{"masqueraded: reply to the firewall", entry(tuple("10.1.0.2", "198.51.100.7", 40000, 80), tuple("198.51.100.7", "192.0.2.1", 80, 61000)), false},
		{"port forward to the WAN address", entry(tuple("198.51.100.7", "192.0.2.1", 50000, 443), tuple("10.1.0.5", "198.51.100.7", 443, 50000)), false},
		{"to the firewall", plain("10.1.0.2", "10.1.0.1"), true},
		{"from the firewall", plain("192.0.2.1", "198.51.100.7"), true},
		{"from the firewall, IPv6", plain("fd00::1", "fd00:9::1"), true},
		{"sync link", plain("10.99.0.1", "10.99.0.2"), true},
		{"to an ignored network", plain("10.1.0.2", "203.0.113.9"), true},
		{"from an ignored network", plain("203.0.113.9", "10.1.0.2"), true},
		{"port forward to an ignored host", entry(tuple("198.51.100.7", "192.0.2.1", 50000, 443), tuple("203.0.113.5", "198.51.100.7", 443, 50000)), true},
		{"no reply tuple", ctnl.Entry{Orig: tuple("10.1.0.2", "10.1.0.1", 1, 2)}, true},
	}
	for _, tt := range tests {
		if got := f.skip(&tt.e); got != tt.skip {
			t.Errorf("%s: skip = %v, want %v", tt.name, got, tt.skip)
		}
	}
}
