package main

import (
	"strings"
	"testing"

	"rampart/firewall"
)

// TestPolicy checks that both forms of the benchmark policy hold the same
// rules: the config parses and compiles, and the iptables form has one
// line per rule.
func TestPolicy(t *testing.T) {
	const n = 10000
	cfg, err := policy(n)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(cfg.Rules); got != n+1 {
		t.Errorf("config has %d rules, want %d", got, n+1)
	}
	if _, err := firewall.Compile(cfg); err != nil {
		t.Fatal(err)
	}
	for _, stateful := range []bool{true, false} {
		rules := iptablesRules(n, stateful)
		if got := strings.Count(rules, "-j DROP\n"); got != n {
			t.Errorf("stateful=%v: %d drop rules, want %d", stateful, got, n)
		}
		if got := strings.Contains(rules, "--ctstate ESTABLISHED,RELATED"); got != stateful {
			t.Errorf("stateful=%v: conntrack accept present = %v", stateful, got)
		}
	}
	// No test flow may match a drop: the lab's addresses are not in 10/8
	// and the servers' ports are below the dropped range.
	if sinkPort >= firstPort || iperfPort >= firstPort {
		t.Errorf("server ports %d, %d fall in the dropped range from %d", sinkPort, iperfPort, firstPort)
	}
}
