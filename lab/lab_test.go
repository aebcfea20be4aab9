package lab

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"rampart/internal/netns"
)

const probeTimeout = 1500 * time.Millisecond

func TestCheckPrefix(t *testing.T) {
	for _, p := range []string{"rp1", "rpabc123", "rp0123456789abcd"} {
		if err := checkPrefix(p); err != nil {
			t.Errorf("checkPrefix(%q) = %v, want nil", p, err)
		}
	}
	for _, p := range []string{"", "rp", "docker", "rp-x", "rpABC", "rp0123456789abcde", "rp1/../x"} {
		if err := checkPrefix(p); err == nil {
			t.Errorf("checkPrefix(%q) = nil, want an error", p)
		}
	}
}

// addrFW gives the firewall its addresses, for tests without the daemon.
func addrFW(t *testing.T, l *Lab) {
	t.Helper()
	if err := l.AddressFirewall(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestLabForwards checks the wiring and the probes with no firewall at
// all: plain routing passes everything and rewrites nothing.
func TestLabForwards(t *testing.T) {
	l := upTest(t, 1)
	addrFW(t, l)
	for _, server := range []netip.Addr{ServerV4, ServerV6} {
		tcp, err := ServeTCP(l.Server, "[::]:7000")
		if err != nil {
			t.Fatal(err)
		}
		defer tcp.Close()
		udp, err := ServeUDP(l.Server, "[::]:7000")
		if err != nil {
			t.Fatal(err)
		}
		defer udp.Close()
		client := ClientV4
		if server.Is6() && !server.Is4() {
			client = ClientV6
		}
		dst := netip.AddrPortFrom(server, 7000)
		if r := ProbeTCP(l.Client, dst, probeTimeout); r.Outcome != Accepted || r.Peer.Addr() != client {
			t.Errorf("TCP %s: %v, want accepted from %s", dst, r, client)
		}
		if r := ProbeUDP(l.Client, dst, probeTimeout); r.Outcome != Accepted || r.Peer.Addr() != client {
			t.Errorf("UDP %s: %v, want accepted from %s", dst, r, client)
		}
		closed := netip.AddrPortFrom(server, 7001)
		if r := ProbeTCP(l.Client, closed, probeTimeout); r.Outcome != Refused {
			t.Errorf("TCP to closed port %s: %v, want refused", closed, r)
		}
		if r := ProbeUDP(l.Client, closed, probeTimeout); r.Outcome != Refused {
			t.Errorf("UDP to closed port %s: %v, want refused", closed, r)
		}
		if r := Ping(l.Client, server, probeTimeout); r.Outcome != Accepted {
			t.Errorf("ping %s: %v", server, r)
		}
		tcp.Close()
		udp.Close()
	}
}

// TestProbeSeesDrop checks that a drop reads as a timeout and a reject as
// refused, with a hand-written nft ruleset.
func TestProbeSeesDrop(t *testing.T) {
	l := upTest(t, 1)
	addrFW(t, l)
	rules := `table inet t {
	chain fw {
		type filter hook forward priority 0;
		tcp dport 7001 drop
		udp dport 7001 drop
		tcp dport 7002 reject with tcp reset
		udp dport 7002 reject
	}
}`
	cmd := l.FW[0].Command(context.Background(), "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v: %s", err, out)
	}
	servers(t, l.Server, 7001, 7002)
	var flows []flow
	for _, server := range []netip.Addr{ServerV4, ServerV6} {
		for _, proto := range []string{"tcp", "udp"} {
			flows = append(flows,
				flow{"drop", l.Client, proto, ap(server, 7001), TimedOut, netip.Addr{}},
				flow{"reject", l.Client, proto, ap(server, 7002), Refused, netip.Addr{}})
		}
	}
	check(t, flows)
}

func serve(ns *netns.NS, proto string, port uint16) (*Server, error) {
	addr := netip.AddrPortFrom(netip.IPv6Unspecified(), port).String()
	if proto == "udp" {
		return ServeUDP(ns, addr)
	}
	return ServeTCP(ns, addr)
}

// TestLongLivedConn keeps a connection open and uses it from outside the
// namespace, as failover and state sync tests will.
func TestLongLivedConn(t *testing.T) {
	l := upTest(t, 1)
	addrFW(t, l)
	srv, err := ServeTCP(l.Server, "[::]:7000")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	var conns []*Conn
	for i := 0; i < 20; i++ {
		c, err := DialTCP(l.Client, netip.AddrPortFrom(ServerV4, 7000), probeTimeout)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	for i, c := range conns {
		if err := c.Echo("ping\n", probeTimeout); err != nil {
			t.Errorf("conn %d: %v", i, err)
		}
	}
	if got := len(srv.Peers()); got != 20 {
		t.Errorf("server saw %d peers, want 20", got)
	}
}

func TestTwoNodes(t *testing.T) {
	l := upTest(t, 2)
	if err := ipBatch(context.Background(), l.FW[0].Name, []string{"addr add " + SyncA.String() + " dev eth2"}); err != nil {
		t.Fatal(err)
	}
	if err := ipBatch(context.Background(), l.FW[1].Name, []string{"addr add " + SyncB.String() + " dev eth2"}); err != nil {
		t.Fatal(err)
	}
	if r := Ping(l.FW[0], SyncB.Addr(), probeTimeout); r.Outcome != Accepted {
		t.Errorf("fw-a pings fw-b over the sync link: %v", r)
	}
	reports, err := Status(l.Prefix)
	if err != nil {
		t.Fatal(err)
	}
	if len(reports) != 1 || reports[0].Nodes != 2 {
		t.Fatalf("Status(%s) = %+v, want one report with 2 nodes", l.Prefix, reports)
	}
	got := map[string][]string{}
	for _, ns := range reports[0].Namespaces {
		for _, link := range ns.Links {
			got[strings.TrimPrefix(ns.Name, l.Prefix+"-")] = append(got[strings.TrimPrefix(ns.Name, l.Prefix+"-")], link.Name)
		}
	}
	want := map[string][]string{
		"sw":     {"lo", "br-lan", "br-wan", "lan-client", "wan-server", "lan-fwa", "wan-fwa", "lan-fwb", "wan-fwb"},
		"client": {"lo", "eth0"}, "server": {"lo", "eth0"},
		"fwa": {"lo", "eth0", "eth1", "eth2"}, "fwb": {"lo", "eth0", "eth1", "eth2"},
	}
	for host, links := range want {
		g := got[host]
		slices.Sort(g)
		slices.Sort(links)
		if !slices.Equal(g, links) {
			t.Errorf("%s links = %v, want %v", host, g, links)
		}
	}
	var buf bytes.Buffer
	Print(&buf, reports)
	for _, s := range []string{l.Prefix + "-fwb", "192.168.255.2/30", "203.0.113.100/24", "master br-lan"} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("status output lacks %q:\n%s", s, buf.String())
		}
	}
}

