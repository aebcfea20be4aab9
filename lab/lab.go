// Package lab builds Rampart's test network on one machine, out of network
// namespaces, and probes it with real TCP and UDP traffic.
//
// The topology is a fixed contract with config/examples and the daemon:
//
//	client (eth0) ── br-lan ──┬── eth0 fw-a eth1 ──┬── br-wan ── (eth0) server
//	                          └── eth0 fw-b eth1 ──┘
//	                      fw-a eth2 ─── sync link ─── eth2 fw-b
//
// br-lan and br-wan live in the switch namespace <prefix>-sw; every host
// has its own namespace (<prefix>-client, -server, -fwa, -fwb). fw-b and the
// sync link exist only in two-node mode. The lab sets the addresses of the
// client and the server; the firewalls get theirs from the rampart daemon.
//
// Every link is created inside a lab namespace, never in the host's, and
// every name carries the run prefix, so Sweep removes a killed run's
// leftovers without touching anything else.
package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"sync"

	"rampart/internal/netns"
)

// Addresses of the lab hosts. The firewalls' own addresses come from their
// configs; these are the ones the lab itself sets or routes through.
var (
	ClientV4 = netip.MustParseAddr("192.168.1.100")
	ClientV6 = netip.MustParseAddr("fd00:1::100")
	ServerV4 = netip.MustParseAddr("203.0.113.100")
	ServerV6 = netip.MustParseAddr("2001:db8:2::100")

	// LANGatewayV4/V6 are the client's default gateway: the single
	// firewall, or the VIP in HA.
	LANGatewayV4 = netip.MustParseAddr("192.168.1.1")
	LANGatewayV6 = netip.MustParseAddr("fd00:1::1")

	// WANFirewallV4/V6 are the single firewall's WAN address (fw-a's in HA).
	WANFirewallV4 = netip.MustParseAddr("203.0.113.2")
	WANFirewallV6 = netip.MustParseAddr("2001:db8:2::2")

	// WANVIPV4/V6 are the WAN VIP in HA: the server's route back to the LAN.
	WANVIPV4 = netip.MustParseAddr("203.0.113.1")
	WANVIPV6 = netip.MustParseAddr("2001:db8:2::1")

	SyncA = netip.MustParsePrefix("192.168.255.1/30")
	SyncB = netip.MustParsePrefix("192.168.255.2/30")
)

// Device names inside a firewall namespace, as the configs name them.
const (
	DevLAN  = "eth0"
	DevWAN  = "eth1"
	DevSync = "eth2"
)

// Options configure Up.
type Options struct {
	// Prefix names the run; it must start with netns.PrefixBase.
	// Default: netns.NewPrefix().
	Prefix string
	// Nodes is 1 (one firewall, no HA) or 2 (fw-a and fw-b). Default 1.
	Nodes int
	// LogDir receives the daemons' logs. Default: a new directory under
	// os.TempDir(), made when the first daemon starts.
	LogDir string
}

// Lab is one running test network.
type Lab struct {
	Prefix string
	Nodes  int
	LogDir string

	Switch *netns.NS   // holds br-lan and br-wan
	Client *netns.NS   // 192.168.1.100, fd00:1::100
	Server *netns.NS   // 203.0.113.100, 2001:db8:2::100
	FW     []*netns.NS // FW[0] is fw-a, FW[1] fw-b

	mu      sync.Mutex
	nodes   []*Node
	downErr error
	down    bool
}

// Up builds the lab. On any failure it removes what it made.
func Up(ctx context.Context, opts Options) (*Lab, error) {
	l, err := newLab(opts)
	if err != nil {
		return nil, err
	}
	if err := l.build(ctx); err != nil {
		if derr := l.Down(); derr != nil {
			err = errors.Join(err, derr)
		}
		return nil, fmt.Errorf("lab: up %s: %w", l.Prefix, err)
	}
	return l, nil
}

func newLab(opts Options) (*Lab, error) {
	if opts.Prefix == "" {
		opts.Prefix = netns.NewPrefix()
	}
	if err := checkPrefix(opts.Prefix); err != nil {
		return nil, err
	}
	if opts.Nodes == 0 {
		opts.Nodes = 1
	}
	if opts.Nodes != 1 && opts.Nodes != 2 {
		return nil, fmt.Errorf("lab: %d nodes: want 1 or 2", opts.Nodes)
	}
	if names, err := netns.List(opts.Prefix + "-"); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	} else if len(names) > 0 {
		return nil, fmt.Errorf("lab: prefix %s is in use (%s); run `rampart lab down --prefix %s`",
			opts.Prefix, strings.Join(names, " "), opts.Prefix)
	}
	if opts.LogDir != "" {
		if err := os.MkdirAll(opts.LogDir, 0o755); err != nil {
			return nil, fmt.Errorf("lab: log dir: %w", err)
		}
	}
	return &Lab{Prefix: opts.Prefix, Nodes: opts.Nodes, LogDir: opts.LogDir}, nil
}

// checkPrefix keeps prefixes short and plain: they become namespace names
// and a sweep matches them as string prefixes.
func checkPrefix(p string) error {
	if !strings.HasPrefix(p, netns.PrefixBase) || len(p) > 16 || len(p) <= len(netns.PrefixBase) {
		return fmt.Errorf("lab: prefix %q: want %s followed by 1-%d letters or digits", p, netns.PrefixBase, 16-len(netns.PrefixBase))
	}
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return fmt.Errorf("lab: prefix %q: only lower-case letters and digits", p)
		}
	}
	return nil
}

// Name returns the namespace name of a lab host: "sw", "client", "server",
// "fwa" or "fwb".
func (l *Lab) Name(host string) string { return l.Prefix + "-" + host }

// FWName returns the host name of firewall i: "fwa" or "fwb".
func FWName(i int) string { return "fw" + string(rune('a'+i)) }

// Down stops the daemons the lab started and removes every namespace of
// the run. It is safe to call more than once.
func (l *Lab) Down() error {
	l.mu.Lock()
	if l.down {
		l.mu.Unlock()
		return l.downErr
	}
	l.down = true
	nodes := l.nodes
	l.mu.Unlock()

	var errs []error
	for _, n := range nodes {
		// A daemon's exit status is its own story (Node.Stop tells it);
		// Down reports only one that would not stop when told.
		if err := n.Stop(); errors.Is(err, ErrKilled) {
			errs = append(errs, err)
		}
	}
	// Sweep first: it kills what still runs inside before it deletes.
	if err := Sweep(l.Prefix); err != nil {
		errs = append(errs, err)
	}
	for _, ns := range l.all() {
		_ = ns.Close() // only releases the fd now: the names are gone
	}
	l.downErr = errors.Join(errs...)
	return l.downErr
}

func (l *Lab) all() []*netns.NS {
	var out []*netns.NS
	for _, ns := range append([]*netns.NS{l.Switch, l.Client, l.Server}, l.FW...) {
		if ns != nil {
			out = append(out, ns)
		}
	}
	return out
}
