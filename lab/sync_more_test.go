package lab

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"rampart/internal/netns"
	"rampart/statesync/ctnl"
)

// More state sync tests: a lossy, flapping sync link, and a run of
// handovers back and forth.

// syncPort is the state sync port of the lab's configs (the default).
const syncPort = 7547

// lossTable is the nftables table of the loss the tests add to a firewall
// namespace; rampart owns only its own tables and leaves it alone.
const lossTable = "lab_sync_loss"

// setSyncLoss drops tenths/10 of the state sync segments that the node
// sends or receives, at random. The kernel of the lab has no netem, so
// nftables' numgen does it.
func setSyncLoss(t *testing.T, ns *netns.NS, tenths int) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "add table inet %s; ", lossTable)
	for _, hook := range []string{"input", "output"} {
		fmt.Fprintf(&b, "add chain inet %s %s { type filter hook %s priority -300; }; ", lossTable, hook, hook)
		for _, dir := range []string{"sport", "dport"} {
			fmt.Fprintf(&b, "add rule inet %s %s tcp %s %d numgen random mod 10 < %d counter drop; ", lossTable, hook, dir, syncPort, tenths)
		}
	}
	if err := ns.Run("nft", b.String()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { clearSyncLoss(t, ns) })
}

// clearSyncLoss removes the loss, logging how many segments it dropped.
func clearSyncLoss(t *testing.T, ns *netns.NS) {
	t.Helper()
	out, err := ns.Output("nft", "list", "table", "inet", lossTable)
	if err != nil {
		return // gone already
	}
	dropped := 0
	for _, f := range strings.Split(out, "packets ")[1:] {
		var n int
		_, _ = fmt.Sscan(f, &n)
		dropped += n
	}
	t.Logf("sync loss in %s: %d segments dropped", ns.Name, dropped)
	_ = ns.Run("nft", "delete", "table", "inet", lossTable)
}

// TestSyncLossyFlappingLinkConverges: the sync link drops 20% of the
// state sync segments both ways and goes down and up three times (once
// long enough to end the session) while 300 connections open and run
// through fw-a; once the link is clean
// again, fw-b's cache holds them all: its links cut, fw-a's flows go on
// through fw-b on the entries it committed.
func TestSyncLossyFlappingLinkConverges(t *testing.T) {
	h := upSync(t)
	h.startSyncPair()
	startEcho(t, h.Server)
	setSyncLoss(t, h.FW[0], 2)
	const flows = 300
	tr := startTraffic(t, h, flows, 8)

	// Two short flaps, which the session rides out, and a long one, past
	// the peer timeout (5 s), after which it reconnects and fw-a sends a
	// bulk update through the loss.
	for _, down := range []time.Duration{time.Second, time.Second, 6 * time.Second} {
		mark := h.node[1].Mark()
		h.setLinks(0, false, linkSync)
		time.Sleep(down)
		h.setLinks(0, true, linkSync)
		if down > 5*time.Second {
			t.Log(h.waitLog(1, mark, "bulk update received", 30*time.Second))
		}
		tcp, udp := tr.rounds()
		tr.waitRounds(t, tcp, udp, 2, 30*time.Second)
	}
	t.Logf("fw-b: %d bulk updates received, %d sessions from fw-a", len(h.logSince(1, 0, "bulk update received")), len(h.logSince(1, 0, "peer connected")))
	clearSyncLoss(t, h.FW[0])
	tcp, udp := tr.rounds()
	tr.waitRounds(t, tcp, udp, 2, 30*time.Second) // every flow changes once more: its entry is resent
	time.Sleep(time.Second)

	mark := h.node[1].Mark()
	h.setLinks(0, false, linkSync, linkLAN, linkWAN)
	h.waitLog(1, mark, "to=master", 10*time.Second)
	checkCommit(t, h.waitLog(1, mark, "cache committed", 10*time.Second), flows)
	tcp, udp = tr.rounds()
	tr.waitRounds(t, tcp, udp, 3, 60*time.Second)
	tr.halt()
	tr.report(t)
}

