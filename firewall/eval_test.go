package firewall

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"rampart/config"
)

// These tests check segmentation, the subtle part of Compile: a packet run
// through the compiled forward chain (an interpreter of the model below)
// must meet the same rule as a naive first-match walk of the config.

// packet is what the rules look at; its connection is new.
type packet struct {
	iif, oif     string
	proto        uint8
	saddr, daddr netip.Addr
	sport, dport uint16
}

// outcome is the rule that decided, or -1 for the chain's policy.
type outcome struct {
	index  int
	action config.Action
}

// naive walks the config's forward rules in order.
func naive(cfg *config.Config, p packet) outcome {
	for i, r := range cfg.Rules {
		if r.Disabled || r.Chain == config.Input {
			continue
		}
		if epMatch(cfg, r.From, p.iif, p.saddr, p.sport) && epMatch(cfg, r.To, p.oif, p.daddr, p.dport) &&
			(r.Protocol == "" || mustProto(r.Protocol) == p.proto) {
			return outcome{i, r.Action}
		}
	}
	return outcome{-1, config.Drop}
}

func mustProto(p config.Protocol) uint8 {
	n, err := protoNumber(p)
	if err != nil {
		panic(err)
	}
	return n
}

func epMatch(cfg *config.Config, e config.Endpoint, dev string, a netip.Addr, port uint16) bool {
	if e.Interface != "" && cfg.Interfaces[e.Interface].Device != dev {
		return false
	}
	addrs := e.Addresses
	if e.Alias != "" {
		addrs = cfg.Aliases[e.Alias].Addresses
	}
	if (len(addrs) > 0 || e.Alias != "") && !slices.ContainsFunc(addrs, func(p netip.Prefix) bool { return p.Contains(a) }) {
		return false
	}
	ports := e.Ports
	if e.PortAlias != "" {
		ports = cfg.Aliases[e.PortAlias].Ports
	}
	if (len(ports) > 0 || e.PortAlias != "") && !slices.ContainsFunc(ports, func(r config.PortRange) bool { return r.From <= port && port <= r.To }) {
		return false
	}
	return true
}

// evalChain runs p through a compiled base chain.
func evalChain(t *testing.T, rs *Ruleset, name string, p packet) outcome {
	tb := rs.table(FilterTable)
	for _, r := range tb.chain(name).rules {
		v, own, ok := evalRule(t, tb, r, p)
		if !ok {
			continue
		}
		if own == nil {
			return outcome{-1, verdictAction(v)}
		}
		return outcome{own.index, ruleAction(tb, v)}
	}
	return outcome{-1, config.Drop}
}

func verdictAction(v verdict) config.Action {
	if v.kind == vAccept.kind {
		return config.Accept
	}
	return config.Drop
}

// ruleAction reads the action a verdict stands for, through a jump to a
// rule's chain.
func ruleAction(tb *table, v verdict) config.Action {
	if v.chain == "" {
		return verdictAction(v)
	}
	for _, r := range tb.chain(v.chain).rules {
		for _, n := range r.nodes {
			switch n := n.(type) {
			case rejectNode:
				return config.Reject
			case verdictNode:
				return verdictAction(n.v)
			}
		}
	}
	return "?"
}

// evalRule reports the verdict of a rule that matched, and whose it is.
func evalRule(t *testing.T, tb *table, r *rule, p packet) (verdict, *owner, bool) {
	fam := familyOf(p.saddr)
	for _, n := range r.nodes {
		switch n := n.(type) {
		case ctStateNode, counterNode:
		case loopbackNode, icmpNode, dnatNode:
			return verdict{}, nil, false
		case ifnameNode:
			dev := p.iif
			if n.out {
				dev = p.oif
			}
			if !slices.Contains(n.names, dev) {
				return verdict{}, nil, false
			}
		case protoNode:
			if p.proto != n.proto {
				return verdict{}, nil, false
			}
		case addrNode:
			a := p.saddr
			if n.dst {
				a = p.daddr
			}
			spans := n.spans
			if n.set != "" {
				for _, e := range tb.set(n.set).elems {
					spans = append(spans, span{lo: e.key, hi: e.end})
				}
			}
			if fam != n.fam || !inSpans(spans, a.AsSlice()) {
				return verdict{}, nil, false
			}
		case portNode:
			port := p.sport
			if n.dst {
				port = p.dport
			}
			spans := n.spans
			if n.set != "" {
				for _, e := range tb.set(n.set).elems {
					spans = append(spans, span{lo: e.key, hi: e.end})
				}
			}
			if p.proto != n.proto || !inSpans(spans, portValue(port)) {
				return verdict{}, nil, false
			}
		case vmapNode:
			return lookup(t, tb.set(n.set), n, p)
		case verdictNode:
			return n.v, r.owner, true
		default:
			t.Fatalf("evalRule: no interpreter for %T", n)
		}
	}
	return verdict{}, nil, false
}

