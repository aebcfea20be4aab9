package lab

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"rampart/internal/netns"
)

// build makes the namespaces, then the links, then the host addresses. It
// records the run in the state directory first, so that a run killed
// half-way is still found and swept by `rampart lab down`.
func (l *Lab) build(ctx context.Context) error {
	if err := writeState(runState{Prefix: l.Prefix, Nodes: l.Nodes, Created: time.Now().UTC(), PID: os.Getpid()}); err != nil {
		return err
	}
	var err error
	if l.Switch, err = l.newNS("sw", swSysctls); err != nil {
		return err
	}
	if l.Client, err = l.newNS("client", hostSysctls); err != nil {
		return err
	}
	if l.Server, err = l.newNS("server", hostSysctls); err != nil {
		return err
	}
	for i := 0; i < l.Nodes; i++ {
		ns, err := l.newNS(FWName(i), fwSysctls)
		if err != nil {
			return err
		}
		l.FW = append(l.FW, ns)
	}
	steps := []batch{
		{l.Switch, l.switchCmds()},
		{l.FW[0], l.syncCmds()},
		{l.Client, l.clientCmds()},
		{l.Server, l.serverCmds()},
	}
	for _, fw := range l.FW {
		steps = append(steps, batch{fw, fwCmds(l.Nodes)})
	}
	for _, s := range steps {
		if err := ipBatch(ctx, s.ns.Name, s.cmds); err != nil {
			return err
		}
	}
	return nil
}

// batch is a list of iproute2 commands for one namespace.
type batch struct {
	ns   *netns.NS
	cmds []string
}

// Sysctls per kind of namespace. DAD is off so that addresses work at once;
// the switch gets no IPv6 at all so that it stays silent on the wire.
var (
	hostSysctls = map[string]string{
		"net/ipv6/conf/all/accept_dad":     "0",
		"net/ipv6/conf/default/accept_dad": "0",
	}
	swSysctls = map[string]string{
		"net/ipv6/conf/all/disable_ipv6":     "1",
		"net/ipv6/conf/default/disable_ipv6": "1",
	}
	fwSysctls = map[string]string{
		"net/ipv6/conf/all/accept_dad":     "0",
		"net/ipv6/conf/default/accept_dad": "0",
		"net/ipv4/ip_forward":              "1",
		"net/ipv6/conf/all/forwarding":     "1",
	}
)

func (l *Lab) newNS(host string, sysctls map[string]string) (*netns.NS, error) {
	ns, err := netns.New(l.Name(host))
	if err != nil {
		return nil, err
	}
	if err := SetSysctls(ns, sysctls); err != nil {
		_ = ns.Close()
		return nil, err
	}
	return ns, nil
}

// SetSysctls writes /proc/sys/<key> = value inside ns. Keys use slashes:
// "net/ipv4/ip_forward".
func SetSysctls(ns *netns.NS, sysctls map[string]string) error {
	return ns.Do(func() error {
		for k, v := range sysctls {
			if err := os.WriteFile("/proc/sys/"+k, []byte(v), 0o644); err != nil {
				return fmt.Errorf("lab: sysctl %s=%s in %s: %w", k, v, ns.Name, err)
			}
		}
		return nil
	})
}

// switchCmds makes the two bridges and one veth pair per host port, with
// the host's end created straight inside the host's namespace.
func (l *Lab) switchCmds() []string {
	cmds := []string{
		"link add br-lan type bridge mcast_snooping 0",
		"link add br-wan type bridge mcast_snooping 0",
	}
	port := func(bridge, name, peer, host string) {
		cmds = append(cmds,
			fmt.Sprintf("link add %s type veth peer name %s netns %s", name, peer, l.Name(host)),
			fmt.Sprintf("link set %s master %s", name, bridge),
			fmt.Sprintf("link set %s up", name))
	}
	port("br-lan", "lan-client", "eth0", "client")
	port("br-wan", "wan-server", "eth0", "server")
	for i := 0; i < l.Nodes; i++ {
		port("br-lan", "lan-"+FWName(i), DevLAN, FWName(i))
		port("br-wan", "wan-"+FWName(i), DevWAN, FWName(i))
	}
	return append(cmds, "link set br-lan up", "link set br-wan up")
}

// Interface indexes of the two sync-link ends. They must differ: the
// kernel's linkwatch reports a carrier change at once only on a device
// whose ifindex differs from its peer's. Veth ends in two fresh namespaces
// often get the same number, and then a carrier loss can wait up to a
// second behind other link events on the box, which would delay the
// backup's carrier-loss takeover at random.
const (
	syncIndexA = 40
	syncIndexB = 41
)

// syncCmds makes the direct fw-a–fw-b link; nothing in one-node mode.
func (l *Lab) syncCmds() []string {
	if l.Nodes < 2 {
		return nil
	}
	return []string{fmt.Sprintf("link add %s index %d type veth peer name %s index %d netns %s",
		DevSync, syncIndexA, DevSync, syncIndexB, l.Name(FWName(1)))}
}

// fwCmds only brings the links up: the daemon sets the addresses.
func fwCmds(nodes int) []string {
	cmds := []string{"link set " + DevLAN + " up", "link set " + DevWAN + " up"}
	if nodes > 1 {
		cmds = append(cmds, "link set "+DevSync+" up")
	}
	return cmds
}

func (l *Lab) clientCmds() []string {
	return []string{
		"link set eth0 up",
		"addr add " + ClientV4.String() + "/24 dev eth0",
		"addr add " + ClientV6.String() + "/64 dev eth0 nodad",
		"route add default via " + LANGatewayV4.String(),
		"route add ::/0 via " + LANGatewayV6.String(),
	}
}

// serverCmds route the LAN back through the firewall, so that forwarded
// flows work without NAT and masquerade shows as a changed source.
func (l *Lab) serverCmds() []string {
	gw4, gw6 := WANFirewallV4, WANFirewallV6
	if l.Nodes > 1 {
		gw4, gw6 = WANVIPV4, WANVIPV6
	}
	return []string{
		"link set eth0 up",
		"addr add " + ServerV4.String() + "/24 dev eth0",
		"addr add " + ServerV6.String() + "/64 dev eth0 nodad",
		"route add 192.168.1.0/24 via " + gw4.String(),
		"route add fd00:1::/64 via " + gw6.String(),
	}
}

// ipBatch runs iproute2 commands inside namespace name in one process.
func ipBatch(ctx context.Context, name string, cmds []string) error {
	if len(cmds) == 0 {
		return nil
	}
	cmd := exec.CommandContext(ctx, "ip", "-n", name, "-batch", "-")
	cmd.Stdin = strings.NewReader(strings.Join(cmds, "\n") + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("lab: ip -n %s -batch: %v: %s", name, err, bytes.TrimSpace(out))
	}
	return nil
}

// AddressFirewall gives the single firewall its addresses by hand, as its
// default config would: for benchmarks and tests that load a ruleset
// without the daemon.
func (l *Lab) AddressFirewall(ctx context.Context) error {
	if l.Nodes != 1 {
		return fmt.Errorf("lab: AddressFirewall: a %d-node lab has no single firewall", l.Nodes)
	}
	return ipBatch(ctx, l.FW[0].Name, []string{
		"addr add " + LANGatewayV4.String() + "/24 dev " + DevLAN,
		"addr add " + LANGatewayV6.String() + "/64 dev " + DevLAN + " nodad",
		"addr add " + WANFirewallV4.String() + "/24 dev " + DevWAN,
		"addr add " + WANFirewallV6.String() + "/64 dev " + DevWAN + " nodad",
	})
}
