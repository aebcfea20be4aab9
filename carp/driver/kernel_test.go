package driver

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"rampart/carp"
	"rampart/config"
	"rampart/internal/netns"
)

// Kernel tests: two drivers in this process, each in its own network
// namespace (Options.Enter), joined by a heartbeat veth and a LAN bridge,
// and a third namespace that injects packets. Root only.

type testNet struct {
	sw, a, b, c *netns.NS
}

func newTestNet(t *testing.T) *testNet {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("kernel test: needs root")
	}
	prefix := netns.NewPrefix()
	n := &testNet{}
	for _, x := range []struct {
		p    **netns.NS
		name string
	}{{&n.sw, "sw"}, {&n.a, "a"}, {&n.b, "b"}, {&n.c, "c"}} {
		ns, err := netns.New(prefix + "-" + x.name)
		if err != nil {
			t.Fatal(err)
		}
		*x.p = ns
		t.Cleanup(func() { ns.Close() })
	}
	run := func(ns *netns.NS, cmds ...string) {
		t.Helper()
		for _, c := range cmds {
			if err := ns.Run("ip", strings.Fields(c)...); err != nil {
				t.Fatal(err)
			}
		}
	}
	run(n.sw, "link add br0 type bridge mcast_snooping 0", "link set br0 up")
	for _, h := range []struct {
		ns   *netns.NS
		port string
	}{{n.a, "pa"}, {n.b, "pb"}, {n.c, "pc"}} {
		run(n.sw, "link add "+h.port+" type veth peer name eth0 netns "+h.ns.Name, "link set "+h.port+" master br0", "link set "+h.port+" up")
	}
	run(n.a, "link add eth2 index 40 type veth peer name eth2 index 41 netns "+n.b.Name)
	for i, ns := range []*netns.NS{n.a, n.b} {
		run(ns, "link set eth0 up", "link set eth2 up",
			fmt.Sprintf("addr add 192.168.1.%d/24 dev eth0", 2+i), fmt.Sprintf("addr add 192.168.255.%d/30 dev eth2", 1+i))
	}
	run(n.c, "link set eth0 up", "addr add 192.168.1.100/24 dev eth0")
	return n
}

const testPassphrase = "kernel-test-advert-key"

func testConfig(t *testing.T, node string, priority int) *config.Config {
	t.Helper()
	host, sync, peer := 2, 1, 2
	if node == "b" {
		host, sync, peer = 3, 2, 1
	}
	doc := fmt.Sprintf(`schema_version: 1
hostname: fw-%[1]s
interfaces:
  lan: { device: eth0, addresses: [192.168.1.%[2]d/24] }
  sync: { device: eth2, addresses: [192.168.255.%[3]d/30] }
rules: []
management: { interfaces: [lan] }
ha:
  node_id: %[1]s
  heartbeat: sync
  peers: [192.168.255.%[4]d]
  auth: { key_id: 1, passphrase: %[6]s }
  groups:
    - vhid: 1
      priority: %[5]d
      advbase: 20ms
      vips: [{ interface: lan, address: 192.168.1.1/24 }]
`, node, host, sync, peer, priority, testPassphrase)
	c, err := config.Parse(node+".yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// testDriver is a started driver and its transitions.
type testDriver struct {
	*Driver
	ns  *netns.NS
	trs chan Transition
}

func startDriver(t *testing.T, ns *netns.NS, cfg *config.Config, epoch uint64) *testDriver {
	t.Helper()
	d, err := New(Options{Config: cfg, Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil)), Enter: ns.Do, Epoch: epoch})
	if err != nil {
		t.Fatal(err)
	}
	td := &testDriver{Driver: d, ns: ns, trs: make(chan Transition, 64)}
	d.OnTransition(func(g uint8, from, to carp.State, why carp.Why) {
		td.trs <- Transition{Group: g, From: from, To: to, Reason: why}
	})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return td
}

// waitState waits for a transition to state to, and returns it.
func (td *testDriver) waitState(t *testing.T, to carp.State) Transition {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case tr := <-td.trs:
			if tr.To == to {
				return tr
			}
		case <-timeout:
			t.Fatalf("no transition to %v within 5s; states %v", to, td.States())
		}
	}
}

