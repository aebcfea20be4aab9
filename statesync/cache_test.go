package statesync

import (
	"slices"
	"testing"

	"rampart/statesync/ctnl"
)

func sortedKeys(es []ctnl.Entry) []uint16 {
	var ports []uint16
	for _, e := range es {
		ports = append(ports, e.Orig.SrcPort)
	}
	slices.Sort(ports)
	return ports
}

func TestCache(t *testing.T) {
	c := NewCache(4)
	up := func(e ctnl.Entry) Record { return Record{Op: OpUpdate, Entry: e} }
	del := func(e ctnl.Entry) Record { return Record{Op: OpDestroy, Entry: e} }

	c.Apply([]Record{up(tcpFlow(1, 1)), up(tcpFlow(2, 1)), up(tcpFlow(3, 1))})
	noTCP := tcpFlow(1, 2)
	noTCP.TCP = nil
	c.Apply([]Record{up(noTCP), del(tcpFlow(3, 1)), del(tcpFlow(9, 1))})
	got, ok := c.Get(KeyOf(&noTCP))
	want := tcpFlow(1, 2)
	if !ok {
		t.Fatal("flow 1 missing")
	}
	if d := diff(want, got); d != "" {
		t.Errorf("update without protoinfo keeps the TCP state (-want +got):\n%s", d)
	}
	if d := diff([]uint16{1, 2}, sortedKeys(c.Entries())); d != "" {
		t.Errorf("after destroy (-want +got):\n%s", d)
	}

	// A bulk update mentions 2 and 4: 1 expires.
	c.BeginBulk()
	c.Apply([]Record{up(tcpFlow(2, 3)), up(tcpFlow(4, 3))})
	applied, expired := c.EndBulk()
	if applied != 2 || expired != 1 {
		t.Errorf("EndBulk = %d applied, %d expired, want 2, 1", applied, expired)
	}
	if d := diff([]uint16{2, 4}, sortedKeys(c.Entries())); d != "" {
		t.Errorf("after bulk (-want +got):\n%s", d)
	}

	// An abandoned bulk expires nothing; the next one does.
	c.BeginBulk()
	c.Apply([]Record{up(tcpFlow(5, 1))})
	c.AbortBulk()
	if a, e := c.EndBulk(); a != 0 || e != 0 {
		t.Errorf("EndBulk without a bulk = %d, %d", a, e)
	}
	if d := diff([]uint16{2, 4, 5}, sortedKeys(c.Entries())); d != "" {
		t.Errorf("after aborted bulk (-want +got):\n%s", d)
	}
	// Changes after a bulk survive the next bulk only if it mentions
	// them: here flow 6 arrives between bulks and is not re-sent.
	c.Apply([]Record{up(tcpFlow(6, 1))})
	c.BeginBulk()
	c.Apply([]Record{up(tcpFlow(5, 2))})
	c.EndBulk()
	if d := diff([]uint16{5}, sortedKeys(c.Entries())); d != "" {
		t.Errorf("after second bulk (-want +got):\n%s", d)
	}

	// The bound: 4 flows, the rest dropped and counted; updates of kept
	// flows still apply.
	c.Apply([]Record{up(tcpFlow(10, 1)), up(tcpFlow(11, 1)), up(tcpFlow(12, 1)), up(tcpFlow(13, 1)), up(tcpFlow(5, 9))})
	st := c.Stats()
	if d := diff(CacheStats{Size: 4, Drops: 1, Expired: 4}, st); d != "" {
		t.Errorf("stats (-want +got):\n%s", d)
	}
	if e, _ := c.Get(KeyOf(&ctnl.Entry{Orig: tcpFlow(5, 0).Orig})); e.Mark != 9 {
		t.Errorf("flow 5 mark %d, want 9", e.Mark)
	}
}

// TestCacheKeepsEntries: what the cache keeps of an entry, in bytes,
// gives the same entry back.
func TestCacheKeepsEntries(t *testing.T) {
	v6 := ctnl.Tuple{Src: addr("fd00::2"), Dst: addr("fd00:1::2"), Proto: 58, ICMPID: 9, ICMPType: 128}
	v6r := v6.Reverse()
	v6r.Src = addr("fd00:2::9")
	mapped := ctnl.Tuple{Src: addr("::ffff:10.0.0.1"), Dst: addr("fd00::1"), Proto: 17, SrcPort: 1, DstPort: 2}
	entries := map[string]ctnl.Entry{
		"tcp":        tcpFlow(7, 3),
		"masquerade": masqFlow(9),
		"icmpv6 dnat": {ID: 4, Orig: v6, Reply: v6r, Status: ctnl.StatusConfirmed | ctnl.StatusDstNAT, Timeout: 20, Mark: 5, Zone: 2,
			DNAT: &ctnl.NAT{Addr: addr("fd00:2::9"), Port: 9}},
		"no reply":  {Orig: ctnl.Tuple{Src: addr("10.0.0.1"), Dst: addr("10.0.0.2"), Proto: 47}, Timeout: 1},
		"v4 mapped": {Orig: mapped, Reply: mapped.Reverse(), Timeout: 1},
	}
	for name, e := range entries {
		c := NewCache(10)
		c.Apply([]Record{{Op: OpUpdate, Entry: e}})
		got, ok := c.Get(KeyOf(&e))
		if d := diff(e, got); !ok || d != "" {
			t.Errorf("%s: found %v (-want +got):\n%s", name, ok, d)
		}
	}
}
