package appliance

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"rampart/carp"
	"rampart/carp/driver"
	"rampart/config"
	"rampart/statesync/ctnl"
	"rampart/webui"
)

func TestConnPage(t *testing.T) {
	a := netip.MustParseAddr
	entries := []ctnl.Entry{
		{Orig: ctnl.Tuple{Src: a("192.168.1.100"), Dst: a("203.0.113.100"), Proto: 6, SrcPort: 40000, DstPort: 80},
			Reply:   ctnl.Tuple{Src: a("203.0.113.100"), Dst: a("203.0.113.2"), Proto: 6, SrcPort: 80, DstPort: 40000},
			Timeout: 120, TCP: &ctnl.TCPInfo{State: ctnl.TCPStateEstablished}},
		{Orig: ctnl.Tuple{Src: a("192.168.1.100"), Dst: a("192.168.1.1"), Proto: 1, ICMPID: 7, ICMPType: 8}, Timeout: 30},
		{Orig: ctnl.Tuple{Src: a("10.0.0.5"), Dst: a("10.0.0.1"), Proto: 17, SrcPort: 5353, DstPort: 53}, Timeout: 10},
	}
	page := connPage(entries, webui.ConnQuery{Search: "192.168.1.100", Limit: 1})
	if page.Total != 2 || len(page.Entries) != 1 {
		t.Fatalf("page: total %d, %d entries; want 2 and 1", page.Total, len(page.Entries))
	}
	want := webui.ConnEntry{Proto: "icmp", Src: netip.AddrPortFrom(a("192.168.1.100"), 0), Dst: netip.AddrPortFrom(a("192.168.1.1"), 0), Expires: 30 * time.Second}
	if diff := cmp.Diff(want, page.Entries[0], cmp.Comparer(func(x, y netip.AddrPort) bool { return x == y })); diff != "" {
		t.Errorf("first entry (-want +got):\n%s", diff)
	}
	page = connPage(entries, webui.ConnQuery{Search: "ESTABLISHED", Offset: 0, Limit: 10})
	if page.Total != 1 || page.Entries[0].ReplyDst.String() != "203.0.113.2:40000" {
		t.Errorf("search by state: %+v", page)
	}
	if page := connPage(entries, webui.ConnQuery{Offset: 5, Limit: 10}); page.Total != 3 || len(page.Entries) != 0 {
		t.Errorf("offset past the end: %+v", page)
	}
}

func TestCachedView(t *testing.T) {
	var c cachedView[int]
	now := time.Unix(100, 0)
	reads := 0
	read := func() (int, error) { reads++; return reads, nil }
	for _, step := range []struct {
		at   time.Duration
		want int
	}{{0, 1}, {viewTTL / 2, 1}, {viewTTL, 2}, {viewTTL - time.Second, 3}} { // a clock going back reads anew
		if got, _ := c.get(now.Add(step.at), read); got != step.want {
			t.Errorf("at +%v: %d, want %d", step.at, got, step.want)
		}
	}
	c.reset()
	if got, _ := c.get(now.Add(viewTTL-time.Second), read); got != 4 {
		t.Errorf("after reset: %d, want a new read", got)
	}
	boom := errors.New("boom")
	var e cachedView[int]
	if _, err := e.get(now, func() (int, error) { return 0, boom }); !errors.Is(err, boom) {
		t.Errorf("error not returned: %v", err)
	}
}

func TestGroupViews(t *testing.T) {
	now := time.Unix(1000, 0)
	ha := &config.HA{Groups: []*config.Group{
		{VHID: 1, Priority: 200, AdvBase: config.Duration(time.Second)},
		{VHID: 2, Priority: 200, AdvBase: config.Duration(100 * time.Millisecond)},
		{VHID: 3, Priority: 150, AdvBase: config.Duration(time.Second)},
		{VHID: 4, Priority: 150, AdvBase: config.Duration(time.Second)},
		{VHID: 5, Priority: 150, AdvBase: config.Duration(time.Second)},
	}}
	groups := []driver.GroupStatus{
		{VHID: 1, State: carp.Backup, Sent: 0, Received: 40, Peer: "b", PeerType: carp.TypeAdvert,
			PeerPriority: 250, PeerDemotion: 0, PeerSeen: now.Add(-500 * time.Millisecond)},
		{VHID: 2, State: carp.Master, Demotion: 50, Sent: 9, Peer: "b", PeerType: carp.TypeAdvert,
			PeerPriority: 100, PeerSeen: now.Add(-time.Second)}, // 10 intervals ago
		{VHID: 3, State: carp.Master, Peer: "b", PeerType: carp.TypeBowOut, PeerPriority: 250, PeerSeen: now.Add(-time.Hour)},
		{VHID: 4, State: carp.Master}, // nothing heard
	}
	ts := []webui.Transition{{VHID: 2, From: "backup", To: "master"}, {VHID: 2, From: "init", To: "backup"}}
	got := groupViews(ha, groups, ts, map[string]uint64{"auth": 1}, now)
	none := map[string]uint64{}
	want := []webui.GroupStatus{
		{VHID: 1, State: "backup", Priority: 200, AdvertsReceived: 40, Rejected: none,
			PeerNode: "b", PeerState: "master", PeerPriority: 250, PeerMessage: "advert", PeerSeen: now.Add(-500 * time.Millisecond)},
		{VHID: 2, State: "master", Priority: 200, Demotion: 50, AdvertsSent: 9, Transitions: 2, Rejected: none,
			PeerNode: "b", PeerState: "silent", PeerPriority: 100, PeerMessage: "advert", PeerSeen: now.Add(-time.Second)},
		{VHID: 3, State: "master", Priority: 150, Rejected: none,
			PeerNode: "b", PeerState: "backup", PeerPriority: 250, PeerMessage: "bow-out", PeerSeen: now.Add(-time.Hour)},
		{VHID: 4, State: "master", Priority: 150, Rejected: none},
		{VHID: 5, State: "init", Priority: 150, Rejected: none}, // not running (yet)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
}