// noTransition fails if a transition is reported within d.
func (td *testDriver) noTransition(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case tr := <-td.trs:
		t.Errorf("unexpected transition %+v", tr)
	case <-time.After(d):
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

var _ io.Writer = testWriter{}

// addrs returns the addresses of dev in ns, or nil if dev is missing.
func addrs(t *testing.T, ns *netns.NS, dev string) []string {
	t.Helper()
	out, err := ns.Output("ip", "-o", "addr", "show", "dev", dev)
	if err != nil {
		return nil
	}
	var got []string
	for _, f := range strings.Split(out, "\n") {
		if fs := strings.Fields(f); len(fs) > 3 {
			got = append(got, fs[3])
		}
	}
	return got
}

func TestKernelElectionBowOut(t *testing.T) {
	n := newTestNet(t)
	a := startDriver(t, n.a, testConfig(t, "a", 200), 0)
	a.waitState(t, carp.Master)
	b := startDriver(t, n.b, testConfig(t, "b", 100), 0)
	b.waitState(t, carp.Backup)
	b.noTransition(t, 30*carpAdv)
	mv := MacvlanName("eth0", 1)
	if got := addrs(t, n.a, mv); !contains(got, "192.168.1.1/24") {
		t.Errorf("master's %s addresses = %v, want the VIP", mv, got)
	}
	if got := addrs(t, n.b, mv); contains(got, "192.168.1.1/24") {
		t.Errorf("backup's %s holds the VIP: %v", mv, got)
	}
	if out, _ := n.a.Output("nft", "list", "set", "netdev", gateTable, "active"); !strings.Contains(out, "00:00:5e:00:01:01") {
		t.Errorf("the master's gate does not list its virtual MAC:\n%s", out)
	}
	if c := a.Counters(); c.Sent == 0 || c.Transitions < 2 || c.Announcements == 0 {
		t.Errorf("master counters %+v: want adverts sent, two transitions, announcements", c)
	}
	if c := b.Counters(); c.Accepted == 0 || c.Rejected["duplicate"] == 0 {
		t.Errorf("backup counters %+v: want accepted adverts and the second path's duplicates", c)
	}

	a.Close()
	if tr := b.waitState(t, carp.Master); tr.Reason != carp.WhyBowOut {
		t.Errorf("backup took over with reason %v, want bow_out", tr.Reason)
	}
	if got := addrs(t, n.a, mv); got != nil {
		t.Errorf("after Close, %s still exists on the old master with %v", mv, got)
	}
	if got := addrs(t, n.b, mv); !contains(got, "192.168.1.1/24") {
		t.Errorf("new master's %s addresses = %v, want the VIP", mv, got)
	}
}

const carpAdv = 20 * time.Millisecond

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestKernelRejects injects adverts from a third host on the LAN: forged
// (another key), tampered (a captured advert with one byte changed),
// replayed (validly signed, from an epoch before the sender's current
// one), a captured one resent, and one with a TTL other than 255. Each is
// rejected and counted under its reason, and none moves a VIP.
func TestKernelRejects(t *testing.T) {
	n := newTestNet(t)
	const epochA = 1_000_000
	a := startDriver(t, n.a, testConfig(t, "a", 200), epochA)
	a.waitState(t, carp.Master)
	b := startDriver(t, n.b, testConfig(t, "b", 100), 0)
	b.waitState(t, carp.Backup)

	inj := newInjector(t, n.c)
	captured := inj.capture(t)
	before := b.Counters().Rejected

	good, err := carp.DeriveKey([]byte(testPassphrase), 1)
	if err != nil {
		t.Fatal(err)
	}
	wrong, err := carp.DeriveKey([]byte("not the key at all"), 1)
	if err != nil {
		t.Fatal(err)
	}
	node, _ := carp.ParseNodeID("a")
	forged := carp.Advert{Type: carp.TypeAdvert, VHID: 1, AdvBaseMS: 20, KeyID: 1, Node: node, Epoch: epochA + 1, Seq: 1}
	tampered := append([]byte(nil), captured...)
	tampered[2] = 0 // advskew 0: the best priority there is
	old := forged
	old.Epoch = epochA - 1

	want := map[string]uint64{"auth": 2 * 3, "replay": 3, "duplicate": 3, "ttl": 3}
	for range 3 {
		inj.send(t, forged.Marshal(&wrong), carp.TTL)
		inj.send(t, tampered, carp.TTL)
		inj.send(t, old.Marshal(&good), carp.TTL)
		inj.send(t, captured, carp.TTL)
		forged.Seq++
		inj.send(t, forged.Marshal(&good), 64)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		after := b.Counters().Rejected
		short := ""
		for r, w := range want {
			// duplicate also counts the second path's copies of real
			// adverts: at least w more.
			if got := after[r] - before[r]; got < w || (r != "duplicate" && got != w) {
				short += fmt.Sprintf(" %s: %d more, want %d;", r, got, w)
			}
		}
		if short == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("backup's rejections:%s counters %+v", short, b.Counters())
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.noTransition(t, 10*carpAdv)
	a.noTransition(t, 0)
	if c := b.Counters(); c.Unverified != 0 {
		t.Errorf("adverts from a LAN host that fail authentication held the backup down (%d): only the heartbeat peer may", c.Unverified)
	}
}

// injector sends and captures raw protocol-112 packets on a LAN host.
type injector struct {
	fd int
}

func newInjector(t *testing.T, ns *netns.NS) *injector {
	t.Helper()
	var fd int
	err := ns.Do(func() error {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		if fd, err = unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, carp.Proto); err != nil {
			return err
		}
		return errors.Join(
			unix.SetsockoptIPMreqn(fd, unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, &unix.IPMreqn{Multiaddr: groupV4.As4(), Ifindex: int32(ifi.Index)}),
			unix.SetsockoptIPMreqn(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_IF, &unix.IPMreqn{Ifindex: int32(ifi.Index)}),
			unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP, 0),
		)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return &injector{fd: fd}
}

// capture returns the next advert heard on the LAN (the master's second
// path), without its IP header.
func (in *injector) capture(t *testing.T) []byte {
	t.Helper()
	tv := unix.NsecToTimeval(int64(2 * time.Second))
	if err := unix.SetsockoptTimeval(in.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	n, _, err := unix.Recvfrom(in.fd, buf, 0)
	if err != nil {
		t.Fatalf("capture an advert: %v", err)
	}
	ihl := int(buf[0]&0x0f) * 4
	if n-ihl != carp.Len {
		t.Fatalf("captured %d bytes of payload, want %d", n-ihl, carp.Len)
	}
	return append([]byte(nil), buf[ihl:n]...)
}

func (in *injector) send(t *testing.T, pkt []byte, ttl int) {
	t.Helper()
	if err := unix.SetsockoptInt(in.fd, unix.IPPROTO_IP, unix.IP_MULTICAST_TTL, ttl); err != nil {
		t.Fatal(err)
	}
	if err := unix.Sendto(in.fd, pkt, 0, &unix.SockaddrInet4{Addr: groupV4.As4()}); err != nil {
		t.Fatal(err)
	}
}