// TestSweepKilledRun leaves a run as a killed test would (a process
// inside, no Down) and checks that Sweep removes all of it.
func TestSweepKilledRun(t *testing.T) {
	l := upTest(t, 1)
	// The sleeper says when it runs inside, so that the sweep cannot
	// race its entry into the namespace.
	sleeper := l.Client.Command(context.Background(), "sh", "-c", "echo inside; exec sleep 60")
	out, err := sleeper.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "inside\n" {
		t.Fatalf("sleeper: %q, %v", line, err)
	}
	done := make(chan error, 1)
	go func() { done <- sleeper.Wait() }()
	prefixes, err := Prefixes()
	if err != nil || !slices.Contains(prefixes, l.Prefix) {
		t.Fatalf("Prefixes() = %v, %v; want it to hold %s", prefixes, err, l.Prefix)
	}
	if err := Sweep(l.Prefix); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Error("the process inside survived the sweep")
	}
	if names, _ := netns.List(l.Prefix + "-"); len(names) != 0 {
		t.Errorf("after Sweep: %v remain", names)
	}
	if _, err := os.Stat(statePath(l.Prefix)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state file left: %v", err)
	}
}

func TestCommand(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the lab needs root")
	}
	prefix := netns.NewPrefix()
	runs.Lock()
	runs.prefixes[prefix] = true
	runs.Unlock()
	t.Cleanup(func() { _ = Sweep(prefix) })
	ctx := context.Background()
	run := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := Command(ctx, args, &out, &errb); code != 0 {
			t.Fatalf("lab %v: exit %d: %s", args, code, errb.String())
		}
		return out.String()
	}
	if out := run("up", "--prefix", prefix, "--nodes", "2"); !strings.Contains(out, prefix+"-fwb") {
		t.Errorf("up output lacks %s-fwb:\n%s", prefix, out)
	}
	if out := run("status", "--prefix", prefix); !strings.Contains(out, "192.168.1.100/24") {
		t.Errorf("status output lacks the client address:\n%s", out)
	}
	var errb bytes.Buffer
	if code := Command(ctx, []string{"up", "--prefix", prefix}, &bytes.Buffer{}, &errb); code == 0 {
		t.Errorf("a second up with the same prefix succeeded")
	}
	run("down", "--prefix", prefix)
	if names, _ := netns.List(prefix + "-"); len(names) != 0 {
		t.Errorf("after down: %v remain", names)
	}
	if code := Command(ctx, []string{"frobnicate"}, &bytes.Buffer{}, &errb); code != 2 {
		t.Errorf("unknown command: exit %d, want 2", code)
	}
}