// TestSyncTenHandovers: ten handovers in a row, fw-a's LAN and WAN cut
// and healed (fw-b takes over, fw-a preempts back), each with a batch of
// connections that opens before it and ends after it. Every connection
// survives its handover; afterwards the master's table holds no live
// (established) entry for a connection that ended, nor does the backup's
// once it has committed its cache on one more handover, and the tables
// hold no more entries than there were connections.
func TestSyncTenHandovers(t *testing.T) {
	h := upSync(t)
	h.startSyncPair()
	startEcho(t, h.Server)
	const (
		handovers = 10
		batch     = 40
	)
	master := 0
	for round := range handovers {
		tr := startTraffic(t, h, batch, 0)
		next := 1 - master
		mark := h.node[next].Mark()
		h.setLinks(0, next == 0, linkLAN, linkWAN) // cut fw-a to hand over to fw-b, heal it to hand back
		h.waitLog(next, mark, "to=master", 10*time.Second)
		line := h.waitLog(next, mark, "cache committed", 10*time.Second)
		h.waitSingleHolder(next, 10*time.Second)
		tcp, udp := tr.rounds()
		tr.waitRounds(t, tcp, udp, 2, 30*time.Second)
		tr.halt()
		tr.report(t)
		if t.Failed() {
			t.Fatalf("handover %d to %s: %s", round+1, FWName(next), line)
		}
		master = next
	}

	// The master's table: every ended connection is closing or closed.
	checkNoZombies(t, h.FW[master], FWName(master), handovers*batch)
	// The backup shortened the timeouts of the flows it handed over
	// (statesync.purge_timeout): its entries of ended connections expire
	// instead of staying established for days.
	backup := 1 - master
	t.Log(h.waitLog(backup, 0, "timeouts shortened", 10*time.Second))
	waitNoZombies(t, h.FW[backup], FWName(backup), syncPurge+10*time.Second)
	checkNoZombies(t, h.FW[backup], FWName(backup), handovers*batch)
	// Its cache has none either: after one more handover, its committed
	// table holds no live entry for an ended connection.
	next := 1 - master
	mark := h.node[next].Mark()
	h.setLinks(0, next == 0, linkLAN, linkWAN)
	h.waitLog(next, mark, "to=master", 10*time.Second)
	t.Log(h.waitLog(next, mark, "cache committed", 10*time.Second))
	checkNoZombies(t, h.FW[next], FWName(next), handovers*batch)
}

// zombies counts the established entries of the tests' TCP connections
// in ns's table, which have all ended.
func zombies(t *testing.T, table []ctnl.Entry) (live int, first []string) {
	t.Helper()
	for _, e := range table {
		if e.Orig.Proto != 6 || (e.Orig.DstPort != syncTCPPort && e.Orig.DstPort != syncTCPForward) {
			continue
		}
		if e.TCP != nil && e.TCP.State == ctnl.TCPStateEstablished {
			if live++; live <= 5 {
				first = append(first, fmt.Sprintf("%v:%d -> %v:%d (timeout %ds)", e.Orig.Src, e.Orig.SrcPort, e.Orig.Dst, e.Orig.DstPort, e.Timeout))
			}
		}
	}
	return live, first
}

// waitNoZombies polls ns's table, bounded by d, until it holds no
// established entry of an ended connection.
func waitNoZombies(t *testing.T, ns *netns.NS, name string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for range 1000 {
		live, _ := zombies(t, dumpTable(t, ns))
		if live == 0 || time.Now().After(deadline) {
			t.Logf("%s: %d established entries of ended connections", name, live)
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// checkNoZombies checks that the table of ns holds no established entry
// of the tests' TCP connections, which have all ended, and no more
// entries than conns and a handful.
func checkNoZombies(t *testing.T, ns *netns.NS, name string, conns int) {
	t.Helper()
	table := dumpTable(t, ns)
	if live, first := zombies(t, table); live > 0 {
		t.Errorf("%s: %d zombie entries of %d, first: %s", name, live, len(table), strings.Join(first, "; "))
	}
	// Each connection has one entry; the rest (pings, the sync link's
	// own) are a handful.
	if limit := conns + 100; len(table) > limit {
		t.Errorf("%s: %d entries after %d connections; want at most %d", name, len(table), conns, limit)
	}
	t.Logf("%s: %d entries after %d connections", name, len(table), conns)
}

func dumpTable(t *testing.T, ns *netns.NS) []ctnl.Entry {
	t.Helper()
	c, err := ctnl.Dial(ctnl.Config{NetNS: ns.Fd()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	table, err := c.Dump()
	if err != nil {
		t.Fatal(err)
	}
	return table
}

// TestSyncLoneNodeBoots: a node whose peer is off hears neither adverts
// nor a sync session; it ends its boot hold after CARP's master-down
// interval and a second, not after the bulk update's minute-long alarm,
// and takes the VIPs. When the peer comes up, it holds for fw-a's bulk
// update and stays backup.
func TestSyncLoneNodeBoots(t *testing.T) {
	h := upSync(t)
	start := time.Now()
	h.start(0)
	t.Log(h.waitLog(0, 0, "ha boot hold released", 20*time.Second))
	h.waitLog(0, 0, "to=master", 10*time.Second)
	t.Logf("fw-a alone: master %v after start", time.Since(start).Round(time.Millisecond))
	if l := h.logSince(0, 0, "no peer heard"); len(l) == 0 {
		t.Error("fw-a's boot hold did not end for want of a peer")
	}
	h.start(1)
	t.Log(h.waitLog(1, 0, "ha boot hold released: state sync bulk update done", 30*time.Second))
	h.waitSingleHolder(0, 10*time.Second)
}
