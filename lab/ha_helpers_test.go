package lab

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/mdlayher/netlink"

	"rampart/internal/netns"
)

// Helpers of the HA tests: a pair of daemons in a two-node lab, link cuts,
// VIP lookups over rtnetlink, and a UDP probe stream through the VIPs.

// haSettings fill testdata/ha/node.yaml.tmpl.
type haSettings struct {
	AdvBase     string // ha.groups[0].advbase
	Window      string // ha.carrier_loss_window
	Priority    [2]int // fw-a, fw-b
	Preempt     bool
	VirtualMAC  bool
	Maintenance [2]bool
	Notify      [2]string
}

// haDefaults: a 20ms advbase, as in the benchmark; fw-a preferred.
func haDefaults() haSettings {
	return haSettings{AdvBase: "20ms", Window: "100ms", Priority: [2]int{200, 100}, Preempt: true, VirtualMAC: true}
}

// advbase of haDefaults, for bounds expressed in adverts.
const advbase = 20 * time.Millisecond

const probePort = 7000

var (
	vipLANv4 = netip.MustParseAddr("192.168.1.1")
	vipLANv6 = netip.MustParseAddr("fd00:1::1")
)

func renderHA(t *testing.T, s haSettings, i int) []byte {
	t.Helper()
	tmpl, err := template.ParseFiles(filepath.Join("testdata", "ha", "node.yaml.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	data := map[string]any{
		"Node": string(rune('a' + i)), "Host": 2 + i, "Sync": 1 + i, "PeerSync": 2 - i, "ProbePort": probePort,
		"Window": s.Window, "VirtualMAC": s.VirtualMAC, "Maintenance": s.Maintenance[i],
		"Priority": s.Priority[i], "AdvBase": s.AdvBase, "Preempt": s.Preempt, "Notify": s.Notify[i],
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, data); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// haLab is a two-node lab with a daemon config per node.
type haLab struct {
	*Lab
	t    *testing.T
	cfg  [2]string
	node [2]*Node
	rt   [2]*rtnetlink.Conn
}

func upHA(t *testing.T, s haSettings) *haLab {
	t.Helper()
	if os.Geteuid() == 0 && daemonBinary == "" {
		t.Fatalf("no daemon binary: %s", daemonMissing)
	}
	h := &haLab{Lab: upTest(t, 2), t: t}
	dir := t.TempDir()
	for i := range 2 {
		h.cfg[i] = filepath.Join(dir, FWName(i)+".yaml")
		h.write(i, s)
		c, err := rtnetlink.Dial(&netlink.Config{NetNS: h.FW[i].Fd()})
		if err != nil {
			t.Fatal(err)
		}
		h.rt[i] = c
		t.Cleanup(func() { c.Close() })
	}
	return h
}

func (h *haLab) write(i int, s haSettings) {
	h.t.Helper()
	if err := os.WriteFile(h.cfg[i], renderHA(h.t, s, i), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

func (h *haLab) start(i int) *Node {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ReadyTimeout)
	defer cancel()
	n, err := h.StartNode(ctx, i, daemonBinary, h.cfg[i])
	if err != nil {
		h.t.Fatal(err)
	}
	h.node[i] = n
	return n
}

// startPair starts fw-a, waits until it is master, then starts fw-b.
func (h *haLab) startPair() {
	h.t.Helper()
	h.start(0)
	h.waitLog(0, 0, "to=master", 5*time.Second)
	h.start(1)
	h.waitLog(1, 0, "to=backup", 5*time.Second)
}

func (h *haLab) waitLog(i, mark int, substr string, timeout time.Duration) string {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	line, err := h.node[i].WaitLog(ctx, mark, substr)
	if err != nil {
		h.t.Fatalf("%s: %v\n%s", FWName(i), err, h.node[i].Tail(30))
	}
	return line
}

// logSince returns the node's stderr lines from mark on that contain substr.
func (h *haLab) logSince(i, mark int, substr string) []string {
	h.node[i].lines.mu.Lock()
	defer h.node[i].lines.mu.Unlock()
	var out []string
	for _, l := range h.node[i].lines.lines[min(mark, len(h.node[i].lines.lines)):] {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return out
}

// hasVIP reports whether fw i holds addr on any link.
func (h *haLab) hasVIP(i int, addr netip.Addr) bool {
	h.t.Helper()
	msgs, err := h.rt[i].Address.List()
	if err != nil {
		h.t.Fatal(err)
	}
	return slices.ContainsFunc(msgs, func(m rtnetlink.AddressMessage) bool {
		a, ok := netip.AddrFromSlice(m.Attributes.Address)
		return ok && a.Unmap() == addr
	})
}

// holders returns which nodes hold the LAN IPv4 VIP.
func (h *haLab) holders() [2]bool {
	return [2]bool{h.hasVIP(0, vipLANv4), h.hasVIP(1, vipLANv4)}
}

// link names a cut: the node's heartbeat end, or its switch port.
const (
	linkSync = "sync"
	linkLAN  = "lan"
	linkWAN  = "wan"
)

// setLinks takes node i's links down or up: the sync link at the node's
// own end (which drops the peer's carrier), LAN and WAN at the switch
// port (so that the node keeps its addresses, as a pulled cable would).
func (h *haLab) setLinks(i int, up bool, links ...string) {
	h.t.Helper()
	state := "down"
	if up {
		state = "up"
	}
	var fw, sw []string
	for _, l := range links {
		switch l {
		case linkSync:
			fw = append(fw, "link set "+DevSync+" "+state)
		case linkLAN, linkWAN:
			sw = append(sw, fmt.Sprintf("link set %s-%s %s", l, FWName(i), state))
		}
	}
	ctx := context.Background()
	if err := ipBatch(ctx, h.FW[i].Name, fw); err != nil {
		h.t.Fatal(err)
	}
	if err := ipBatch(ctx, h.Switch.Name, sw); err != nil {
		h.t.Fatal(err)
	}
}

// reconfigure rewrites node i's config and reloads it.
func (h *haLab) reconfigure(i int, s haSettings) {
	h.t.Helper()
	h.write(i, s)
	mark := h.node[i].Mark()
	if err := h.node[i].Signal(syscall.SIGHUP); err != nil {
		h.t.Fatal(err)
	}
	h.waitLog(i, mark, "msg=reloaded", 10*time.Second)
}

// startStream starts a probe stream or fails the test.
func startStream(t *testing.T, ns *netns.NS, dst netip.AddrPort, interval time.Duration) *Stream {
	t.Helper()
	s, err := StartStream(ns, dst, interval)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
