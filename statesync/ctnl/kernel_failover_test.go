package ctnl

import (
	"fmt"
	"io"
	"net"
	"rampart/internal/nstest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"rampart/internal/netns"
)

// firewallRuleset is the same on fw1 and fw2: a forward chain that drops
// all but established/related (and new connections from the LAN or to
// the port forwards), masquerade to the server's port 8081, and a DNAT
// port forward of 9000 and 9001, the latter masqueraded on the LAN too.
// Invalid packets are counted, to show that fw2 drops an unsynced flow.
const firewallRuleset = `
table inet fw {
	counter invalid {}
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		ct state invalid counter name "invalid" drop
		iifname "lan" oifname "wan" ct state new accept
		iifname "wan" oifname "lan" ct status dnat ct state new accept
	}
}
table ip nat {
	chain pre {
		type nat hook prerouting priority dstnat;
		iifname "wan" tcp dport { 9000, 9001 } dnat to 10.77.1.2
	}
	chain post {
		type nat hook postrouting priority srcnat;
		oifname "wan" tcp dport 8081 masquerade
		oifname "lan" tcp dport 9001 masquerade
	}
}
`

// failoverLab is a client and a server with two firewalls between them,
// all on a LAN bridge and a WAN bridge in a switch namespace. The
// firewalls carry the same addresses and, as CARP does, the same virtual
// MACs; only the master has its links up.
type failoverLab struct {
	cl, sv, fw1, fw2 *netns.NS
}

func sh(t *testing.T, ns *netns.NS, script string) {
	t.Helper()
	for _, line := range lines(script) {
		f := strings.Fields(line)
		if err := ns.Run(f[0], f[1:]...); err != nil {
			t.Fatal(err)
		}
	}
}

func newFailoverLab(t *testing.T) *failoverLab {
	l := nstest.New(t)
	sw := l.NS("sw")
	fl := &failoverLab{cl: l.NS("cl"), sv: l.NS("sv"), fw1: l.NS("f1"), fw2: l.NS("f2")}
	sh(t, sw, `
		ip link add brl type bridge
		ip link add brw type bridge
		ip link set brl up
		ip link set brw up`)
	for _, p := range []struct {
		port, peer string
		ns         *netns.NS
		bridge     string
	}{
		{"c0", "eth0", fl.cl, "brl"}, {"l1", "lan", fl.fw1, "brl"}, {"l2", "lan", fl.fw2, "brl"},
		{"s0", "eth0", fl.sv, "brw"}, {"w1", "wan", fl.fw1, "brw"}, {"w2", "wan", fl.fw2, "brw"},
	} {
		sh(t, sw, fmt.Sprintf(`
			ip link add %s type veth peer name %s netns %s
			ip link set %s master %s
			ip link set %s up`, p.port, p.peer, p.ns.Name, p.port, p.bridge, p.port))
	}
	sh(t, fl.cl, `
		ip addr add 10.77.1.2/24 dev eth0
		ip link set eth0 up
		ip route add default via 10.77.1.1`)
	sh(t, fl.sv, `
		ip addr add 10.77.2.2/24 dev eth0
		ip link set eth0 up
		ip route add default via 10.77.2.1`)
	for _, fw := range []*netns.NS{fl.fw1, fl.fw2} {
		nstest.Nft(t, fw, firewallRuleset)
		sh(t, fw, `
			sysctl -qw net.ipv4.ip_forward=1
			sysctl -qw net.netfilter.nf_conntrack_tcp_be_liberal=0
			sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0
			ip link set lan address 02:00:5e:00:01:01
			ip link set wan address 02:00:5e:00:01:02
			ip addr add 10.77.1.1/24 dev lan
			ip addr add 10.77.2.1/24 dev wan`)
	}
	sh(t, fl.fw1, `
		ip link set lan up
		ip link set wan up`)
	return fl
}

// failover makes fw2 the master: fw1's links go down, which also makes
// the bridges forget fw1's ports, and fw2's come up with the same MACs.
func (fl *failoverLab) failover(t *testing.T) {
	sh(t, fl.fw1, `
		ip link set lan down
		ip link set wan down`)
	sh(t, fl.fw2, `
		ip link set lan up
		ip link set wan up`)
}

