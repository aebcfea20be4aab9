package webui

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rampart/config"
	"rampart/webui/configsync"
)

// nodeB is the peer of testConfig's node a.
var nodeB = strings.NewReplacer("fw-a", "fw-b", "eth0", "enp1s0", "192.168.1.2/24", "192.168.1.3/24",
	"203.0.113.2/24", "203.0.113.3/24", "10.0.0.1/30", "10.0.0.2/30", "peers: [10.0.0.2]", "peers: [10.0.0.1]",
	"node_id: a", "node_id: b", "priority: 200", "priority: 100").Replace(testConfig)

// peerB runs configsync.Receive against node b's config, as the real
// peer does, and keeps the result.
func peerB(t *testing.T) *fakePeer {
	t.Helper()
	own, err := config.Parse("b", []byte(nodeB))
	if err != nil {
		t.Fatal(err)
	}
	p := &fakePeer{}
	p.answer = func(m configsync.Push) (configsync.Result, error) {
		merged, res := configsync.Receive(own, m)
		if merged != nil {
			own, res.Applied = merged, true
		}
		return res, nil
	}
	return p
}

func TestConfirmPushesToThePeer(t *testing.T) {
	peer := peerB(t)
	e, b := adminEnv(t, func(o *Options) { o.Peer = peer })
	api := script{e: e, token: e.token(b, "ci"), remote: "192.0.2.9:1"}
	before := unmarshal[configSyncView](t, mustStatus(t, api.do("GET", "/api/v1/configsync", nil), 200))
	if before.State != "unknown" || !before.Enabled {
		t.Errorf("before any sync: %+v", before)
	}

	id := unmarshal[proposedBody](t, mustStatus(t, api.do("POST", "/api/v1/rules", map[string]any{"item": newRule}), 202)).Change.ID
	if len(peer.pushes) != 0 {
		t.Fatal("an unconfirmed change was pushed")
	}
	res := unmarshal[confirmResult](t, mustStatus(t, api.do("POST", "/api/v1/change/confirm", changeIDRequest{ID: id}), 200))
	if res.Sync == nil || !res.Sync.OK || res.Sync.Peer != "b" {
		t.Fatalf("sync %+v; want an ok push to b", res.Sync)
	}
	if diff := cmp.Diff([]string{"rules"}, res.Sync.Changed); diff != "" {
		t.Errorf("changed on the peer (-want +got):\n%s", diff)
	}
	want, _ := configsync.SharedHash(e.be.runningConfig(), nil)
	if p := peer.pushes[0]; p.Node != "a" || p.Hash != want || p.Version != res.Version.ID {
		t.Errorf("push node %q hash %.12s version %d; want a, %.12s, %d", p.Node, p.Hash, p.Version, want, res.Version.ID)
	}
	after := unmarshal[configSyncView](t, mustStatus(t, api.do("GET", "/api/v1/configsync", nil), 200))
	if after.State != "in_step" || after.Hash != want || after.PeerHash != want {
		t.Errorf("after the sync: %+v", after)
	}
	if page := readBody(b.get("/")); !strings.Contains(page, "both nodes run the same shared config") {
		t.Error("the dashboard does not say the nodes are in step")
	}
}

// #10827 from the master's side: a peer that says "ok" but whose hash
// differs has not merged what it claims.
func TestPushSuccessWithAnotherHashFails(t *testing.T) {
	peer := &fakePeer{answer: func(m configsync.Push) (configsync.Result, error) {
		return configsync.Result{Node: "b", Applied: true, Hash: strings.Repeat("0", 64), Message: "ok"}, nil
	}}
	e, b := adminEnv(t, func(o *Options) { o.Peer = peer })
	api := script{e: e, token: e.token(b, "ci"), remote: "192.0.2.9:1"}
	id := unmarshal[proposedBody](t, mustStatus(t, api.do("POST", "/api/v1/rules", map[string]any{"item": newRule}), 202)).Change.ID
	res := unmarshal[confirmResult](t, mustStatus(t, api.do("POST", "/api/v1/change/confirm", changeIDRequest{ID: id}), 200))
	if res.Sync == nil || res.Sync.OK || !strings.Contains(res.Sync.Message, "reports success but") {
		t.Errorf("sync %+v; want a failure", res.Sync)
	}
	if v := e.srv.configSync(); v.State != "differs" {
		t.Errorf("state %q, want differs", v.State)
	}
	if acts := strings.Join(e.auditActions(), " "); !strings.Contains(acts, "configsync.push.failed") {
		t.Errorf("audit %q", acts)
	}
}

