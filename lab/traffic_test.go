package lab

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"rampart/internal/netns"
)

// The traffic tests run the real daemon (built by TestMain) in the lab and
// prove its policy with real TCP and UDP connections.

// startDaemon runs the rampart binary in fw-a with config (a testdata file
// name, or "" for the embedded default) and waits until it is ready.
func startDaemon(t *testing.T, l *Lab, config string) *Node {
	t.Helper()
	if daemonBinary == "" {
		t.Fatalf("no daemon binary: %s", daemonMissing)
	}
	if config != "" && !filepath.IsAbs(config) {
		abs, err := filepath.Abs(filepath.Join("testdata", config))
		if err != nil {
			t.Fatal(err)
		}
		config = abs
	}
	ctx, cancel := context.WithTimeout(context.Background(), ReadyTimeout)
	defer cancel()
	n, err := l.StartNode(ctx, 0, daemonBinary, config)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// flow is one expected outcome of a probe.
type flow struct {
	name  string
	from  *netns.NS
	proto string // tcp, udp, icmp
	dst   netip.AddrPort
	want  Outcome
	peer  netip.Addr // the source the far end must see; zero: any
}

// check runs the probes in parallel (a drop costs a whole timeout) and
// reports every flow that did not go as expected.
func check(t *testing.T, flows []flow) {
	t.Helper()
	results := make([]Result, len(flows))
	var wg sync.WaitGroup
	for i, f := range flows {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = probe(f)
		}()
	}
	wg.Wait()
	for i, f := range flows {
		r := results[i]
		if r.Outcome != f.want || (f.peer.IsValid() && r.Outcome == Accepted && r.Peer.Addr() != f.peer) {
			want := f.want.String()
			if f.peer.IsValid() {
				want += " seen from " + f.peer.String()
			}
			t.Errorf("%s: %s %s: got %v, want %s", f.name, f.proto, f.dst, r, want)
		}
	}
}

func probe(f flow) Result {
	switch f.proto {
	case "tcp":
		return ProbeTCP(f.from, f.dst, probeTimeout)
	case "udp":
		return ProbeUDP(f.from, f.dst, probeTimeout)
	case "icmp":
		return Ping(f.from, f.dst.Addr(), probeTimeout)
	}
	return Result{Outcome: Failed, Err: fmt.Errorf("unknown protocol %q", f.proto)}
}

// servers starts a TCP and a UDP Server on each port in ns, closed at the
// end of the test.
func servers(t *testing.T, ns *netns.NS, ports ...uint16) {
	t.Helper()
	for _, port := range ports {
		for _, proto := range []string{"tcp", "udp"} {
			s, err := serve(ns, proto, port)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
		}
	}
}

func ap(a netip.Addr, port uint16) netip.AddrPort { return netip.AddrPortFrom(a, port) }

// TestDefaultPolicy runs the embedded default config: the LAN goes out,
// IPv4 masqueraded and IPv6 routed; nothing new comes in from the WAN.
func TestDefaultPolicy(t *testing.T) {
	l := upTest(t, 1)
	startDaemon(t, l, "")
	servers(t, l.Server, 7000)
	servers(t, l.Client, 7000)
	check(t, []flow{
		{"LAN to WAN, masqueraded", l.Client, "tcp", ap(ServerV4, 7000), Accepted, WANFirewallV4},
		{"LAN to WAN, masqueraded", l.Client, "udp", ap(ServerV4, 7000), Accepted, WANFirewallV4},
		{"IPv6 LAN to WAN, routed", l.Client, "tcp", ap(ServerV6, 7000), Accepted, ClientV6},
		{"IPv6 LAN to WAN, routed", l.Client, "udp", ap(ServerV6, 7000), Accepted, ClientV6},
		{"ping from the LAN", l.Client, "icmp", ap(ServerV4, 0), Accepted, netip.Addr{}},
		{"WAN to LAN, new", l.Server, "tcp", ap(ClientV4, 7000), TimedOut, netip.Addr{}},
		{"WAN to LAN, new", l.Server, "udp", ap(ClientV4, 7000), TimedOut, netip.Addr{}},
		{"IPv6 WAN to LAN, new", l.Server, "tcp", ap(ClientV6, 7000), TimedOut, netip.Addr{}},
		{"IPv6 WAN to LAN, new", l.Server, "udp", ap(ClientV6, 7000), TimedOut, netip.Addr{}},
		{"ping the firewall from the WAN", l.Server, "icmp", ap(WANFirewallV4, 0), Accepted, netip.Addr{}},
		{"ping the firewall from the WAN", l.Server, "icmp", ap(WANFirewallV6, 0), Accepted, netip.Addr{}},
		{"ping the firewall from the LAN", l.Client, "icmp", ap(LANGatewayV6, 0), Accepted, netip.Addr{}},
	})
}

