package appliance

import (
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"rampart/config"
	"rampart/firewall"
	"rampart/internal/netns"
	"rampart/internal/nstest"
)

// TestFirewallLogKernel: a packet that a logged rule drops, in a namespace
// of its own, reaches the daemon over NFLOG and shows in Backend.Logs as
// one parsed line.
func TestFirewallLogKernel(t *testing.T) {
	lab := nstest.New(t) // skips unless root; removes the namespaces after
	fwNS, client := lab.NS("fw"), lab.NS("cl")
	veth(t, fwNS, client, "10.9.0.1/24", "10.9.0.2/24")

	cfg, err := config.Parse("test", []byte(`schema_version: 1
hostname: fw
interfaces:
  lan: {device: veth0, addresses: [10.9.0.1/24]}
rules:
  - {comment: quiet port, chain: input, from: {interface: lan}, protocol: udp, to: {ports: [9999]}, action: drop, log: true}
management: {interfaces: [lan]}
`))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := firewall.Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	fw, err := firewall.New(firewall.Options{NetNSFd: fwNS.Fd()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fw.Close() })
	if err := fw.Apply(rs); err != nil {
		t.Fatal(err)
	}

	d := &Daemon{ui: uiState{logs: newLogRing(), now: time.Now}}
	l, err := listenFirewallLog(fwLogOptions{
		NetNSFd: fwNS.Fd(), Ring: d.ui.logs, Now: d.ui.now, Log: slog.New(slog.DiscardHandler),
		IfName: func(i uint32) string {
			name := fmt.Sprintf("if%d", i)
			_ = fwNS.Do(func() error {
				ifi, err := net.InterfaceByIndex(int(i))
				if err == nil {
					name = ifi.Name
				}
				return err
			})
			return name
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	l.setConfig(cfg)
	// A second listener in the same namespace is refused: the group is ours.
	if l2, err := listenFirewallLog(fwLogOptions{NetNSFd: fwNS.Fd(), Ring: newLogRing(), Log: slog.New(slog.DiscardHandler)}); err == nil {
		l2.Close()
		t.Error("a second listener bound the same group")
	} else if !strings.Contains(err.Error(), "bind nflog group 10") {
		t.Errorf("second listener: %v", err)
	}

	var src string
	if err := client.Do(func() error {
		c, err := net.Dial("udp", "10.9.0.1:9999")
		if err != nil {
			return err
		}
		defer c.Close()
		src = c.LocalAddr().String()
		_, err = c.Write([]byte("hello, firewall"))
		return err
	}); err != nil {
		t.Fatal(err)
	}

	// Read what the kernel sent, without a goroutine or a sleep: the
	// deadline only keeps a broken kernel from hanging the test.
	if err := l.conn.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for range 10 {
		if !l.receive() {
			break
		}
		lines = lines[:0]
		for _, ln := range d.Logs(0, 100) {
			if ln.Kind == "firewall" {
				lines = append(lines, ln.Text)
			}
		}
		if len(lines) > 0 {
			break
		}
	}
	want := "rule 1 (quiet port) drop: in=lan (veth0) udp " + src + " → 10.9.0.1:9999 len 43"
	if len(lines) != 1 || lines[0] != want {
		t.Errorf("firewall lines in Backend.Logs:\n%q\nwant\n%q", lines, want)
	}
}

// veth connects two namespaces with a veth pair, veth0 on each side; the
// pair is made inside a, never on the host.
func veth(t *testing.T, a, b *netns.NS, addrA, addrB string) {
	t.Helper()
	for _, s := range []struct {
		ns   *netns.NS
		cmds [][]string
	}{
		{a, [][]string{
			{"ip", "link", "add", "veth0", "type", "veth", "peer", "name", "veth1", "netns", b.Name},
			{"ip", "addr", "add", addrA, "dev", "veth0"}, {"ip", "link", "set", "veth0", "up"},
		}},
		{b, [][]string{
			{"ip", "link", "set", "veth1", "name", "veth0"},
			{"ip", "addr", "add", addrB, "dev", "veth0"}, {"ip", "link", "set", "veth0", "up"},
		}},
	} {
		for _, c := range s.cmds {
			if err := s.ns.Run(c[0], c[1:]...); err != nil {
				t.Fatal(err)
			}
		}
	}
}