func inSpans(spans []span, v []byte) bool {
	return slices.ContainsFunc(spans, func(s span) bool {
		return bytes.Compare(s.lo, v) <= 0 && bytes.Compare(v, s.hi) <= 0
	})
}

// lookup finds p's element in a map as the kernel would: each component of
// the key within the element's range for it. Two matching elements would
// be a compile bug: the kernel refuses overlapping elements.
func lookup(t *testing.T, m *set, n vmapNode, p packet) (verdict, *owner, bool) {
	vals := make([][]byte, len(n.fields))
	for i, f := range n.fields {
		var v []byte
		switch f {
		case fIIF:
			v = ifnameValue(p.iif)
		case fOIF:
			v = ifnameValue(p.oif)
		case fProto:
			v = []byte{p.proto}
		case fSAddr4, fSAddr6, fDAddr4, fDAddr6:
			a := p.saddr
			if f == fDAddr4 || f == fDAddr6 {
				a = p.daddr
			}
			if familyOf(a) != fields[f].fam {
				return verdict{}, nil, false
			}
			v = a.AsSlice()
		case fSPort:
			v = portValue(p.sport)
		case fDPort:
			v = portValue(p.dport)
		}
		if mask := n.mask(i); mask != nil {
			for j := range v {
				v[j] &= mask[j]
			}
		}
		vals[i] = v
	}
	var found *elem
	for _, e := range m.elems {
		off, hit := 0, true
		for i, f := range m.fields {
			size := fields[f].size
			lo := e.key[off : off+size]
			hi := lo
			if e.end != nil {
				hi = e.end[off : off+size]
			}
			if bytes.Compare(lo, vals[i]) > 0 || bytes.Compare(vals[i], hi) > 0 {
				hit = false
				break
			}
			off += fields[f].padded()
		}
		if hit && found != nil {
			t.Fatalf("map %s: packet %+v matches two elements: %s and %s", m.name, p, m.formatElem(*found), m.formatElem(e))
		}
		if hit {
			found = &e
		}
	}
	if found == nil {
		return verdict{}, nil, false
	}
	return found.verdict, found.owner, true
}

// universe is what random rules and packets are drawn from: values that
// overlap in every way.
var (
	uPrefixes = pfx("10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.3", "10.1.2.0/25", "192.168.0.0/16",
		"2001:db8::/32", "2001:db8:1::/48", "2001:db8:1::5")
	uAddrs = []netip.Addr{addr("10.1.2.3"), addr("10.1.2.200"), addr("10.1.9.9"), addr("10.9.9.9"),
		addr("192.168.1.1"), addr("172.16.0.1"), addr("2001:db8::1"), addr("2001:db8:1::5"), addr("2001:db8:1::6")}
	uPorts  = []config.PortRange{{From: 22, To: 22}, {From: 80, To: 80}, {From: 443, To: 443}, {From: 1000, To: 2000}, {From: 1500, To: 1500}}
	uPPorts = []uint16{22, 80, 443, 1000, 1500, 1999, 3000}
	uDevs   = []string{"eth0", "eth1"}
)

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

func randomConfig(r *rand.Rand, n int) *config.Config {
	cfg := &config.Config{
		Interfaces: ifaces("lan", "eth0", "wan", "eth1"),
		Aliases: map[string]*config.Alias{
			"nets": {Addresses: pfx("10.1.0.0/16", "2001:db8:1::/48")},
			"web":  {Ports: []config.PortRange{{From: 80, To: 80}, {From: 443, To: 443}}},
		},
	}
	for range n {
		rl := &config.Rule{Action: pick(r, []config.Action{config.Accept, config.Drop, config.Reject}), Log: r.IntN(5) == 0}
		if r.IntN(3) == 0 {
			rl.From.Interface = pick(r, []string{"lan", "wan"})
		}
		if r.IntN(4) == 0 {
			rl.To.Interface = pick(r, []string{"lan", "wan"})
		}
		switch r.IntN(6) {
		case 0, 1:
			rl.From.Addresses = []netip.Prefix{pick(r, uPrefixes)}
		case 2:
			rl.From.Addresses = []netip.Prefix{pick(r, uPrefixes), pick(r, uPrefixes)}
		case 3:
			rl.From.Alias = "nets"
		}
		if r.IntN(2) == 0 {
			rl.To.Addresses = []netip.Prefix{pick(r, uPrefixes)}
		}
		if r.IntN(2) == 0 {
			rl.Protocol = pick(r, []config.Protocol{config.TCP, config.UDP})
			switch r.IntN(4) {
			case 0, 1:
				rl.To.Ports = []config.PortRange{pick(r, uPorts)}
			case 2:
				rl.To.PortAlias = "web"
			}
			if r.IntN(5) == 0 {
				rl.From.Ports = []config.PortRange{{From: 1024, To: 65535}}
			}
		}
		// Skip rules whose addresses can never meet: config rejects them.
		if len(rl.From.Addresses) > 0 && len(rl.To.Addresses) > 0 && len(ruleFamilies(0,
			endpoint{hasAddrs: true, addrs: addrSpans(rl.From.Addresses)},
			endpoint{hasAddrs: true, addrs: addrSpans(rl.To.Addresses)})) == 0 {
			continue
		}
		cfg.Rules = append(cfg.Rules, rl)
	}
	return cfg
}

