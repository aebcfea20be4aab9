package lab

import (
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The HA tests run two real daemons (fw-a preferred, fw-b backup) in the
// two-node lab at a 20ms advbase and check failover with real traffic.
// Bounds are in adverts and generous: the machine is shared with other
// tests; the benchmark (bench/failover) reports the real figures.

// TestHAFailoverLinksCut: the master's links are cut (the sync link
// first); the backup takes over and the probes through the VIPs, IPv4 and
// IPv6, flow again. When the links come back the master preempts back.
func TestHAFailoverLinksCut(t *testing.T) {
	h := upHA(t, haDefaults())
	h.startPair()
	servers(t, h.Server, probePort)
	v4 := startStream(t, h.Client, netip.AddrPortFrom(ServerV4, probePort), 2*time.Millisecond)
	v6 := startStream(t, h.Client, netip.AddrPortFrom(ServerV6, probePort), 2*time.Millisecond)
	waitReplies(t, v4, v6)

	mark := h.node[1].Mark()
	h.setLinks(0, false, linkSync, linkLAN, linkWAN)
	h.waitLog(1, mark, "to=master", 5*time.Second)
	before := [2]int{v4.Received(), v6.Received()}
	waitMore(t, v4, before[0])
	waitMore(t, v6, before[1])
	r4, r6 := v4.Stop(), v6.Stop()
	t.Logf("IPv4: %+v; IPv6: %+v", r4, r6)
	for _, r := range []StreamResult{r4, r6} {
		// A takeover takes the carrier-loss window (5 adverts) at most;
		// allow 25 adverts for a loaded box.
		if r.Gap > 25*advbase {
			t.Errorf("longest gap %v, want at most %v (25 adverts)", r.Gap, 25*advbase)
		}
	}
	if !h.hasVIP(1, vipLANv4) || !h.hasVIP(1, vipLANv6) {
		t.Errorf("fw-b does not hold the VIPs after the takeover")
	}

	mark = h.node[0].Mark()
	h.setLinks(0, true, linkSync, linkLAN, linkWAN)
	// fw-a comes back demoted (its tracked links were down), hears the
	// new master, yields, and preempts once its links have held for
	// LinkUpHold (5s).
	h.waitLog(0, mark, "why=preempt", 15*time.Second)
	h.waitSingleHolder(0, 50*advbase) // fw-b steps down on fw-a's first advert
}

func waitReplies(t *testing.T, ss ...*Stream) {
	t.Helper()
	for _, s := range ss {
		waitMore(t, s, 10)
	}
}

// waitMore waits until the stream has more than n replies.
func waitMore(t *testing.T, s *Stream, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.Received() <= n {
		if time.Now().After(deadline) {
			t.Fatalf("no probe replies past %d", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestHAWANDown: the master's WAN link goes down, so it demotes itself
// (wan is tracked) and the backup takes over at once, preemption or not.
// It comes back: after the link has held, the master preempts back.
func TestHAWANDown(t *testing.T) {
	h := upHA(t, haDefaults())
	h.startPair()
	mark := h.node[1].Mark()
	h.setLinks(0, false, linkWAN)
	h.waitLog(1, mark, "why=master_demoted", 5*time.Second)
	mark = h.node[0].Mark()
	h.setLinks(0, true, linkWAN)
	h.waitLog(0, mark, "why=preempt", 15*time.Second)
	h.waitSingleHolder(0, 50*advbase)
}

// TestHAHeartbeatCut: the heartbeat cable is pulled while the LAN path
// lives. The backup sees the carrier go, but the adverts on the LAN arrive
// within the carrier-loss window, so it never takes over.
func TestHAHeartbeatCut(t *testing.T) {
	h := upHA(t, haDefaults())
	h.startPair()
	mark := [2]int{h.node[0].Mark(), h.node[1].Mark()}
	h.setLinks(0, false, linkSync)
	h.waitLog(1, mark[1], "kind=heartbeat_down", 5*time.Second)
	time.Sleep(100 * advbase)
	for i := range 2 {
		if tr := h.logSince(i, mark[i], "carp: transition"); len(tr) > 0 {
			t.Errorf("%s changed state with only the heartbeat cut:\n%s", FWName(i), strings.Join(tr, "\n"))
		}
	}
	if got := h.holders(); got != [2]bool{true, false} {
		t.Errorf("VIP holders (fw-a, fw-b) = %v, want fw-a only", got)
	}
}

// TestHASplitBrainHeal: every path between the nodes is cut (the sync
// link, and the LAN switch ports isolated from each other), so both
// become master, with a heartbeat alarm. On heal exactly one master
// remains, quickly, and it announces the VIPs afresh.
func TestHASplitBrainHeal(t *testing.T) {
	h := upHA(t, haDefaults())
	h.startPair()
	mark := [2]int{h.node[0].Mark(), h.node[1].Mark()}
	h.isolate(true)
	h.setLinks(0, false, linkSync)
	h.waitLog(1, mark[1], "to=master", 5*time.Second)
	for i := range 2 {
		h.waitLog(i, mark[i], "kind=heartbeat_down", 5*time.Second)
	}
	if got := h.holders(); got != [2]bool{true, true} {
		t.Fatalf("split brain: VIP holders (fw-a, fw-b) = %v, want both", got)
	}

	sniff := startSniff(t, h.Client)
	mark = [2]int{h.node[0].Mark(), h.node[1].Mark()}
	healed := time.Now()
	h.isolate(false)
	h.setLinks(0, true, linkSync)
	overlap := h.waitSingleHolder(0, 2*time.Second)
	t.Logf("two holders for %v after the heal", overlap)
	if overlap > 10*advbase {
		t.Errorf("both nodes held the VIPs %v after the heal, want at most %v (10 adverts)", overlap, 10*advbase)
	}
	h.waitLog(1, mark[1], "why=heard_better", 5*time.Second)
	if tr := h.logSince(0, mark[0], "carp: transition"); len(tr) > 0 {
		t.Errorf("fw-a, the better node, changed state on heal:\n%s", strings.Join(tr, "\n"))
	}
	garp, na := sniff.wait(healed, vipLANv4, vipLANv6, 2*time.Second)
	if !garp || !na {
		t.Errorf("after the heal the client saw gratuitous ARP %v, neighbour advertisement %v; want both", garp, na)
	}
}

// isolate cuts (or heals) the LAN between the two nodes while both keep
// their LAN link to the client: isolated bridge ports do not talk to each
// other.
func (h *haLab) isolate(on bool) {
	h.t.Helper()
	state := "off"
	if on {
		state = "on"
	}
	for i := range 2 {
		if err := h.Switch.Run("bridge", "link", "set", "dev", "lan-"+FWName(i), "isolated", state); err != nil {
			h.t.Fatal(err)
		}
	}
}

// waitSingleHolder polls until only node keep holds the VIPs, and returns
// how long both held them.
func (h *haLab) waitSingleHolder(keep int, timeout time.Duration) time.Duration {
	h.t.Helper()
	start := time.Now()
	for time.Since(start) < timeout {
		got := h.holders()
		if got[keep] && !got[1-keep] {
			return time.Since(start)
		}
		time.Sleep(time.Millisecond)
	}
	h.t.Fatalf("VIP holders still %v after %v; want %s only", h.holders(), timeout, FWName(keep))
	return 0
}

// TestHAStoppedMaster: the master process is stopped (SIGSTOP) for 2s and
// continued. The backup takes over meanwhile; the old master, once it
// runs again, hears the new one and steps down, and the two hold the VIPs
// together only briefly. Priorities are equal and fw-b is started first,
// so the stopped master is fw-b and fw-a's node id wins the tie.
func TestHAStoppedMaster(t *testing.T) {
	s := haDefaults()
	s.Priority = [2]int{150, 150}
	h := upHA(t, s)
	h.start(1)
	h.waitLog(1, 0, "to=master", 5*time.Second)
	h.start(0)
	h.waitLog(0, 0, "to=backup", 5*time.Second)
	time.Sleep(10 * advbase)
	if got := h.holders(); got != [2]bool{false, true} {
		t.Fatalf("VIP holders (fw-a, fw-b) = %v, want fw-b only", got)
	}

	mark := [2]int{h.node[0].Mark(), h.node[1].Mark()}
	if err := h.node[1].Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	h.waitLog(0, mark[0], "to=master", 5*time.Second)
	time.Sleep(2 * time.Second)
	if err := h.node[1].Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	overlap := h.waitSingleHolder(0, 2*time.Second)
	t.Logf("both held the VIPs for %v after SIGCONT", overlap)
	if overlap > 5*advbase {
		t.Errorf("both nodes held the VIPs %v after the old master resumed, want at most %v (5 adverts)", overlap, 5*advbase)
	}
	h.waitLog(1, mark[1], "why=heard_better", 5*time.Second)
}

// TestHAMaintenance: maintenance mode moves the master with no loss: the
// old master keeps forwarding until the new one has taken over and
// announced, then reports the handover complete.
func TestHAMaintenance(t *testing.T) {
	s := haDefaults()
	h := upHA(t, s)
	h.startPair()
	servers(t, h.Server, probePort)
	v4 := startStream(t, h.Client, netip.AddrPortFrom(ServerV4, probePort), time.Millisecond)
	waitReplies(t, v4)

	mark := [2]int{h.node[0].Mark(), h.node[1].Mark()}
	s.Maintenance[0] = true
	h.reconfigure(0, s)
	h.waitLog(0, mark[0], "handover complete", 5*time.Second)
	h.waitLog(1, mark[1], "to=master", time.Second)
	// The old master leaves the network at once, as in the benchmark.
	h.setLinks(0, false, linkSync, linkLAN, linkWAN)
	n := v4.Received()
	waitMore(t, v4, n+100)
	r := v4.Stop()
	t.Logf("%+v", r)
	if r.Lost > 0 {
		t.Errorf("%d probes lost in a planned switchover, want 0", r.Lost)
	}
}

// TestHAPlainMAC: with ha.virtual_mac off the VIPs live on the LAN and WAN
// devices themselves and failover relies on the announcements alone.
func TestHAPlainMAC(t *testing.T) {
	s := haDefaults()
	s.VirtualMAC = false
	h := upHA(t, s)
	h.startPair()
	servers(t, h.Server, probePort)
	v4 := startStream(t, h.Client, netip.AddrPortFrom(ServerV4, probePort), 2*time.Millisecond)
	waitReplies(t, v4)
	mark := h.node[1].Mark()
	h.setLinks(0, false, linkSync, linkLAN, linkWAN)
	h.waitLog(1, mark, "to=master", 5*time.Second)
	waitMore(t, v4, v4.Received()+50)
	r := v4.Stop()
	t.Logf("%+v", r)
	if r.Gap > 25*advbase {
		t.Errorf("longest gap %v, want at most %v (25 adverts)", r.Gap, 25*advbase)
	}
	out, err := h.FW[1].Output("ip", "-o", "addr", "show", "dev", DevLAN)
	if err != nil || !strings.Contains(out, vipLANv4.String()+"/24") {
		t.Errorf("fw-b's %s does not hold the VIP in plain-MAC mode: %v\n%s", DevLAN, err, out)
	}
}
