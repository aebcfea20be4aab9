package ctnl

import (
	"strings"
	"testing"

	"rampart/internal/netns"
)

// natRuleset loads empty NAT chains for IPv4 and IPv6: the kernel
// translates an injected NAT entry only when NAT hooks are registered in
// its namespace.
const natRuleset = `
table ip nat {
	chain pre { type nat hook prerouting priority dstnat; }
	chain post { type nat hook postrouting priority srcnat; }
}
table ip6 nat {
	chain pre { type nat hook prerouting priority dstnat; }
	chain post { type nat hook postrouting priority srcnat; }
}
`

func run(t testing.TB, ns *netns.NS, args ...string) string {
	t.Helper()
	out, err := ns.Output(args[0], args[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func dialNS(t testing.TB, ns *netns.NS, cfg Config) *Conn {
	t.Helper()
	cfg.NetNS = ns.Fd()
	c, err := Dial(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