// echoServer listens on addr inside ns, echoes every connection and
// reports the address each connection came from.
func echoServer(t *testing.T, ns *netns.NS, addr string) <-chan string {
	t.Helper()
	var ln net.Listener
	if err := ns.Do(func() (err error) { ln, err = net.Listen("tcp4", addr); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	from := make(chan string, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			from <- c.RemoteAddr().(*net.TCPAddr).IP.String()
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return from
}

func dialFrom(t *testing.T, ns *netns.NS, addr string) net.Conn {
	t.Helper()
	var c net.Conn
	if err := ns.Do(func() (err error) { c, err = net.DialTimeout("tcp4", addr, 10*time.Second); return err }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// exchange sends msg and reads the echo back: data in both directions.
// The deadline bounds a stalled flow; it asserts nothing about speed.
func exchange(c net.Conn, msg string) error {
	if err := c.SetDeadline(time.Now().Add(20 * time.Second)); err != nil {
		return err
	}
	if _, err := io.WriteString(c, msg); err != nil {
		return err
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		return err
	}
	if string(got) != msg {
		return fmt.Errorf("echo %q, want %q", got, msg)
	}
	return nil
}

var counterPackets = regexp.MustCompile(`packets (\d+)`)

func invalidDrops(t *testing.T, fw *netns.NS) int {
	out := run(t, fw, "nft", "list", "counter", "inet", "fw", "invalid")
	m := counterPackets.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no packet count in %q", out)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestKernelFailover is the live proof: TCP connections through fw1
// (plain, masqueraded, DNAT port forward, DNAT plus masquerade) are
// dumped from fw1, created on fw2 with this package, and carry data both
// ways after the traffic moves to fw2, with strict TCP tracking
// (be_liberal=0, loose=0, no per-entry liberal flag). A connection left
// out of the sync is dropped by fw2 as invalid.
func TestKernelFailover(t *testing.T) {
	fl := newFailoverLab(t)
	fromPlain := echoServer(t, fl.sv, "10.77.2.2:8080")
	fromMasq := echoServer(t, fl.sv, "10.77.2.2:8081")
	echoServer(t, fl.sv, "10.77.2.2:8082")
	fromDNAT := echoServer(t, fl.cl, "10.77.1.2:9000")
	fromBoth := echoServer(t, fl.cl, "10.77.1.2:9001")

	type flow struct {
		name string
		c    net.Conn
		from <-chan string
		want string // the address the server sees
	}
	conns := []flow{
		{"plain", dialFrom(t, fl.cl, "10.77.2.2:8080"), fromPlain, "10.77.1.2"},
		{"masquerade", dialFrom(t, fl.cl, "10.77.2.2:8081"), fromMasq, "10.77.2.1"},
		{"dnat", dialFrom(t, fl.sv, "10.77.2.1:9000"), fromDNAT, "10.77.2.2"},
		{"dnat+masquerade", dialFrom(t, fl.sv, "10.77.2.1:9001"), fromBoth, "10.77.1.1"},
	}
	control := dialFrom(t, fl.cl, "10.77.2.2:8082")
	for _, c := range append(conns, flow{"control", control, nil, ""}) {
		if err := exchange(c.c, "before failover\n"); err != nil {
			t.Fatalf("%s through fw1: %v", c.name, err)
		}
		if c.from != nil {
			if got := <-c.from; got != c.want {
				t.Errorf("%s: server sees %s, want %s", c.name, got, c.want)
			}
		}
	}

	c1 := dialNS(t, fl.fw1, Config{})
	dumped, err := c1.Dump()
	if err != nil {
		t.Fatal(err)
	}
	var synced []Entry
	var nat int
	for _, e := range dumped {
		if e.Orig.Proto != protoTCP || e.Orig.DstPort == 8082 {
			continue
		}
		if e.SNAT != nil || e.DNAT != nil {
			nat++
		}
		synced = append(synced, e)
	}
	if len(synced) != len(conns) || nat != 3 {
		t.Fatalf("fw1 holds %d connections (%d NAT'd), want %d (3): %+v", len(synced), nat, len(conns), dumped)
	}
	c2 := dialNS(t, fl.fw2, Config{})
	if fails, err := c2.Create(synced, CreateOptions{}); err != nil || len(fails) > 0 {
		t.Fatalf("create on fw2: failures %v, error %v", fails, err)
	}

	fl.failover(t)
	// The control connection writes first: its segment is ahead of the
	// others on the same path, so fw2 has judged it once they are done.
	if _, err := io.WriteString(control, "unsynced\n"); err != nil {
		t.Fatal(err)
	}
	for _, c := range conns {
		for i := 0; i < 3; i++ {
			if err := exchange(c.c, fmt.Sprintf("after failover %d\n", i)); err != nil {
				t.Errorf("%s through fw2: %v", c.name, err)
				break
			}
		}
	}
	if n := invalidDrops(t, fl.fw2); n == 0 {
		t.Errorf("fw2 dropped no invalid packet: the unsynced control connection got through, so the test proves nothing")
	}
}
