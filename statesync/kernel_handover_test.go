package statesync

import (
	"context"
	"net/netip"
	"testing"

	"rampart/internal/netns"
	"rampart/internal/nstest"
	"rampart/statesync/ctnl"
)

// TestKernelAfterMaster: on handing over, the node shortens the kernel
// timeouts of the flows it syncs, and only those: its own flows and the
// ignored ones keep theirs, and entries due sooner are left as they are.
func TestKernelAfterMaster(t *testing.T) {
	l := nstest.New(t)
	ns := l.NS("fw")
	n, local := handoverNode(t, ns)
	mk := tcpEntry
	forwarded := []ctnl.Entry{mk("10.1.0.1", "10.2.0.1", 1000, 432000), mk("10.1.0.2", "10.2.0.1", 1001, 432000)}
	own := mk("10.1.0.3", local.String(), 1002, 432000)
	ignored := mk("10.1.0.4", "10.50.0.9", 1003, 432000)
	soon := mk("10.1.0.5", "10.2.0.1", 1004, 3)
	c, err := ctnl.Dial(ctnl.Config{NetNS: ns.Fd()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if fails, err := c.Create(append(forwarded, own, ignored, soon), ctnl.CreateOptions{}); err != nil || len(fails) > 0 {
		t.Fatalf("create: %v %v", fails, err)
	}

	res, err := n.AfterMaster(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if res.Shortened != 2 || res.Kept != 1 || res.Refused != 0 || res.Aborted {
		t.Errorf("result %+v, want 2 shortened and 1 kept", res)
	}
	if st := n.Status(); st.LastPurge == nil || st.LastPurge.Shortened != 2 {
		t.Errorf("status: last purge %+v", st.LastPurge)
	}
	table, err := c.Dump()
	if err != nil {
		t.Fatal(err)
	}
	limit := uint32(DefaultPurgeTimeout.Seconds())
	for _, e := range table {
		switch e.Orig.SrcPort {
		case 1000, 1001:
			if e.Timeout > limit {
				t.Errorf("forwarded flow %d: timeout %d, want ≤ %d", e.Orig.SrcPort, e.Timeout, limit)
			}
		case 1002, 1003:
			if e.Timeout <= limit {
				t.Errorf("unsynced flow %d: timeout %d, want it untouched", e.Orig.SrcPort, e.Timeout)
			}
		}
		if e.TCP == nil || e.TCP.State != ctnl.TCPStateEstablished {
			t.Errorf("flow %d: TCP state changed: %+v", e.Orig.SrcPort, e.TCP)
		}
	}
}

// handoverNode makes a node (not running: no peer) on ns's table, which
// syncs everything but its own address and 10.50.0.0/16.
func handoverNode(t *testing.T, ns *netns.NS) (*Node, netip.Addr) {
	t.Helper()
	local, peer := netip.MustParseAddr("10.99.0.1"), netip.MustParseAddr("10.99.0.2")
	id, err := DeriveIdentity([]byte("purge-test-secret"), local, peer)
	if err != nil {
		t.Fatal(err)
	}
	n, err := NewNode(Config{
		Local: local, Peer: peer, Identity: id,
		Port: 7547, NetNS: ns.Fd(),
		Listener: listenIn(t, ns, "127.0.0.1:0"),
		Filter:   Filter{Local: []netip.Addr{local}, Ignore: []netip.Prefix{netip.MustParsePrefix("10.50.0.0/16")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.src.Close() })

	return n, local
}

func tcpEntry(src, dst string, port uint16, timeout uint32) ctnl.Entry {
	o := ctnl.Tuple{Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst), Proto: 6, SrcPort: port, DstPort: 80}
	return ctnl.Entry{Orig: o, Reply: o.Reverse(), Status: ctnl.StatusConfirmed | ctnl.StatusSeenReply | ctnl.StatusAssured,
		Timeout: timeout, TCP: &ctnl.TCPInfo{State: ctnl.TCPStateEstablished}}
}

// TestKernelAlsoMaster: a node that is master already commits only the
// flows its table lacks and leaves its live entries as they are; a
// plain takeover (BeforeMaster) replaces them with the cached state.
func TestKernelAlsoMaster(t *testing.T) {
	l := nstest.New(t)
	ns := l.NS("fw")
	n, _ := handoverNode(t, ns)
	c, err := ctnl.Dial(ctnl.Config{NetNS: ns.Fd()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	live := tcpEntry("10.1.0.1", "10.2.0.1", 1000, 432000)
	live.Mark = 1
	if fails, err := c.Create([]ctnl.Entry{live}, ctnl.CreateOptions{}); err != nil || len(fails) > 0 {
		t.Fatalf("create: %v %v", fails, err)
	}
	cachedLive, peers := live, tcpEntry("10.1.0.2", "10.2.0.1", 1001, 432000)
	cachedLive.Mark, peers.Mark = 2, 2
	n.rcv.cache.Apply([]Record{{Op: OpUpdate, Entry: cachedLive}, {Op: OpUpdate, Entry: peers}})

	marks := func() map[uint16]uint32 {
		table, err := c.Dump()
		if err != nil {
			t.Fatal(err)
		}
		m := map[uint16]uint32{}
		for _, e := range table {
			m[e.Orig.SrcPort] = e.Mark
		}
		return m
	}
	if err := n.AlsoMaster(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got, want := marks(), map[uint16]uint32{1000: 1, 1001: 2}; diff(want, got) != "" {
		t.Errorf("after AlsoMaster, marks by port (-want +got):\n%s", diff(want, got))
	}
	if lc := n.rcv.Status().LastCommit; lc == nil || lc.Committed != 1 || lc.Refused["EEXIST"] != 1 {
		t.Errorf("AlsoMaster's commit: %+v, want 1 committed and 1 EEXIST", lc)
	}
	if err := n.BeforeMaster(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got, want := marks(), map[uint16]uint32{1000: 2, 1001: 2}; diff(want, got) != "" {
		t.Errorf("after BeforeMaster, marks by port (-want +got):\n%s", diff(want, got))
	}
}
