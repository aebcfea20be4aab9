package configsync

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rampart/config"
)

// nodeA and nodeB are the two nodes of a pair: the same policy, different
// NICs, addresses, node ids and priorities.
const nodeA = `schema_version: 1
hostname: fw-a
interfaces:
  lan: {device: eth0, addresses: [192.168.1.2/24]}
  wan: {device: eth1, addresses: [203.0.113.2/24]}
  sync: {device: eth2, addresses: [10.0.0.1/30]}
aliases:
  admins: {addresses: [192.168.1.10/32]}
rules:
  - {comment: lan out, from: {interface: lan}, action: accept}
  - {comment: ssh, chain: input, from: {alias: admins}, protocol: tcp, to: {ports: [22]}, action: accept}
nat:
  masquerade: [{out: wan, sources: [192.168.1.0/24]}]
management: {interfaces: [lan]}
ha:
  node_id: a
  heartbeat: sync
  peers: [10.0.0.2]
  auth: {key_id: 1, passphrase: correct-horse-battery}
  groups:
    - {vhid: 1, priority: 200, vips: [{interface: lan, address: 192.168.1.1/24}]}
    - {vhid: 2, priority: 200, vips: [{interface: wan, address: 203.0.113.1/24}], track: [lan]}
`

var nodeB = strings.NewReplacer(
	"fw-a", "fw-b", "eth0", "enp1s0", "eth1", "enp2s0", "eth2", "enp3s0",
	"192.168.1.2/24", "192.168.1.3/24", "203.0.113.2/24", "203.0.113.3/24",
	"10.0.0.1/30", "10.0.0.2/30", "peers: [10.0.0.2]", "peers: [10.0.0.1]",
	"node_id: a", "node_id: b\n  maintenance: true", "priority: 200", "priority: 100",
).Replace(nodeA)

func parse(t *testing.T, name, doc string) *config.Config {
	t.Helper()
	c, err := config.Parse(name, []byte(doc))
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	return c
}

func marshal(t *testing.T, c *config.Config) string {
	t.Helper()
	data, err := config.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// locals lists every node-local value by path, lists keyed as Merge keys
// them: what a sync must never change.
func locals(v reflect.Value, path string, out map[string]any) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			locals(v.Elem(), path, out)
		}
	case reflect.Struct:
		if opaque(v.Type()) {
			return
		}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if isLocal(f) {
				data, _ := json.Marshal(v.Field(i).Interface())
				out[path+"."+yamlName(f)] = string(data)
			} else if f.IsExported() {
				locals(v.Field(i), path+"."+yamlName(f), out)
			}
		}
	case reflect.Slice:
		key, _ := listKey(deref(v.Type().Elem()))
		for i := range v.Len() {
			k := fmt.Sprint(i)
			if key != "" {
				k, _ = keyOf(v.Index(i), key, path)
			}
			locals(v.Index(i), path+"["+k+"]", out)
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			locals(it.Value(), fmt.Sprintf("%s[%v]", path, it.Key()), out)
		}
	}
}

func localsOf(c *config.Config) map[string]any {
	out := map[string]any{}
	locals(reflect.ValueOf(c).Elem(), "", out)
	return out
}

