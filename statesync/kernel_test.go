package statesync

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"rampart/internal/nstest"
	"strings"
	"sync"
	"testing"
	"time"

	"rampart/internal/netns"
	"rampart/statesync/ctnl"
)

// Kernel tests: root only, in namespaces named with a fresh prefix and
// swept when the test ends. They never touch the host's table.

// sh runs one command per line inside ns.
func sh(t testing.TB, ns *netns.NS, script string) {
	t.Helper()
	for _, line := range strings.Split(script, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if err := ns.Run(f[0], f[1:]...); err != nil {
			t.Fatal(err)
		}
	}
}

// fw1Ruleset forwards everything, masquerades to the server's port 8081
// and forwards port 9000 of the WAN address to the client.
const fw1Ruleset = `
table ip nat {
	chain pre {
		type nat hook prerouting priority dstnat;
		iifname "wan" tcp dport 9000 dnat to 10.77.1.2
	}
	chain post {
		type nat hook postrouting priority srcnat;
		oifname "wan" tcp dport 8081 masquerade
	}
}
`

// natChains are the NAT hooks the box that takes over needs, so that
// the NAT bindings of committed entries translate.
const natChains = `
table ip nat {
	chain pre { type nat hook prerouting priority dstnat; }
	chain post { type nat hook postrouting priority srcnat; }
}
`

