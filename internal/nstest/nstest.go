// Package nstest gives kernel tests network namespaces under one run
// prefix, removed when the test ends (on failure too), and small helpers
// to act inside them.
package nstest

import (
	"os"
	"testing"

	"rampart/internal/netns"
)

// Lab is a test's set of namespaces.
type Lab struct {
	t      testing.TB
	Prefix string
}

// New skips the test unless it runs as root, and sweeps every namespace
// of the returned Lab when the test ends.
func New(t testing.TB) *Lab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("kernel test: needs root")
	}
	l := &Lab{t: t, Prefix: netns.NewPrefix()}
	t.Cleanup(func() {
		if err := netns.Sweep(l.Prefix); err != nil {
			t.Errorf("sweep: %v", err)
		}
	})
	return l
}

// NS creates the namespace <prefix><name>.
func (l *Lab) NS(name string) *netns.NS {
	l.t.Helper()
	ns, err := netns.New(l.Prefix + name)
	if err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() { _ = ns.Close() })
	return ns
}

// Nft loads a ruleset into ns with the nft binary.
func Nft(t testing.TB, ns *netns.NS, ruleset string) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "ruleset")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(ruleset); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := ns.Run("nft", "-f", f.Name()); err != nil {
		t.Fatal(err)
	}
}
