package carp

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rampart/config"
)

func TestReceiver(t *testing.T) {
	secret := Secret{ID: 1, Bytes: []byte("shared secret")}
	ring := testRing(t, []uint8{1, 2}, secret)
	r := NewReceiver(nodeID("a"), ring)
	seal := func(node string, vhid uint8, epoch, seq uint64) []byte {
		b, err := ring.Seal(Advert{Type: TypeAdvert, VHID: vhid, AdvBaseMS: 100, Node: nodeID(node), Epoch: epoch, Seq: seq})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	other, _ := testRing(t, []uint8{3}, secret).Seal(Advert{Type: TypeAdvert, VHID: 3, AdvBaseMS: 100, Node: nodeID("z")})
	forged, _ := testRing(t, []uint8{1}, Secret{ID: 1, Bytes: []byte("guess")}).Seal(Advert{Type: TypeAdvert, VHID: 1, AdvBaseMS: 100, Node: nodeID("b"), Epoch: 9, Seq: 9})
	steps := []struct {
		name string
		pkt  []byte
		ttl  int
		want string
	}{
		{"first advert", seal("b", 1, 5, 10), 255, "accepted"},
		{"second path copy", seal("b", 1, 5, 10), 255, "duplicate"},
		{"routed", seal("b", 1, 5, 11), 254, "ttl"},
		{"ttl unknown", seal("b", 1, 5, 11), -1, "ttl"},
		{"next", seal("b", 1, 5, 12), 255, "accepted"},
		{"reordered", seal("b", 1, 5, 11), 255, "late"},
		{"other group, own window", seal("b", 2, 5, 1), 255, "accepted"},
		{"earlier boot", seal("b", 1, 4, 100), 255, "replay"},
		{"own id", seal("a", 1, 5, 100), 255, "self"},
		{"wrong key", forged, 255, "auth"},
		{"reboot", seal("b", 1, 6, 1), 255, "accepted"},
		{"not ours", other, 255, "vhid"},
		{"garbage", []byte{1, 2, 3}, 255, "short"},
	}
	var got, want []string
	for _, s := range steps {
		want = append(want, s.name+": "+s.want)
		_, err := r.Accept(s.pkt, s.ttl)
		res := "accepted"
		if err != nil {
			res = ReasonOf(err).String()
		}
		got = append(got, s.name+": "+res)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("verdicts (-want +got):\n%s", diff)
	}
	wantCounts := Counts{Accepted: 4, Rejected: map[Reason]uint64{
		ReasonDuplicate: 1, ReasonTTL: 2, ReasonLate: 1, ReasonReplay: 1, ReasonSelf: 1,
		ReasonAuth: 1, ReasonVHID: 1, ReasonShort: 1,
	}}
	if diff := cmp.Diff(wantCounts, r.Counts()); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
}

func TestReasons(t *testing.T) {
	var labels []string
	for _, r := range Reasons() {
		labels = append(labels, r.String())
	}
	want := []string{"short", "long", "version", "type", "field", "ttl", "vhid", "key_id", "auth", "self", "replay", "duplicate", "late"}
	if diff := cmp.Diff(want, labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	if Reason(0).String() != "unknown" || Reason(200).String() != "unknown" {
		t.Error("out of range reasons must print unknown")
	}
}

func TestVIPDigest(t *testing.T) {
	vip := func(iface, p string) config.VIP {
		return config.VIP{Interface: iface, Address: netip.MustParsePrefix(p)}
	}
	a := []config.VIP{vip("lan", "192.0.2.1/24"), vip("wan", "198.51.100.1/24"), vip("lan", "2001:db8::1/64")}
	b := []config.VIP{a[2], a[0], a[1]}
	if VIPDigest(a) != VIPDigest(b) {
		t.Error("digest depends on order")
	}
	for _, other := range [][]config.VIP{
		a[:2],
		{vip("lan", "192.0.2.1/25"), a[1], a[2]},
		{vip("dmz", "192.0.2.1/24"), a[1], a[2]},
		{vip("lan", "192.0.2.2/24"), a[1], a[2]},
		nil,
	} {
		if VIPDigest(other) == VIPDigest(a) {
			t.Errorf("digest of %v equals digest of %v", other, a)
		}
	}
}

func TestParseNodeID(t *testing.T) {
	for _, bad := range []string{"", "0123456789abcdefg", "a\x00b"} {
		if _, err := ParseNodeID(bad); err == nil {
			t.Errorf("ParseNodeID(%q) succeeded", bad)
		}
	}
	a, b, ab := nodeID("a"), nodeID("b"), nodeID("ab")
	if a.Compare(b) >= 0 || a.Compare(ab) >= 0 || ab.Compare(b) >= 0 {
		t.Error("node ids do not sort like their names")
	}
	if got := nodeID("fw-east").String(); got != "fw-east" {
		t.Errorf("String = %q", got)
	}
}