// TestDropAndReject: a drop rule makes the client time out, a reject rule
// refuses it at once, for TCP and UDP over both families.
func TestDropAndReject(t *testing.T) {
	l := upTest(t, 1)
	startDaemon(t, l, "droprej.yaml")
	servers(t, l.Server, 7001, 7002, 7003)
	var flows []flow
	for _, dst := range []netip.Addr{ServerV4, ServerV6} {
		for _, proto := range []string{"tcp", "udp"} {
			flows = append(flows,
				flow{"drop rule", l.Client, proto, ap(dst, 7001), TimedOut, netip.Addr{}},
				flow{"reject rule", l.Client, proto, ap(dst, 7002), Refused, netip.Addr{}},
				flow{"no rule: LAN accept", l.Client, proto, ap(dst, 7003), Accepted, netip.Addr{}})
		}
	}
	check(t, flows)
}

// TestPortForward: the server reaches the client's listener through the
// firewall's WAN address, and the client sees the server's real address.
func TestPortForward(t *testing.T) {
	l := upTest(t, 1)
	startDaemon(t, l, "portforward.yaml")
	servers(t, l.Client, 80, 53, 7000)
	check(t, []flow{
		{"TCP port forward", l.Server, "tcp", ap(WANFirewallV4, 8080), Accepted, ServerV4},
		{"UDP port forward", l.Server, "udp", ap(WANFirewallV4, 8053), Accepted, ServerV4},
		{"a port not forwarded", l.Server, "tcp", ap(WANFirewallV4, 8081), TimedOut, netip.Addr{}},
		{"the target port directly", l.Server, "tcp", ap(ClientV4, 80), TimedOut, netip.Addr{}},
		{"another LAN port directly", l.Server, "tcp", ap(ClientV4, 7000), TimedOut, netip.Addr{}},
	})
}

// TestAntiLockout: the admin UI port answers from the LAN although a rule
// drops all LAN input, and never from the WAN. The UI is not written yet,
// so the test listens on its port inside the firewall itself; once the
// daemon serves the UI there, the test probes the UI instead.
func TestAntiLockout(t *testing.T) {
	l := upTest(t, 1)
	startDaemon(t, l, "lockout.yaml")
	ui, err := ServeTCP(l.FW[0], "[::]:443")
	if err != nil && !strings.Contains(err.Error(), "address already in use") {
		t.Fatal(err)
	}
	if ui != nil {
		t.Cleanup(func() { ui.Close() })
	}
	var flows []flow
	if ui != nil {
		flows = []flow{
			{"UI from the LAN", l.Client, "tcp", ap(LANGatewayV4, 443), Accepted, ClientV4},
			{"UI from the LAN", l.Client, "tcp", ap(LANGatewayV6, 443), Accepted, ClientV6},
		}
	}
	servers(t, l.FW[0], 7000)
	flows = append(flows,
		flow{"UI from the WAN", l.Server, "tcp", ap(WANFirewallV4, 443), TimedOut, netip.Addr{}},
		flow{"UI from the WAN", l.Server, "tcp", ap(WANFirewallV6, 443), TimedOut, netip.Addr{}},
		flow{"the LAN's own address from the WAN", l.Server, "tcp", ap(LANGatewayV4, 443), TimedOut, netip.Addr{}},
		flow{"other input from the LAN (the rule)", l.Client, "tcp", ap(LANGatewayV4, 7000), TimedOut, netip.Addr{}},
	)
	check(t, flows)
	if ui == nil {
		if r := probeTCPConnect(l.Client, ap(LANGatewayV4, 443)); r.Outcome != Accepted {
			t.Errorf("the daemon's UI from the LAN: %v, want accepted", r)
		}
	}
}