func TestPushOnlyFromTheMaster(t *testing.T) {
	peer := &fakePeer{answer: func(configsync.Push) (configsync.Result, error) { return configsync.Result{}, errors.New("link down") }}
	e, b := adminEnv(t, func(o *Options) { o.Peer = peer })
	api := script{e: e, token: e.token(b, "ci"), remote: "192.0.2.9:1"}
	e.be.mu.Lock()
	e.be.ha.Groups[0].State = "backup"
	e.be.mu.Unlock()
	id := unmarshal[proposedBody](t, mustStatus(t, api.do("POST", "/api/v1/rules", map[string]any{"item": newRule}), 202)).Change.ID
	res := unmarshal[confirmResult](t, mustStatus(t, api.do("POST", "/api/v1/change/confirm", changeIDRequest{ID: id}), 200))
	if res.Sync != nil || len(peer.pushes) != 0 {
		t.Errorf("a backup pushed: %+v", res.Sync)
	}
	e.be.mu.Lock()
	e.be.ha.Groups[0].State = "master"
	e.be.mu.Unlock()
	mustStatus(t, api.do("PUT", "/api/v1/rules/2", map[string]any{"item": map[string]any{"comment": "x", "action": "drop"}}), 202)
	p := unmarshal[pendingView](t, mustStatus(t, api.do("GET", "/api/v1/change", nil), 200))
	res = unmarshal[confirmResult](t, mustStatus(t, api.do("POST", "/api/v1/change/confirm", changeIDRequest{ID: p.Pending.ID}), 200))
	if res.Sync == nil || res.Sync.OK || !strings.Contains(res.Sync.Message, "no answer from the peer: link down") {
		t.Errorf("sync over a dead link: %+v", res.Sync)
	}
}

func TestReceiveSync(t *testing.T) {
	e, b := adminEnv(t)
	api := script{e: e, token: e.token(b, "ci"), remote: "192.0.2.9:1"}
	master, err := config.Parse("b", []byte(strings.Replace(nodeB, "lan out", "lan to anywhere", 1)))
	if err != nil {
		t.Fatal(err)
	}
	push, err := configsync.NewPush(master, 17, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := e.srv.ReceiveSync(context.Background(), push)
	if !res.Applied || res.Hash != push.Hash || res.Node != "a" || res.Version != 2 {
		t.Fatalf("ReceiveSync: %+v", res)
	}
	cur := e.be.runningConfig()
	if cur.Rules[0].Comment != "lan to anywhere" || cur.Hostname != "fw-a" || cur.HA.Groups[0].Priority != 200 || cur.Interfaces["lan"].Device != "eth0" {
		t.Error("the merge did not take the rule or overwrote local fields")
	}
	vs, _ := e.be.History()
	if vs[0].Meta.Author != "peer:b" || !strings.Contains(vs[0].Meta.Message, "version 17") {
		t.Errorf("stored as %+v", vs[0].Meta)
	}
	again := e.srv.ReceiveSync(context.Background(), push)
	if !again.Applied || len(again.Changed) != 0 || !strings.Contains(again.Message, "nothing to merge") {
		t.Errorf("second push: %+v; want applied, nothing changed, said so", again)
	}
	if vs2, _ := e.be.History(); len(vs2) != len(vs) {
		t.Error("a push that changed nothing stored a version")
	}

	// While a change made here awaits confirmation, pushes are refused.
	mustStatus(t, api.do("POST", "/api/v1/rules", map[string]any{"item": newRule}), 202)
	master.Rules[0].Comment = "third"
	push, _ = configsync.NewPush(master, 18, nil)
	res = e.srv.ReceiveSync(context.Background(), push)
	if res.Applied || !strings.Contains(res.Message, "awaits confirmation") {
		t.Errorf("push while pending: %+v", res)
	}
	if v := e.srv.configSync(); v.Last == nil || v.Last.Direction != "receive" || v.Last.OK {
		t.Errorf("last sync %+v", v.Last)
	}

	// A group new to this node has no local priority here: refused at
	// the field, nothing applied.
	p := unmarshal[pendingView](t, mustStatus(t, api.do("GET", "/api/v1/change", nil), http.StatusOK))
	mustStatus(t, api.do("POST", "/api/v1/change/revert", changeIDRequest{ID: p.Pending.ID}), http.StatusNoContent)
	before := e.be.runningConfig()
	master.HA.Groups = append(master.HA.Groups, &config.Group{VHID: 2, Priority: 100, VIPs: []config.VIP{{Interface: "wan", Address: netip.MustParsePrefix("203.0.113.1/24")}}})
	push, err = configsync.NewPush(master, 19, nil)
	if err != nil {
		t.Fatal(err)
	}
	res = e.srv.ReceiveSync(context.Background(), push)
	if res.Applied || !strings.Contains(strings.Join(res.Errors, " "), "ha.groups[1].priority") || e.be.runningConfig() != before {
		t.Errorf("push with a group new here: %+v; want a refusal naming ha.groups[1].priority", res)
	}
}
