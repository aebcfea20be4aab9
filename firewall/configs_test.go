package firewall

import (
	"net/netip"
	"os"

	"rampart/config"
)

// Test configs, built in Go so that these tests do not depend on the
// config parser. Each has a golden String() in testdata/<name>.golden and a
// hand-written equivalent in testdata/nft/<name>.nft.

func pfx(s ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(s))
	for i, x := range s {
		p, err := netip.ParsePrefix(x)
		if err != nil {
			a := netip.MustParseAddr(x)
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out[i] = p
	}
	return out
}

func ports(p ...uint16) []config.PortRange {
	out := make([]config.PortRange, len(p))
	for i, x := range p {
		out[i] = config.PortRange{From: x, To: x}
	}
	return out
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func ifaces(kv ...string) map[string]*config.Interface {
	m := map[string]*config.Interface{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = &config.Interface{Device: kv[i+1]}
	}
	return m
}

// minimalConfig is a router with no rules of its own: only the defaults.
func minimalConfig() *config.Config {
	return &config.Config{
		SchemaVersion: 1,
		Interfaces:    ifaces("lan", "eth1", "wan", "eth0"),
		Management:    config.Management{Interfaces: []string{"lan"}},
		NAT:           config.NAT{Masquerade: []*config.Masquerade{{Out: "wan"}}},
	}
}

// officeConfig exercises every kind of rule.
func officeConfig() *config.Config {
	return &config.Config{
		SchemaVersion: 1,
		Interfaces:    ifaces("lan", "eth1", "wan", "eth0", "dmz", "eth2"),
		Aliases: map[string]*config.Alias{
			"blocklist": {Addresses: pfx("198.51.100.0/24", "203.0.113.7", "2001:db8:bad::/48"), Comment: "known bad"},
			"web":       {Ports: []config.PortRange{{From: 80, To: 80}, {From: 443, To: 443}, {From: 8000, To: 8099}}},
			"admins":    {Addresses: pfx("192.168.1.10", "192.168.1.11")},
		},
		Rules: []*config.Rule{
			{Comment: "block known bad", From: config.Endpoint{Alias: "blocklist"}, Action: config.Drop},
			{Comment: "lan out", From: config.Endpoint{Interface: "lan"}, To: config.Endpoint{Interface: "wan"}, Action: config.Accept},
			{Comment: "dmz web", To: config.Endpoint{Addresses: pfx("192.168.2.10", "2001:db8:2::10"), PortAlias: "web"}, Protocol: config.TCP, Action: config.Accept},
			{Comment: "one bad host", From: config.Endpoint{Addresses: pfx("10.9.9.9")}, To: config.Endpoint{Addresses: pfx("192.168.2.0/24")}, Action: config.Drop, Log: true},
			{Comment: "vpn to dmz", From: config.Endpoint{Addresses: pfx("10.9.0.0/16")}, To: config.Endpoint{Addresses: pfx("192.168.2.0/24")}, Action: config.Accept},
			{Comment: "dns", From: config.Endpoint{Interface: "dmz"}, To: config.Endpoint{Ports: ports(53)}, Protocol: config.UDP, Action: config.Accept},
			{Comment: "ssh from admins", Chain: config.Input, From: config.Endpoint{Alias: "admins"}, To: config.Endpoint{Ports: ports(22)}, Protocol: config.TCP, Action: config.Accept},
			{Comment: "ping", Chain: config.Input, Protocol: config.ICMP, ICMPTypes: []string{"echo-request"}, Action: config.Accept},
			{Comment: "ident", Chain: config.Input, From: config.Endpoint{Interface: "wan"}, To: config.Endpoint{Ports: ports(113)}, Protocol: config.TCP, Action: config.Reject},
			{Comment: "disabled", Action: config.Accept, Disabled: true},
			{Comment: "ntp range", From: config.Endpoint{Interface: "lan", Addresses: pfx("192.168.1.0/24"), Ports: []config.PortRange{{From: 1024, To: 65535}}},
				To: config.Endpoint{Interface: "wan", Addresses: pfx("192.0.2.123"), Ports: ports(123)}, Protocol: config.UDP, Action: config.Accept},
		},
		NAT: config.NAT{
			Masquerade: []*config.Masquerade{{Out: "wan", Sources: pfx("192.168.1.0/24"), Comment: "lan"}},
			SNAT:       []*config.SNAT{{Out: "wan", Sources: pfx("192.168.2.0/24"), To: addr("192.0.2.2"), Comment: "dmz"}},
			PortForwards: []*config.PortForward{
				{In: "wan", Protocol: config.TCP, Port: config.PortRange{From: 8080, To: 8080}, To: addr("192.168.2.10"), ToPort: 80, Comment: "web"},
				{In: "wan", Protocol: config.UDP, Port: config.PortRange{From: 5060, To: 5061}, Sources: pfx("203.0.113.0/24"), To: addr("192.168.2.20"), Log: true, Comment: "sip"},
			},
		},
		Management: config.Management{Interfaces: []string{"lan", "dmz"}},
		WebUI:      config.WebUI{Port: 8443},
	}
}

// haConfig is one node of a pair: heartbeat, second path and state sync.
func haConfig() *config.Config {
	return &config.Config{
		SchemaVersion: 1,
		Interfaces:    ifaces("lan", "eth1", "wan", "eth0", "sync", "eth3"),
		Rules: []*config.Rule{
			{From: config.Endpoint{Interface: "lan"}, Action: config.Accept},
		},
		NAT:        config.NAT{Masquerade: []*config.Masquerade{{Out: "wan"}}},
		Management: config.Management{Interfaces: []string{"lan"}},
		HA: &config.HA{
			NodeID: "a", Heartbeat: "sync", Peers: []netip.Addr{addr("169.254.0.2")},
			Groups: []*config.Group{{VHID: 1, Priority: 200}},
		},
		StateSync: &config.StateSync{Enabled: true, Interface: "sync", Peer: addr("169.254.0.2")},
	}
}

// overlapConfig needs several segments to keep first-match order.
func overlapConfig() *config.Config {
	return &config.Config{
		SchemaVersion: 1,
		Interfaces:    ifaces("lan", "eth1", "wan", "eth0"),
		Rules: []*config.Rule{
			{Comment: "drop one", From: config.Endpoint{Addresses: pfx("10.0.0.5")}, Action: config.Drop},
			{Comment: "v6 between", From: config.Endpoint{Addresses: pfx("2001:db8::/32")}, Action: config.Accept},
			{Comment: "accept the rest", From: config.Endpoint{Addresses: pfx("10.0.0.0/8")}, Action: config.Accept},
			{Comment: "disjoint joins", From: config.Endpoint{Addresses: pfx("172.16.0.0/12", "172.32.0.0/16")}, Action: config.Reject},
			{Comment: "other shape", To: config.Endpoint{Ports: ports(25)}, Protocol: config.TCP, Action: config.Drop},
			{Comment: "back to first shape", From: config.Endpoint{Addresses: pfx("192.168.0.0/16")}, Action: config.Drop},
		},
	}
}

// Every shipped config is a test config too: the examples and the
// built-in default.
var shippedConfigs = map[string]string{
	"single":  "../examples/single.yaml",
	"ha-a":    "../examples/ha-a.yaml",
	"ha-b":    "../examples/ha-b.yaml",
	"default": "../config/default.yaml",
}

var testConfigs = map[string]func() *config.Config{
	"minimal": minimalConfig,
	"office":  officeConfig,
	"ha":      haConfig,
	"overlap": overlapConfig,
}

func init() {
	for name, file := range shippedConfigs {
		testConfigs[name] = func() *config.Config {
			data, err := os.ReadFile(file)
			if err != nil {
				panic(err) // test setup: the file ships with the repository
			}
			cfg, err := config.Parse(file, data)
			if err != nil {
				panic(err)
			}
			return cfg
		}
	}
}
