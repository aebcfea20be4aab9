package firewall

import (
	"net"
	"os"
	"testing"
	"time"

	"rampart/internal/netns"
)

// needRoot skips kernel tests for users who cannot make namespaces.
func needRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

// newNS creates a fresh network namespace that the test removes.
func newNS(t testing.TB, name string) *netns.NS {
	t.Helper()
	prefix := netns.NewPrefix()
	ns, err := netns.New(prefix + "-" + name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = netns.Sweep(prefix) })
	return ns
}

// newFirewall opens a Firewall on a namespace.
func newFirewall(t testing.TB, ns *netns.NS) *Firewall {
	t.Helper()
	fw, err := New(Options{NetNSFd: ns.Fd()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fw.Close() })
	return fw
}

// dialTCP opens a connection and gives up before a SYN retransmission.
func dialTCP(addr string) {
	c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
	if err == nil {
		c.Close()
	}
}

// sendUDP sends n datagrams of size bytes from an unconnected socket, so
// that ICMP errors coming back do not stop the next send.
func sendUDP(addr string, n, size int) error {
	c, err := net.ListenPacket("udp4", ":0")
	if err != nil {
		return err
	}
	defer c.Close()
	to, err := net.ResolveUDPAddr("udp4", addr)
	if err != nil {
		return err
	}
	for range n {
		if _, err := c.WriteTo(make([]byte, size), to); err != nil {
			return err
		}
	}
	return nil
}