func listenIn(t testing.TB, ns *netns.NS, addr string) net.Listener {
	t.Helper()
	var ln net.Listener
	if err := ns.Do(func() (err error) { ln, err = net.Listen("tcp4", addr); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// echo serves ln until it closes, echoing every connection.
func echo(ln net.Listener) {
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
}

func dialerIn(ns *netns.NS) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := ns.Do(func() (err error) {
			var d net.Dialer
			c, err = d.DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}
}

// connect opens a TCP connection from ns and exchanges a line, so that
// the flow is established in both directions.
func connect(t testing.TB, ns *netns.NS, addr string) net.Conn {
	t.Helper()
	c, err := dialerIn(ns)(context.Background(), "tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(c, "hello\n"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 6)
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatalf("echo through %s: %v", addr, err)
	}
	return c
}

func localPort(c net.Conn) uint16 { return c.LocalAddr().(*net.TCPAddr).AddrPort().Port() }

// TestKernelNodes runs two nodes: fw1 forwards real connections (plain,
// masqueraded, port-forwarded) and syncs them over a sync link to fw2,
// skipping its own flows, the sync link's and an ignored server. fw2
// keeps them in its cache and, on BeforeMaster, commits them: its table
// then shows them with their NAT and TCP state.
func TestKernelNodes(t *testing.T) {
	l := nstest.New(t)
	cl, fw1, sv, fw2 := l.NS("cl"), l.NS("f1"), l.NS("sv"), l.NS("f2")
	sh(t, fw1, fmt.Sprintf(`
		ip link add lan type veth peer name eth0 netns %s
		ip link add wan type veth peer name eth0 netns %s
		ip link add sync type veth peer name sync netns %s
		ip addr add 10.77.1.1/24 dev lan
		ip addr add 10.77.2.1/24 dev wan
		ip addr add 10.99.0.1/30 dev sync
		ip link set lan up
		ip link set wan up
		ip link set sync up
		sysctl -qw net.ipv4.ip_forward=1`, cl.Name, sv.Name, fw2.Name))
	sh(t, cl, `
		ip addr add 10.77.1.2/24 dev eth0
		ip link set eth0 up
		ip route add default via 10.77.1.1`)
	sh(t, sv, `
		ip addr add 10.77.2.2/24 dev eth0
		ip addr add 10.77.2.3/24 dev eth0
		ip link set eth0 up
		ip route add default via 10.77.2.1`)
	sh(t, fw2, `
		ip addr add 10.99.0.2/30 dev sync
		ip link set sync up`)
	nstest.Nft(t, fw1, fw1Ruleset)
	nstest.Nft(t, fw2, natChains)

	for _, a := range []string{"10.77.2.2:8080", "10.77.2.2:8081", "10.77.2.3:8080"} {
		echo(listenIn(t, sv, a))
	}
	echo(listenIn(t, cl, "10.77.1.2:9000"))
	echo(listenIn(t, fw1, "10.77.1.1:7000"))

	// A connection from before the nodes start reaches fw2 in the bulk
	// update, from a dump.
	early := connect(t, cl, "10.77.2.2:8080")

	secret := []byte("kernel test secret, long enough")
	node := func(ns *netns.NS, local, peer netip.Addr, f Filter) *Node {
		id, err := DeriveIdentity(secret, local, peer)
		if err != nil {
			t.Fatal(err)
		}
		n, err := NewNode(Config{
			Local: local, Peer: peer, Port: 7547, Identity: id, Filter: f, NetNS: ns.Fd(),
			Listener: listenIn(t, ns, net.JoinHostPort(local.String(), "7547")),
			Dial:     dialerIn(ns),
			Tuning:   Tuning{Backoff: Backoff{Min: 10 * time.Millisecond, Max: 200 * time.Millisecond}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	n1 := node(fw1, addr("10.99.0.1"), addr("10.99.0.2"), Filter{
		Local:  []netip.Addr{addr("10.77.1.1"), addr("10.77.2.1"), addr("10.99.0.1")},
		Ignore: []netip.Prefix{netip.MustParsePrefix("10.99.0.0/30"), netip.MustParsePrefix("10.77.2.3/32")},
	})
	n2 := node(fw2, addr("10.99.0.2"), addr("10.99.0.1"), Filter{
		Local:  []netip.Addr{addr("10.99.0.2")},
		Ignore: []netip.Prefix{netip.MustParsePrefix("10.99.0.0/30")},
	})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, n := range []*Node{n1, n2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := n.Run(ctx); err != nil {
				t.Errorf("node: %v", err)
			}
		}()
	}
	defer wg.Wait()
	defer cancel()
	<-n2.BulkDone()

	// Flows that must not be synced come first: events arrive in order,
	// so once the last synced flow is in fw2's cache, these would be too.
	ignored := connect(t, cl, "10.77.2.3:8080")
	local := connect(t, cl, "10.77.1.1:7000")
	plain := connect(t, cl, "10.77.2.2:8080")
	masq := connect(t, cl, "10.77.2.2:8081")
	dnat := connect(t, sv, "10.77.2.1:9000")

	cache := n2.rcv.Cache()
	find := func(src string, sport, dport uint16) (ctnl.Entry, bool) {
		o := ctnl.Tuple{Src: addr(src), Proto: 6, SrcPort: sport, DstPort: dport}
		for _, e := range cache.Entries() {
			if e.Orig.Src == o.Src && e.Orig.SrcPort == sport && e.Orig.DstPort == dport && e.Orig.Proto == 6 {
				return e, true
			}
		}
		return ctnl.Entry{}, false
	}
	established := func(src string, sport, dport uint16) func() bool {
		return func() bool {
			e, ok := find(src, sport, dport)
			return ok && e.TCP != nil && e.TCP.State == ctnl.TCPStateEstablished
		}
	}
	eventually(t, "the early flow from the bulk update", established("10.77.1.2", localPort(early), 8080))
	eventually(t, "the plain flow", established("10.77.1.2", localPort(plain), 8080))
	eventually(t, "the masqueraded flow", established("10.77.1.2", localPort(masq), 8081))
	eventually(t, "the port-forwarded flow", established("10.77.2.2", localPort(dnat), 9000))

	if e, _ := find("10.77.1.2", localPort(masq), 8081); e.SNAT == nil || e.SNAT.Addr != addr("10.77.2.1") {
		t.Errorf("masqueraded flow without its SNAT: %+v", e)
	}
	if e, _ := find("10.77.2.2", localPort(dnat), 9000); e.DNAT == nil || e.DNAT.Addr != addr("10.77.1.2") || e.DNAT.Port != 9000 {
		t.Errorf("port-forwarded flow without its DNAT: %+v", e)
	}
	if e, _ := find("10.77.1.2", localPort(plain), 8080); e.TCP.WScaleOrig == 0 || e.TCP.FlagsOrig&ctnl.TCPFlagWindowScale == 0 {
		t.Errorf("plain flow lost its window scale: %+v", *e.TCP)
	}
	for name, c := range map[string]net.Conn{"ignored": ignored, "local": local} {
		if _, ok := find("10.77.1.2", localPort(c), c.RemoteAddr().(*net.TCPAddr).AddrPort().Port()); ok {
			t.Errorf("the %s flow was synced", name)
		}
	}
	for _, e := range cache.Entries() {
		if e.Orig.DstPort == 7547 || e.Orig.SrcPort == 7547 {
			t.Errorf("the sync connection itself was synced: %+v", e)
		}
	}
	eventually(t, "fw1's lag samples", func() bool { return n1.Status().Sender.LagSamples > 0 })
	if st := n1.Status(); st.Source.Filtered == 0 {
		t.Errorf("fw1 filtered nothing: %+v", st)
	}

	// fw2 takes over: the cache goes into its kernel table.
	if err := n2.BeforeMaster(ctx); err != nil {
		t.Fatal(err)
	}
	lc := n2.Status().Receiver.LastCommit
	if lc == nil || lc.Committed != lc.Entries || len(lc.Refused) != 0 || lc.Entries < 4 {
		t.Fatalf("commit: %+v", lc)
	}
	t.Logf("fw2 committed %d entries in %v", lc.Committed, lc.Duration)

	list := func(args ...string) string {
		out, err := fw2.Output("conntrack", append([]string{"-L", "-p", "tcp"}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	all, snat, dnatList := list(), list("--src-nat"), list("--dst-nat")
	want := []struct {
		name   string
		list   string
		orig   string
		reply  string
		absent bool
	}{
		{"plain", all, fmt.Sprintf("src=10.77.1.2 dst=10.77.2.2 sport=%d dport=8080", localPort(plain)), fmt.Sprintf("src=10.77.2.2 dst=10.77.1.2 sport=8080 dport=%d", localPort(plain)), false},
		{"masquerade", snat, fmt.Sprintf("src=10.77.1.2 dst=10.77.2.2 sport=%d dport=8081", localPort(masq)), "src=10.77.2.2 dst=10.77.2.1 sport=8081", false},
		{"port forward", dnatList, fmt.Sprintf("src=10.77.2.2 dst=10.77.2.1 sport=%d dport=9000", localPort(dnat)), fmt.Sprintf("src=10.77.1.2 dst=10.77.2.2 sport=9000 dport=%d", localPort(dnat)), false},
		{"ignored", all, "dst=10.77.2.3", "", true},
	}
	for _, w := range want {
		var line string
		for _, l := range strings.Split(w.list, "\n") {
			if strings.Contains(l, w.orig) {
				line = l
			}
		}
		switch {
		case w.absent && line != "":
			t.Errorf("%s: in fw2's table: %s", w.name, line)
		case w.absent:
		case line == "":
			t.Errorf("%s: not in fw2's table (conntrack -L %s):\n%s", w.name, w.orig, w.list)
		case !strings.Contains(line, "ESTABLISHED") || !strings.Contains(line, w.reply):
			t.Errorf("%s: fw2 has %q, want ESTABLISHED with reply %q", w.name, line, w.reply)
		}
	}

	// The entries fw2 now holds stream back to fw1: the roles reversed
	// without a reconnect.
	eventually(t, "fw1's cache of fw2's table", func() bool { return n1.Status().Receiver.CacheSize >= 4 })
}

// recordingSink records what a Source hands on.
type recordingSink struct {
	mu      sync.Mutex
	updates int
	resyncs []string
}

func (s *recordingSink) Update(evs ...ctnl.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updates += len(evs)
}

func (s *recordingSink) Resync(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resyncs = append(s.resyncs, reason)
}

func (s *recordingSink) get() (int, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.updates, append([]string(nil), s.resyncs...)
}

// TestKernelSourceOverrun overflows a small event buffer: the source
// counts the gap and asks for a resync instead of going on silently, and
// its snapshot holds every entry.
func TestKernelSourceOverrun(t *testing.T) {
	l := nstest.New(t)
	ns := l.NS("ov")
	src, err := NewSource(SourceConfig{NetNS: ns.Fd(), ReadBuffer: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	c, err := ctnl.Dial(ctnl.Config{NetNS: ns.Fd()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	entries := make([]ctnl.Entry, 3000)
	for i := range entries {
		o := ctnl.Tuple{Src: addr("10.5.0.1"), Dst: addr("10.6.0.1"), Proto: 17, SrcPort: uint16(10000 + i), DstPort: 53}
		entries[i] = ctnl.Entry{Orig: o, Reply: o.Reverse(), Status: ctnl.StatusConfirmed, Timeout: 300}
	}
	if fails, err := c.Create(entries, ctnl.CreateOptions{}); err != nil || len(fails) > 0 {
		t.Fatalf("create: %d refused, %v", len(fails), err)
	}
	sink := &recordingSink{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- src.Run(ctx, sink) }()
	eventually(t, "a resync for the overrun", func() bool {
		_, r := sink.get()
		return len(r) > 0
	})
	_, resyncs := sink.get()
	if resyncs[0] != "overrun" || src.Status().Gaps["overrun"] == 0 {
		t.Errorf("resyncs %v, gaps %v; want an overrun", resyncs, src.Status().Gaps)
	}
	snap, err := src.Snapshot(ctx)
	if err != nil || len(snap) != len(entries) {
		t.Errorf("snapshot: %d entries, %v; want %d", len(snap), err, len(entries))
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}