// probeTCPConnect only connects: for a listener that is not a Server.
func probeTCPConnect(ns *netns.NS, dst netip.AddrPort) Result {
	_, err := DialTCP(ns, dst, probeTimeout)
	if err != nil && strings.Contains(err.Error(), "greeting") {
		return Result{Outcome: Accepted}
	}
	return Result{Outcome: Classify(err), Err: err}
}

// TestReload: SIGHUP applies a changed file; a broken file on SIGHUP is
// rejected and the ruleset in force stays.
func TestReload(t *testing.T) {
	l := upTest(t, 1)
	cfg := filepath.Join(t.TempDir(), "rampart.yaml")
	copyFile(t, "testdata/portforward.yaml", cfg)
	n := startDaemon(t, l, cfg)
	servers(t, l.Server, 7001, 7002, 7003)
	check(t, []flow{{"before reload", l.Client, "tcp", ap(ServerV4, 7001), Accepted, WANFirewallV4}})

	reload(t, n, cfg, "testdata/droprej.yaml", "msg=reloaded")
	after := []flow{
		{"dropped after reload", l.Client, "tcp", ap(ServerV4, 7001), TimedOut, netip.Addr{}},
		{"rejected after reload", l.Client, "tcp", ap(ServerV4, 7002), Refused, netip.Addr{}},
		{"still accepted", l.Client, "tcp", ap(ServerV4, 7003), Accepted, WANFirewallV4},
	}
	check(t, after)

	reload(t, n, cfg, "testdata/invalid.yaml", "reload rejected")
	for i := range after {
		after[i].name += ", then an invalid reload"
	}
	check(t, after)
	if err := n.Err(); err != nil {
		t.Errorf("the daemon exited on an invalid reload: %v", err)
	}
}

// reload puts src in place of the daemon's config, sends SIGHUP and waits
// for a log line containing want.
func reload(t *testing.T, n *Node, cfg, src, want string) {
	t.Helper()
	copyFile(t, src, cfg)
	mark := n.Mark()
	if err := n.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), ReadyTimeout)
	defer cancel()
	if _, err := n.WaitLog(ctx, mark, want); err != nil {
		t.Fatalf("after SIGHUP with %s: %v", src, err)
	}
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	// Write and rename, as an admin's editor does, so that the daemon
	// never reads half a file.
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		t.Fatal(err)
	}
}

// TestStopLeavesFirewall: after SIGTERM the daemon is gone but its ruleset
// stays in force. A firewall must not fail open when its daemon exits.
func TestStopLeavesFirewall(t *testing.T) {
	l := upTest(t, 1)
	n := startDaemon(t, l, "")
	if err := n.Stop(); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	if out, err := l.FW[0].Output("nft", "list", "table", "inet", "rampart"); err != nil {
		t.Fatalf("after the daemon exited: %v", err)
	} else if !strings.Contains(out, "chain") {
		t.Errorf("nft list table inet rampart after exit:\n%s", out)
	}
	servers(t, l.Server, 7000)
	servers(t, l.Client, 7000)
	check(t, []flow{
		{"WAN to LAN after the daemon exited", l.Server, "tcp", ap(ClientV4, 7000), TimedOut, netip.Addr{}},
		{"WAN to LAN after the daemon exited", l.Server, "tcp", ap(ClientV6, 7000), TimedOut, netip.Addr{}},
		{"LAN to WAN after the daemon exited", l.Client, "tcp", ap(ServerV4, 7000), Accepted, WANFirewallV4},
	})
}

// TestDaemonRefusesBadConfig: a daemon given an invalid file does not
// start, and says why.
func TestDaemonRefusesBadConfig(t *testing.T) {
	l := upTest(t, 1)
	if daemonBinary == "" {
		t.Fatalf("no daemon binary: %s", daemonMissing)
	}
	cfg, _ := filepath.Abs("testdata/invalid.yaml")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := l.StartNode(ctx, 0, daemonBinary, cfg)
	if err == nil || !strings.Contains(err.Error(), "invalid.yaml") {
		t.Errorf("StartNode with an invalid config: %v, want a failure naming the file", err)
	}
}
