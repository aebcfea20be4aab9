package ctnl

import (
	"os"
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

// lab makes namespaces under one run prefix and removes them when the
// test ends.
type lab struct {
	t      testing.TB
	prefix string
}

func newLab(t testing.TB) *lab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("kernel test: needs root")
	}
	l := &lab{t: t, prefix: netns.NewPrefix()}
	t.Cleanup(func() {
		if err := netns.Sweep(l.prefix); err != nil {
			t.Errorf("sweep: %v", err)
		}
	})
	return l
}

func (l *lab) ns(name string) *netns.NS {
	l.t.Helper()
	ns, err := netns.New(l.prefix + name)
	if err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() { _ = ns.Close() })
	return ns
}

func run(t testing.TB, ns *netns.NS, args ...string) string {
	t.Helper()
	out, err := ns.Output(args[0], args[1:]...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// nft loads a ruleset into ns with the nft binary.
func nft(t testing.TB, ns *netns.NS, ruleset string) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "ruleset")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(ruleset); err != nil {
		t.Fatal(err)
	}
	f.Close()
	run(t, ns, "nft", "-f", f.Name())
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
