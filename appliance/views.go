package appliance

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/mdlayher/netlink"

	"rampart/config"
	"rampart/statesync/ctnl"
	"rampart/webui"
)

// The read-only views the web UI shows, read from the kernel of the
// daemon's own namespace: interfaces and rule counters at most viewTTL
// old (viewcache.go), conntrack at each request.

// conntrackCountFile is the kernel's live entry count for this namespace.
const conntrackCountFile = "/proc/sys/net/netfilter/nf_conntrack_count"

// Firewall returns the rule counters and the apply timings.
func (d *Daemon) Firewall() (webui.FirewallStatus, error) {
	d.ui.timingMu.Lock()
	st := webui.FirewallStatus{Apply: d.ui.timing}
	d.ui.timingMu.Unlock()
	cs, err := d.ui.counters.get(d.ui.now(), d.readCounters)
	st.Counters = append([]webui.RuleCounter(nil), cs...)
	return st, err
}

func (d *Daemon) readCounters() ([]webui.RuleCounter, error) {
	cs, err := d.fw.Counters()
	if err != nil {
		return nil, fmt.Errorf("appliance: firewall counters: %w", err)
	}
	out := make([]webui.RuleCounter, 0, len(cs))
	for _, c := range cs {
		out = append(out, webui.RuleCounter{Kind: c.Kind, Index: c.Index, Comment: c.Comment, Packets: c.Packets, Bytes: c.Bytes})
	}
	return out, nil
}

// Interfaces returns each configured role's device, state, addresses and
// counters, from rtnetlink (at most viewTTL old).
func (d *Daemon) Interfaces() ([]webui.InterfaceStatus, error) {
	v, err := d.ui.interfaces.get(d.ui.now(), d.readInterfaces)
	return append([]webui.InterfaceStatus(nil), v...), err
}

func (d *Daemon) readInterfaces() ([]webui.InterfaceStatus, error) {
	cfg, _ := d.Running()
	if cfg == nil {
		return nil, webui.ErrUnavailable
	}
	c, err := rtnetlink.Dial(&netlink.Config{})
	if err != nil {
		return nil, fmt.Errorf("appliance: interfaces: %w", err)
	}
	defer c.Close()
	links, err := c.Link.List()
	if err != nil {
		return nil, fmt.Errorf("appliance: interfaces: list links: %w", err)
	}
	addrs, err := c.Address.List()
	if err != nil {
		return nil, fmt.Errorf("appliance: interfaces: list addresses: %w", err)
	}
	return interfaceViews(cfg, links, addrs), nil
}

// interfaceViews joins the config's roles with the kernel's links, in
// role order. A role whose device is missing shows as down.
func interfaceViews(cfg *config.Config, links []rtnetlink.LinkMessage, addrs []rtnetlink.AddressMessage) []webui.InterfaceStatus {
	byName := map[string]rtnetlink.LinkMessage{}
	for _, l := range links {
		if l.Attributes != nil {
			byName[l.Attributes.Name] = l
		}
	}
	var out []webui.InterfaceStatus
	for _, role := range sortedKeys(cfg.Interfaces) {
		ifc := cfg.Interfaces[role]
		st := webui.InterfaceStatus{Role: role, Device: ifc.Device, Addresses: []netip.Prefix{}}
		if l, ok := byName[ifc.Device]; ok {
			a := l.Attributes
			st.Up = a.OperationalState == rtnetlink.OperStateUp || (a.OperationalState == rtnetlink.OperStateUnknown && l.Flags&uint32(net.FlagUp) != 0)
			if s := a.Stats64; s != nil {
				st.RxBytes, st.TxBytes, st.RxPackets, st.TxPackets = s.RXBytes, s.TXBytes, s.RXPackets, s.TXPackets
			}
			st.Addresses = addressesOf(l.Index, addrs)
		}
		out = append(out, st)
	}
	return out
}