// fakeDaemon is a stand-in for rampart run: it logs ready and exits 0 on
// SIGTERM, so that the node plumbing is tested without the firewall.
const fakeDaemon = `#!/bin/sh
trap 'echo "level=INFO msg=reloaded" >&2' HUP
trap 'echo "level=INFO msg=stopping" >&2; exit 0' TERM
echo "started $*"
echo 'time=now level=INFO msg=ready hostname=fake' >&2
i=0
while [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done
`

func TestNodeLifecycle(t *testing.T) {
	l := upTest(t, 1)
	bin := filepath.Join(t.TempDir(), "fake")
	if err := os.WriteFile(bin, []byte(fakeDaemon), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := l.StartNode(ctx, 0, bin, "/nonexistent.yaml", "--extra")
	if err != nil {
		t.Fatal(err)
	}
	inside, err := os.Readlink("/proc/" + strconv.Itoa(n.PID()) + "/ns/net")
	if err != nil {
		t.Fatal(err)
	}
	var want string
	_ = l.FW[0].Do(func() error { want, err = os.Readlink("/proc/thread-self/ns/net"); return err })
	if inside != want {
		t.Errorf("daemon runs in %s, want the fw namespace %s", inside, want)
	}
	mark := n.Mark()
	if err := n.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	if _, err := n.WaitLog(ctx, mark, "msg=reloaded"); err != nil {
		t.Fatal(err)
	}
	if err := n.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	log := n.Log()
	for _, s := range []string{"started run --config /nonexistent.yaml --extra", "msg=ready", "msg=stopping"} {
		if !strings.Contains(log, s) {
			t.Errorf("log lacks %q:\n%s", s, log)
		}
	}
	if _, err := n.WaitLog(ctx, n.Mark(), "never"); err == nil {
		t.Error("WaitLog after exit succeeded")
	}
}

func TestNodeNotReady(t *testing.T) {
	l := upTest(t, 1)
	bin := filepath.Join(t.TempDir(), "fail")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho 'level=ERROR msg=exiting err=boom' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := l.StartNode(context.Background(), 0, bin, "x.yaml")
	if err == nil || !strings.Contains(err.Error(), "err=boom") {
		t.Errorf("StartNode of a failing daemon: %v, want an error quoting its log", err)
	}
	if _, err := l.StartNode(context.Background(), 1, bin, "x.yaml"); err == nil {
		t.Error("StartNode(1) in a one-node lab succeeded")
	}
}
