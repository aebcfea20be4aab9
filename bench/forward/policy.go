package main

import (
	"fmt"
	"strings"

	"rampart/config"
)

// The 10,000-rule policy: drops for other source networks and ports that
// every new test flow is checked against and none matches, then the LAN
// accept that lets the test flow through. Rule (s, p) drops TCP from
// 10.<s/256>.<s%256>.0/24 to port 20000+p.
const (
	firstPort = 20000
	portsPer  = 100 // ports per source network
)

func rulePorts(n int) int {
	if n < portsPer {
		return n
	}
	return portsPer
}

// srcNet is source network s of the policy: never a lab address.
func srcNet(s int) string { return fmt.Sprintf("10.%d.%d.0/24", s/256, s%256) }

// policyYAML is the whole config with n extra rules (0: "no extra rules").
// It has no NAT: the server routes the LAN back through the firewall, so
// the three scenarios differ in their filter rules alone.
func policyYAML(n int) []byte {
	var b strings.Builder
	b.WriteString(`schema_version: 1
hostname: bench
interfaces:
  lan:
    device: eth0
    addresses: [192.168.1.1/24, "fd00:1::1/64"]
  wan:
    device: eth1
    addresses: [203.0.113.2/24, "2001:db8:2::2/64"]
management:
  interfaces: [lan]
rules:
`)
	ports := rulePorts(n)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "  - {from: {addresses: [%s]}, to: {ports: [%d]}, protocol: tcp, action: drop}\n",
			srcNet(i/ports), firstPort+i%ports)
	}
	b.WriteString("  - {comment: the test flows, from: {interface: lan}, action: accept}\n")
	return []byte(b.String())
}

// policy parses policyYAML as the daemon would parse a file.
func policy(n int) (*config.Config, error) {
	cfg, err := config.Parse(fmt.Sprintf("bench-%d-rules.yaml", n), policyYAML(n))
	if err != nil {
		return nil, fmt.Errorf("policy of %d rules: %w", n, err)
	}
	return cfg, nil
}

// iptablesRules is the same policy as n linear iptables rules in FORWARD,
// for iptables-nft-restore. stateful puts the conntrack accept first, as
// admins do: then only a flow's first packet walks the rules. Without it
// every packet walks them, the replies too, and the last two rules accept.
func iptablesRules(n int, stateful bool) string {
	var b strings.Builder
	b.WriteString("*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n")
	if stateful {
		b.WriteString("-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n")
	}
	ports := rulePorts(n)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "-A FORWARD -s %s -p tcp -m tcp --dport %d -j DROP\n", srcNet(i/ports), firstPort+i%ports)
	}
	b.WriteString("-A FORWARD -i eth0 -j ACCEPT\n")
	if !stateful {
		b.WriteString("-A FORWARD -i eth1 -o eth0 -j ACCEPT\n")
	}
	b.WriteString("COMMIT\n")
	return b.String()
}