func randomPacket(r *rand.Rand) packet {
	p := packet{iif: pick(r, uDevs), oif: pick(r, uDevs), proto: pick(r, []uint8{protoTCP, protoUDP}),
		sport: pick(r, []uint16{53, 1500, 40000}), dport: pick(r, uPPorts)}
	p.saddr = pick(r, uAddrs)
	for {
		p.daddr = pick(r, uAddrs)
		if p.daddr.Is4() == p.saddr.Is4() {
			return p
		}
	}
}

func TestSegmentsKeepFirstMatch(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		cfg := randomConfig(r, 1+r.IntN(25))
		rs, err := Compile(cfg)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for range 200 {
			p := randomPacket(r)
			want, got := naive(cfg, p), evalChain(t, rs, "forward", p)
			if want != got {
				t.Fatalf("round %d: packet %+v: config says %+v, compiled %+v\nrules:\n%s\nruleset:\n%s",
					round, p, want, got, describe(cfg), rs)
			}
		}
	}
}

// TestLargeSegmentFirstMatch drives the split of a large segment: many
// disjoint rules, hosts and subnets of several lengths and port ranges.
func TestLargeSegmentFirstMatch(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	cfg, pkts := largeMixedConfig(r, 3000)
	rs, err := Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range rs.table(FilterTable).sets {
		names = append(names, s.name)
	}
	if !slices.Contains(names, "forward_0_x_24_x") || !slices.Contains(names, "forward_0_r0") {
		t.Fatalf("the segment was not split into hash and interval maps: %v", names)
	}
	for _, p := range pkts {
		if want, got := naive(cfg, p), evalChain(t, rs, "forward", p); want != got {
			t.Fatalf("packet %+v: config says %+v, compiled %+v", p, want, got)
		}
	}
}

// largeMixedConfig makes n non-overlapping rules of one shape (protocol,
// source, port) with /24s, /32s and port ranges, and packets that hit them
// or miss them.
func largeMixedConfig(r *rand.Rand, n int) (*config.Config, []packet) {
	cfg := &config.Config{Interfaces: ifaces("lan", "eth0")}
	var pkts []packet
	for i := range n {
		a := [4]byte{10, byte(i >> 8), byte(i), 0}
		rl := &config.Rule{Protocol: config.TCP, Action: pick(r, []config.Action{config.Accept, config.Drop})}
		port := config.PortRange{From: 80, To: 80}
		switch i % 3 {
		case 0:
			rl.From.Addresses = []netip.Prefix{netip.PrefixFrom(netip.AddrFrom4(a), 24)}
		case 1:
			a[3] = 7
			rl.From.Addresses = []netip.Prefix{netip.PrefixFrom(netip.AddrFrom4(a), 32)}
		case 2:
			rl.From.Addresses = []netip.Prefix{netip.PrefixFrom(netip.AddrFrom4(a), 24)}
			port = config.PortRange{From: 1000, To: 2000}
		}
		rl.To.Ports = []config.PortRange{port}
		cfg.Rules = append(cfg.Rules, rl)
		for _, dport := range []uint16{80, 1500, 22} {
			pkts = append(pkts, packet{iif: "eth0", oif: "eth0", proto: protoTCP, saddr: netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 7}),
				daddr: addr("192.0.2.1"), sport: 40000, dport: dport})
		}
	}
	return cfg, pkts
}

func describe(cfg *config.Config) string {
	var b bytes.Buffer
	for i, r := range cfg.Rules {
		fmt.Fprintf(&b, "%d: %+v\n", i, *r)
	}
	return b.String()
}

func TestSegmentOverlaps(t *testing.T) {
	key := func(p string) segKey { return segKey{vals: []span{prefixSpan(pfx(p)[0])}} }
	s := newSegment(shape{}.with(fSAddr4))
	s.insert(key("10.0.0.0/8"))     // wider than a bucket
	s.insert(key("192.168.1.0/24")) // one bucket
	for _, tt := range []struct {
		p    string
		want bool
	}{
		{"10.1.2.3", true}, {"10.0.0.0/7", true}, {"192.168.1.128/25", true}, {"192.168.0.0/16", true},
		{"11.0.0.1", false}, {"192.168.2.0/24", false}, {"0.0.0.0/5", false},
	} {
		if got := s.overlaps(key(tt.p)); got != tt.want {
			t.Errorf("overlaps(%s) = %v, want %v", tt.p, got, tt.want)
		}
	}
}
