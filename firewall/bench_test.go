package firewall

import (
	"fmt"
	"net/netip"
	"testing"

	"rampart/config"
)

// largeConfig is the shape bench/ruleset measures in the kernel: a
// blocklist alias and rules from distinct /24s to service ports.
func largeConfig(rules, blocked int) *config.Config {
	block := make([]netip.Prefix, blocked)
	for i := range block {
		v := 100<<24 | 64<<16 + uint32(i*3)
		block[i] = netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), 32)
	}
	cfg := &config.Config{
		Interfaces: ifaces("lan", "eth1", "wan", "eth0"),
		Aliases:    map[string]*config.Alias{"blocklist": {Addresses: block}},
		Rules:      []*config.Rule{{From: config.Endpoint{Alias: "blocklist"}, Action: config.Drop}},
	}
	for i := 1; i < rules; i++ {
		cfg.Rules = append(cfg.Rules, &config.Rule{
			Comment:  fmt.Sprint("generated ", i),
			From:     config.Endpoint{Addresses: []netip.Prefix{netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24)}},
			To:       config.Endpoint{Ports: ports(uint16(1 + i%15))},
			Protocol: config.TCP,
			Action:   []config.Action{config.Accept, config.Drop}[i%2],
		})
	}
	return cfg
}

func BenchmarkCompile(b *testing.B) {
	cfg := largeConfig(10000, 100000)
	for b.Loop() {
		if _, err := Compile(cfg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFullBatch(b *testing.B) {
	rs, err := Compile(largeConfig(10000, 100000))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := fullBatch(rs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOneRuleDiff is the user-space part of a one-rule change.
func BenchmarkOneRuleDiff(b *testing.B) {
	cfg := largeConfig(10000, 100000)
	old, err := Compile(cfg)
	if err != nil {
		b.Fatal(err)
	}
	cfg.Rules[5000].Action = config.Reject
	next, err := Compile(cfg)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		plans, ok := diff(old, next)
		if !ok {
			b.Fatal("full replace")
		}
		if _, err := build(plans); err != nil {
			b.Fatal(err)
		}
	}
}
