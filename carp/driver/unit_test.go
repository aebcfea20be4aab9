package driver

import (
	"encoding/binary"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"rampart/config"
)

func TestMacvlanName(t *testing.T) {
	for _, tc := range []struct {
		parent string
		vhid   uint8
		want   string
	}{
		{"eth0", 1, "vh1-eth0"},
		{"enp3s0f1", 255, "vh255-enp3s0f1"},
	} {
		if got := MacvlanName(tc.parent, tc.vhid); got != tc.want {
			t.Errorf("MacvlanName(%q, %d) = %q, want %q", tc.parent, tc.vhid, got, tc.want)
		}
	}
	long := MacvlanName("enp129s0f1np1", 200)
	if len(long) > ifNameMax || !strings.HasPrefix(long, "vh200-") {
		t.Errorf("MacvlanName of a long parent = %q: want vh200- and at most %d bytes", long, ifNameMax)
	}
	if long == MacvlanName("enp129s0f1np2", 200) {
		t.Error("two long parents got the same macvlan name")
	}
	if got := VirtualMAC(7).String(); got != "00:00:5e:00:01:07" {
		t.Errorf("VirtualMAC(7) = %s", got)
	}
}

func parse(t *testing.T, doc string) *config.Config {
	t.Helper()
	c, err := config.Parse("t.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const planDoc = `schema_version: 1
hostname: fw
interfaces:
  lan: { device: eth0, addresses: [192.168.1.2/24, fd00:1::2/64] }
  wan: { device: eth1, addresses: [203.0.113.2/24] }
  sync: { device: eth2, addresses: [192.168.255.1/30] }
  dmz: { device: eth3, addresses: [fd00:9::2/64] }
rules: []
management: { interfaces: [lan] }
ha:
  node_id: a
  heartbeat: sync
  peers: [192.168.255.2]
  second_path: [lan, dmz, sync]
  auth: { key_id: 1, passphrase: plan-test-passphrase }
  groups:
    - vhid: 1
      priority: 200
      vips:
        - { interface: lan, address: 192.168.1.1/24 }
        - { interface: wan, address: 203.0.113.1/24 }
        - { interface: lan, address: fd00:1::1/64 }
      track: [wan]
`

func TestPlan(t *testing.T) {
	p, err := newPlan(parse(t, planDoc), 7)
	if err != nil {
		t.Fatal(err)
	}
	if p.heartbeat != "eth2" || !p.vmac {
		t.Errorf("heartbeat %q vmac %v, want eth2 and virtual MAC by default", p.heartbeat, p.vmac)
	}
	// sync is the heartbeat device: not a second path. dmz has no IPv4
	// address: IPv6 multicast.
	want := []pathPlan{{role: "lan", dev: "eth0"}, {role: "dmz", dev: "eth3", v6: true}}
	if diff := cmp.Diff(want, p.second, cmp.AllowUnexported(pathPlan{})); diff != "" {
		t.Errorf("second paths (-want +got):\n%s", diff)
	}
	if got := p.groups[0].parents(); !cmp.Equal(got, []string{"eth0", "eth1"}) {
		t.Errorf("parents = %v", got)
	}
	if got := p.rolesOf("eth1"); !cmp.Equal(got, []string{"wan"}) {
		t.Errorf("rolesOf(eth1) = %v", got)
	}
	if got := p.devices(); !cmp.Equal(got, []string{"eth0", "eth1", "eth2", "eth3"}) {
		t.Errorf("devices = %v", got)
	}
	if p.groups[0].cfg.Epoch != 7 || p.groups[0].cfg.AdvSkew != 55 {
		t.Errorf("group config %+v: want epoch 7 and advskew 55", p.groups[0].cfg)
	}
}

// TestPlanEqual: Reconfigure restarts the driver only for HA changes,
// not for an unrelated interface or rule.
func TestPlanEqual(t *testing.T) {
	p1, err := newPlan(parse(t, planDoc), 7)
	if err != nil {
		t.Fatal(err)
	}
	other := strings.Replace(planDoc, "  dmz: { device: eth3, addresses: [fd00:9::2/64] }\n", "  dmz: { device: eth3, addresses: [fd00:9::2/64] }\n  guest: { device: eth4, addresses: [10.9.0.1/24] }\n", 1)
	p2, err := newPlan(parse(t, other), 7)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p1, p2) {
		t.Errorf("an unrelated interface changed the plan:\n%+v\n%+v", p1, p2)
	}
	p3, err := newPlan(parse(t, strings.Replace(planDoc, "priority: 200", "priority: 150", 1)), 7)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(p1, p3) {
		t.Error("a priority change left the plan equal")
	}
}

func TestPlanErrors(t *testing.T) {
	c := parse(t, planDoc)
	c.HA = nil
	if _, err := newPlan(c, 1); err == nil {
		t.Error("a config without ha gave a plan")
	}
	c = parse(t, planDoc)
	c.Interfaces["wan"].Device = ""
	if _, err := newPlan(c, 1); err == nil || !strings.Contains(err.Error(), "wan") {
		t.Errorf("a VIP role without a device: %v, want an error naming wan", err)
	}
}

func TestNetlinkParse(t *testing.T) {
	msg := func(typ uint16, flags uint32, name string) []byte {
		attr := make([]byte, 4+len(name)+1)
		binary.NativeEndian.PutUint16(attr[0:], uint16(len(attr)))
		binary.NativeEndian.PutUint16(attr[2:], unix.IFLA_IFNAME)
		copy(attr[4:], name)
		for len(attr)%4 != 0 {
			attr = append(attr, 0)
		}
		b := make([]byte, nlHdrLen+unix.SizeofIfInfomsg, nlHdrLen+unix.SizeofIfInfomsg+len(attr))
		b = append(b, attr...)
		putNlHeader(b, typ, 0, 1)
		binary.NativeEndian.PutUint32(b[nlHdrLen+8:], flags)
		return b
	}
	const up = unix.IFF_UP | unix.IFF_LOWER_UP
	buf := append(append(append(msg(unix.RTM_NEWLINK, up, "eth2"), msg(unix.RTM_NEWLINK, unix.IFF_UP, "eth2")...),
		msg(unix.RTM_NEWLINK, up, "eth9")...), msg(unix.RTM_DELLINK, up, "eth0")...)
	w := &linkWatch{devs: map[string]bool{"eth0": true, "eth2": true}, state: map[string]bool{}}
	var got []linkChange
	for _, m := range splitNetlink(buf) {
		if c, ok := w.parse(m); ok {
			got = append(got, c)
		}
	}
	want := []linkChange{{"eth2", true}, {"eth2", false}, {"eth0", false}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(linkChange{})); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
	// Truncated input ends the parse without a panic.
	for i := range buf {
		splitNetlink(buf[:i])
		attr(buf[nlHdrLen+unix.SizeofIfInfomsg:][:max(0, i-nlHdrLen-unix.SizeofIfInfomsg)], unix.IFLA_IFNAME)
	}
}

func TestHealthHysteresis(t *testing.T) {
	var calls []bool
	h := &healthCheck{failing: true, fresh: true, set: func(d bool) { calls = append(calls, d) }}
	for _, ok := range []bool{true, false, true, false, false, false, true, true, true} {
		h.record(ok)
	}
	// Fresh: the first success promotes at once; two failures in a row
	// demote; two successes in a row promote.
	want := []bool{false, true, false}
	if !cmp.Equal(calls, want) {
		t.Errorf("verdicts %v, want %v", calls, want)
	}
}

func TestHopLimit(t *testing.T) {
	b := unix.UnixRights() // empty
	if got := hopLimit(b, false); got != -1 {
		t.Errorf("no control message: %d, want -1", got)
	}
	cm := make([]byte, unix.CmsgSpace(4))
	h := (*unix.Cmsghdr)(unsafe.Pointer(&cm[0]))
	h.Level, h.Type = unix.IPPROTO_IP, unix.IP_TTL
	h.SetLen(unix.CmsgLen(4))
	binary.NativeEndian.PutUint32(cm[unix.CmsgLen(0):], 255)
	if got := hopLimit(cm, false); got != 255 {
		t.Errorf("IP_TTL 255: got %d", got)
	}
	if got := hopLimit(cm, true); got != -1 {
		t.Errorf("an IPv4 TTL read as an IPv6 hop limit: %d", got)
	}
}