func TestMergeTakesSharedKeepsLocal(t *testing.T) {
	a := parse(t, "a", strings.NewReplacer(
		"ssh", "ssh from admins",
		"192.168.1.10/32", "192.168.1.10/32, 192.168.1.11/32",
		"track: [lan]", "track: [lan, sync]",
	).Replace(nodeA))
	b := parse(t, "b", nodeB)
	before := marshal(t, b)

	merged, rep, err := Merge(b, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"aliases", "rules", "ha.groups[vhid=2].track"}
	if diff := cmp.Diff(want, rep.Changed); diff != "" {
		t.Errorf("changed (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(localsOf(b), localsOf(merged)); diff != "" {
		t.Errorf("local fields changed (-want +got):\n%s", diff)
	}
	ha, _ := SharedHash(a, nil)
	hm, _ := SharedHash(merged, nil)
	if ha != hm {
		t.Errorf("shared hash after merge %s, want the peer's %s", hm, ha)
	}
	if got := marshal(t, b); got != before {
		t.Error("Merge modified its input")
	}
	merged.Rules[0].Comment = "x"
	if a.Rules[0].Comment == "x" || b.Rules[0].Comment == "x" {
		t.Error("the merged config shares memory with an input")
	}
}

// #10827: a sync that reports success but merged nothing. A merge with
// nothing to take says so, and Receive says "already in step" only when
// the hashes agree.
func TestMergeNothingToDo(t *testing.T) {
	a, b := parse(t, "a", nodeA), parse(t, "b", nodeB)
	merged, rep, err := Merge(b, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Changed) != 0 {
		t.Errorf("merging equal shared configs changed %q", rep.Changed)
	}
	if diff := cmp.Diff(marshal(t, b), marshal(t, merged)); diff != "" {
		t.Errorf("merge result differs from own (-want +got):\n%s", diff)
	}
	push, err := NewPush(a, 7, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, res := Receive(b, push)
	if cfg != nil || !res.Applied || len(res.Changed) != 0 || res.Hash != push.Hash || res.Node != "b" {
		t.Errorf("Receive of an equal config: cfg %v, %+v; want nothing to apply, applied, no changes, equal hash", cfg != nil, res)
	}
	if err := CheckResult(push, res); err != nil {
		t.Errorf("CheckResult: %v", err)
	}
}

// #7187: sections not selected are not synced.
func TestMergeOnlySelectedSections(t *testing.T) {
	a := parse(t, "a", strings.NewReplacer("lan out", "lan to anywhere", "192.168.1.10/32", "192.168.1.99/32").Replace(nodeA))
	b := parse(t, "b", nodeB)
	merged, rep, err := Merge(b, a, []string{"rules"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"rules"}, rep.Changed); diff != "" {
		t.Errorf("changed (-want +got):\n%s", diff)
	}
	if got := merged.Aliases["admins"].Addresses[0].String(); got != "192.168.1.10/32" {
		t.Errorf("unselected aliases were synced: %s", got)
	}
	hr, _ := SharedHash(a, []string{"rules"})
	hm, _ := SharedHash(merged, []string{"rules"})
	hAll, _ := SharedHash(a, nil)
	hmAll, _ := SharedHash(merged, nil)
	if hr != hm || hAll == hmAll {
		t.Errorf("hash over rules equal: %v (want true); over everything equal: %v (want false)", hr == hm, hAll == hmAll)
	}
	for _, bad := range [][]string{{"hostname"}, {"interfaces"}, {"nosuch"}} {
		if _, _, err := Merge(b, a, bad); err == nil {
			t.Errorf("sections %q accepted", bad)
		}
	}
}

// #5554: node-local settings are never overwritten, also when groups are
// reordered, added and removed on the master.
func TestMergeGroupsByVHID(t *testing.T) {
	a := parse(t, "a", nodeA)
	b := parse(t, "b", nodeB)
	// On the master: group 2 moves first, group 1 goes, group 3 is new.
	a.HA.Groups = []*config.Group{a.HA.Groups[1], {VHID: 3, Priority: 150, VIPs: []config.VIP{{Interface: "lan", Address: a.HA.Groups[0].VIPs[0].Address}}}}
	merged, rep, err := Merge(b, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ha.groups[vhid=3] (new on this node)", "ha.groups[vhid=1] (removed)"}
	if diff := cmp.Diff(want, rep.Changed); diff != "" {
		t.Errorf("changed (-want +got):\n%s", diff)
	}
	got := []string{}
	for _, g := range merged.HA.Groups {
		got = append(got, fmt.Sprintf("vhid %d priority %d", g.VHID, g.Priority))
	}
	if diff := cmp.Diff([]string{"vhid 2 priority 100", "vhid 3 priority 0"}, got); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	if !merged.HA.Maintenance || merged.HA.NodeID != "b" || merged.Hostname != "fw-b" || merged.Interfaces["lan"].Device != "enp1s0" {
		t.Error("local fields were overwritten")
	}

	// The new group has no priority here, so the sync is refused at the
	// field rather than guessing one.
	push, _ := NewPush(a, 8, nil)
	cfg, res := Receive(b, push)
	if cfg != nil || res.Applied {
		t.Fatalf("Receive applied a group without a local priority: %+v", res)
	}
	if !strings.Contains(strings.Join(res.Errors, "\n"), "ha.groups[1].priority") {
		t.Errorf("errors %q (%s) do not name ha.groups[1].priority", res.Errors, res.Message)
	}
	if err := CheckResult(push, res); err == nil {
		t.Error("CheckResult accepted a refusal")
	}
}

func TestMergeReorderIsAChange(t *testing.T) {
	a, b := parse(t, "a", nodeA), parse(t, "b", nodeB)
	a.HA.Groups[0], a.HA.Groups[1] = a.HA.Groups[1], a.HA.Groups[0]
	merged, rep, err := Merge(b, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"ha.groups (order)"}, rep.Changed); diff != "" {
		t.Errorf("changed (-want +got):\n%s", diff)
	}
	if merged.HA.Groups[0].VHID != 2 || merged.HA.Groups[0].Priority != 100 {
		t.Errorf("first group: vhid %d priority %d, want 2 and this node's 100", merged.HA.Groups[0].VHID, merged.HA.Groups[0].Priority)
	}
}

func TestMergePeerWithoutHA(t *testing.T) {
	a, b := parse(t, "a", nodeA), parse(t, "b", nodeB)
	a.HA = nil
	if _, _, err := Merge(b, a, nil); err == nil || !strings.Contains(err.Error(), "node-local") {
		t.Errorf("merge of a peer without ha: %v, want an error about node-local settings", err)
	}
	// The other way round, the new section arrives with zero local fields.
	b.HA = nil
	a = parse(t, "a", nodeA)
	merged, _, err := Merge(b, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	if merged.HA == nil || merged.HA.NodeID != "" || merged.HA.Groups[0].Priority != 0 || len(merged.HA.Groups) != 2 {
		t.Errorf("ha new on this node: %+v; want the shared part with zero local fields", merged.HA)
	}
}

func TestReceiveApplies(t *testing.T) {
	a := parse(t, "a", strings.Replace(nodeA, "lan out", "lan to anywhere", 1))
	b := parse(t, "b", nodeB)
	push, err := NewPush(a, 9, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, res := Receive(b, push)
	if cfg == nil {
		t.Fatalf("Receive refused: %+v", res)
	}
	if diff := cmp.Diff([]string{"rules"}, res.Changed); diff != "" {
		t.Errorf("changed (-want +got):\n%s", diff)
	}
	res.Applied = true // the caller applied it
	if err := CheckResult(push, res); err != nil {
		t.Error(err)
	}
	if cfg.Rules[0].Comment != "lan to anywhere" || cfg.HA.Groups[0].Priority != 100 {
		t.Error("the merged config lacks the new rule or lost the local priority")
	}

	// A result that claims success with another hash is a failure.
	res.Hash = strings.Repeat("0", 64)
	if err := CheckResult(push, res); err == nil {
		t.Error("CheckResult accepted a success with a different hash")
	}
}

func TestReceiveRefuses(t *testing.T) {
	a, b := parse(t, "a", nodeA), parse(t, "b", nodeB)
	good, _ := NewPush(a, 1, nil)
	for _, tc := range []struct {
		name string
		mod  func(*Push)
		want string
	}{
		{"tampered document", func(p *Push) { p.Config = []byte(strings.Replace(string(p.Config), "lan out", "evil", 1)) }, "does not match its hash"},
		{"invalid document", func(p *Push) { p.Config = []byte("schema_version: 1\nrules: 3\n") }, "not valid"},
		{"unknown section", func(p *Push) { p.Sections = []string{"nosuch"} }, "cannot hash"},
		{"too large", func(p *Push) { p.Config = make([]byte, config.MaxSize+1) }, "over"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := good
			tc.mod(&p)
			cfg, res := Receive(b, p)
			if cfg != nil || res.Applied || !strings.Contains(res.Message, tc.want) {
				t.Errorf("got cfg %v, %+v; want a refusal mentioning %q", cfg != nil, res, tc.want)
			}
		})
	}
}

func TestSharedHash(t *testing.T) {
	a, b := parse(t, "a", nodeA), parse(t, "b", nodeB)
	ha, err := SharedHash(a, nil)
	if err != nil {
		t.Fatal(err)
	}
	hb, _ := SharedHash(b, nil)
	if ha != hb || len(ha) != 64 {
		t.Errorf("hashes of configs that differ only locally: %s and %s", ha, hb)
	}
	b.Rules[1].Comment = "changed"
	if hb2, _ := SharedHash(b, nil); hb2 == ha {
		t.Error("a rule change did not change the hash")
	}
	s, _ := Shared(a, nil)
	if s.Hostname != "" || s.Interfaces != nil || s.HA.NodeID != "" || s.HA.Groups[0].Priority != 0 || a.Hostname != "fw-a" {
		t.Error("Shared kept local fields or changed its input")
	}
}

// Every list whose elements hold local fields must say how elements are
// matched between nodes; a new one fails here, not in a sync.
func TestListKeysCoverTheSchema(t *testing.T) {
	var missing []string
	checkKeys(reflect.TypeFor[config.Config](), map[reflect.Type]bool{}, &missing)
	if len(missing) > 0 {
		t.Errorf("lists of %v hold local fields but listKey has no key for them", missing)
	}
	want := []string{"schema_version", "aliases", "rules", "nat", "management", "ha", "statesync", "webui"}
	if diff := cmp.Diff(want, sections()); diff != "" {
		t.Errorf("shared sections (-want +got):\n%s", diff)
	}
}