func addressesOf(index uint32, addrs []rtnetlink.AddressMessage) []netip.Prefix {
	out := []netip.Prefix{}
	for _, m := range addrs {
		if m.Index != index || m.Attributes == nil {
			continue
		}
		ip := m.Attributes.Address
		if m.Attributes.Local != nil {
			ip = m.Attributes.Local // the local end on point-to-point links
		}
		if a, ok := netip.AddrFromSlice(ip); ok {
			out = append(out, netip.PrefixFrom(a.Unmap(), int(m.PrefixLength)))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Addr().Less(out[j].Addr()) })
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Conntrack returns one page of this namespace's connection table. Limit
// 0 without a search reads the kernel's count and dumps nothing, so a
// metrics scrape stays cheap on a full table.
func (d *Daemon) Conntrack(ctx context.Context, q webui.ConnQuery) (webui.ConnPage, error) {
	if q.Limit == 0 && strings.TrimSpace(q.Search) == "" {
		n, err := conntrackCount()
		return webui.ConnPage{Total: n, Entries: []webui.ConnEntry{}}, err
	}
	if err := ctx.Err(); err != nil {
		return webui.ConnPage{}, err
	}
	c, err := ctnl.Dial(ctnl.Config{})
	if err != nil {
		return webui.ConnPage{}, fmt.Errorf("appliance: conntrack: %w", err)
	}
	defer c.Close()
	entries, err := c.Dump()
	if err != nil && len(entries) == 0 {
		return webui.ConnPage{}, fmt.Errorf("appliance: conntrack: %w", err)
	}
	return connPage(entries, q), nil
}

func conntrackCount() (int, error) {
	b, err := os.ReadFile(conntrackCountFile)
	if os.IsNotExist(err) {
		return 0, nil // nf_conntrack not loaded: no connections tracked
	}
	if err != nil {
		return 0, fmt.Errorf("appliance: conntrack count: %w", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("appliance: conntrack count: %w", err)
	}
	return n, nil
}

// connPage filters entries with webui.MatchConn, sorts them for stable
// paging, and cuts the page.
func connPage(entries []ctnl.Entry, q webui.ConnQuery) webui.ConnPage {
	page := webui.ConnPage{Entries: []webui.ConnEntry{}}
	var all []webui.ConnEntry
	for i := range entries {
		if e := connEntry(&entries[i]); webui.MatchConn(e, q.Search) {
			all = append(all, e)
		}
	}
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if a.Src != b.Src {
			return a.Src.Compare(b.Src) < 0
		}
		return a.Dst.Compare(b.Dst) < 0
	})
	page.Total = len(all)
	if q.Offset < 0 || q.Offset >= len(all) {
		return page
	}
	end := min(len(all), q.Offset+q.Limit)
	page.Entries = append(page.Entries, all[q.Offset:end]...)
	return page
}

func connEntry(e *ctnl.Entry) webui.ConnEntry {
	ce := webui.ConnEntry{
		Proto:    protoName(e.Orig.Proto),
		Src:      netip.AddrPortFrom(e.Orig.Src, e.Orig.SrcPort),
		Dst:      netip.AddrPortFrom(e.Orig.Dst, e.Orig.DstPort),
		ReplySrc: netip.AddrPortFrom(e.Reply.Src, e.Reply.SrcPort),
		ReplyDst: netip.AddrPortFrom(e.Reply.Dst, e.Reply.DstPort),
		Expires:  time.Duration(e.Timeout) * time.Second,
	}
	if !e.Reply.IsValid() {
		ce.ReplySrc, ce.ReplyDst = netip.AddrPort{}, netip.AddrPort{}
	}
	if e.TCP != nil {
		ce.State = tcpStateName(e.TCP.State)
	}
	return ce
}

func protoName(p uint8) string {
	switch p {
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 1:
		return "icmp"
	case 58:
		return "icmpv6"
	}
	return strconv.Itoa(int(p))
}

// tcpStateNames are conntrack's TCP states as `conntrack -L` prints them.
var tcpStateNames = map[uint8]string{
	ctnl.TCPStateNone: "NONE", ctnl.TCPStateSynSent: "SYN_SENT", ctnl.TCPStateSynRecv: "SYN_RECV",
	ctnl.TCPStateEstablished: "ESTABLISHED", ctnl.TCPStateFinWait: "FIN_WAIT", ctnl.TCPStateCloseWait: "CLOSE_WAIT",
	ctnl.TCPStateLastAck: "LAST_ACK", ctnl.TCPStateTimeWait: "TIME_WAIT", ctnl.TCPStateClose: "CLOSE",
}

func tcpStateName(s uint8) string {
	if n, ok := tcpStateNames[s]; ok {
		return n
	}
	return strconv.Itoa(int(s))
}
