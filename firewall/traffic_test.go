package firewall

import (
	"net"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"rampart/config"
	"rampart/internal/netns"
)

// TestForwardTraffic routes real connections through a firewall namespace:
// client (wan side) -> fw -> server (lan side). It checks first-match
// order across segments, the default drop, a port forward and its
// counters.
func TestForwardTraffic(t *testing.T) {
	needRoot(t)
	client, fwNS, server := newNS(t, "cl"), newNS(t, "fw"), newNS(t, "sv")
	wire(t, client, "wan0", "10.1.0.2/24", fwNS, "wan0", "10.1.0.1/24")
	wire(t, server, "lan0", "192.168.5.10/24", fwNS, "lan0", "192.168.5.1/24")
	for _, c := range [][]string{
		{"ip", "route", "add", "default", "via", "10.1.0.1"},
	} {
		if err := client.Run(c[0], c[1:]...); err != nil {
			t.Fatal(err)
		}
	}
	if err := server.Run("ip", "route", "add", "default", "via", "192.168.5.1"); err != nil {
		t.Fatal(err)
	}
	if err := fwNS.Run("sysctl", "-qw", "net.ipv4.ip_forward=1"); err != nil {
		t.Fatal(err)
	}
	for _, port := range []string{"7001", "7003", "7004", "7005"} {
		listen(t, server, "192.168.5.10:"+port)
	}

	cfg := &config.Config{
		SchemaVersion: 1,
		Interfaces:    ifaces("wan", "wan0", "lan", "lan0"),
		Rules: []*config.Rule{
			{Comment: "web", From: config.Endpoint{Interface: "wan"}, To: config.Endpoint{Addresses: pfx("192.168.5.10"), Ports: ports(7001)}, Protocol: config.TCP, Action: config.Accept},
			{Comment: "not this client", From: config.Endpoint{Addresses: pfx("10.1.0.2")}, To: config.Endpoint{Ports: ports(7003)}, Protocol: config.TCP, Action: config.Drop},
			{Comment: "the others", From: config.Endpoint{Addresses: pfx("10.1.0.0/24")}, To: config.Endpoint{Ports: ports(7003, 7005)}, Protocol: config.TCP, Action: config.Accept},
		},
		NAT: config.NAT{PortForwards: []*config.PortForward{
			{In: "wan", Protocol: config.TCP, Port: config.PortRange{From: 8080, To: 8080}, To: addr("192.168.5.10"), ToPort: 7004, Comment: "pf"},
		}},
	}
	fw := newFirewall(t, fwNS)
	if err := fw.Apply(mustCompile(t, cfg)); err != nil {
		t.Fatal(err)
	}

	reach := map[string]bool{}
	if err := client.Do(func() error {
		for _, a := range []string{"192.168.5.10:7001", "192.168.5.10:7003", "192.168.5.10:7005", "10.1.0.1:8080", "192.168.5.10:7004"} {
			c, err := net.DialTimeout("tcp", a, 500*time.Millisecond)
			reach[a] = err == nil
			if err == nil {
				c.Close()
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{
		"192.168.5.10:7001": true,  // rule 0
		"192.168.5.10:7003": false, // rule 1 drops before rule 2 accepts
		"192.168.5.10:7005": true,  // rule 2
		"10.1.0.1:8080":     true,  // the port forward and its accept
		"192.168.5.10:7004": false, // the forward's target, addressed directly
	}
	if d := cmp.Diff(want, reach); d != "" {
		t.Errorf("reachability (-want +got):\n%s", d)
	}

	got, err := fw.Counters()
	if err != nil {
		t.Fatal(err)
	}
	packets := map[string]uint64{}
	for _, c := range got {
		packets[c.Kind+" "+c.Comment] = c.Packets
	}
	wantPackets := map[string]uint64{
		"rule web": 1, "rule not this client": 1, "rule the others": 1,
		"port_forward pf": 1, "dnat pf": 1,
	}
	if d := cmp.Diff(wantPackets, packets); d != "" {
		t.Errorf("packets counted (-want +got):\n%s", d)
	}
}

// wire connects two namespaces with a veth pair and addresses both ends.
func wire(t *testing.T, a *netns.NS, devA, addrA string, b *netns.NS, devB, addrB string) {
	t.Helper()
	tmp := "tmp" + devB
	if err := a.Run("ip", "link", "add", devA, "type", "veth", "peer", "name", tmp, "netns", b.Name); err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		ns   *netns.NS
		cmds [][]string
	}{
		{a, [][]string{{"ip", "addr", "add", addrA, "dev", devA}, {"ip", "link", "set", devA, "up"}}},
		{b, [][]string{{"ip", "link", "set", tmp, "name", devB}, {"ip", "addr", "add", addrB, "dev", devB}, {"ip", "link", "set", devB, "up"}}},
	} {
		for _, c := range s.cmds {
			if err := s.ns.Run(c[0], c[1:]...); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// listen accepts and closes connections on addr inside ns until the test
// ends.
func listen(t *testing.T, ns *netns.NS, addr string) {
	t.Helper()
	var l net.Listener
	if err := ns.Do(func() (err error) {
		l, err = net.Listen("tcp", addr)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
}
