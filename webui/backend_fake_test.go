package webui

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"

	"rampart/config"
	"rampart/config/store"
	"rampart/webui/configsync"
)

// testConfig is node a of a pair: HA, aliases, rules and NAT.
const testConfig = `schema_version: 1
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
  port_forwards: [{in: wan, protocol: tcp, port: 443, to: 192.168.1.20}]
management: {interfaces: [lan]}
ha:
  node_id: a
  heartbeat: sync
  peers: [10.0.0.2]
  auth: {key_id: 1, passphrase: correct-horse-battery}
  groups:
    - {vhid: 1, priority: 200, vips: [{interface: lan, address: 192.168.1.1/24}]}
`

// fakeBackend is the daemon for handler tests: configs are validated
// and "applied" in memory, versions go to a real config/store.
type fakeBackend struct {
	t     *testing.T
	store *store.Store

	mu       sync.Mutex
	running  *config.Config
	version  store.Version
	applies  int
	applyErr error // the next Apply fails with it
	ha       HAStatus
	sync     SyncStatus
	fw       FirewallStatus
	ifs      []InterfaceStatus
	conns    []ConnEntry
	logs     []LogLine
}

func newFakeBackend(t *testing.T, clk *fakeClock) *fakeBackend {
	t.Helper()
	st, err := store.Open(t.TempDir(), store.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse("test.yaml", []byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := config.Marshal(cfg)
	v, err := st.Save(data, store.Meta{Author: "installer", Source: "test", Message: "first"})
	if err != nil {
		t.Fatal(err)
	}
	lan := netip.MustParsePrefix("192.168.1.2/24")
	return &fakeBackend{t: t, store: st, running: cfg, version: v,
		ha: HAStatus{Enabled: true, NodeID: "a", Groups: []GroupStatus{{
			VHID: 1, State: "master", Priority: 200, PeerNode: "b", PeerState: "backup", PeerPriority: 100,
			Transitions: 2, AdvertsSent: 100, AdvertsReceived: 5, Rejected: map[string]uint64{"auth": 3},
		}}, Transitions: []Transition{{Time: clk.Now(), VHID: 1, From: "backup", To: "master", Why: "master_down"}},
			Rejected: map[string]uint64{"version": 1}},
		sync: SyncStatus{Enabled: true, Connected: true, Lag: 2 * time.Millisecond, CacheEntries: 42,
			Resyncs: map[string]uint64{"connect": 1}, Commit: Timing{Count: 1, Sum: 30 * time.Millisecond}},
		fw: FirewallStatus{Counters: []RuleCounter{{Kind: "rule", Index: 1, Comment: "ssh", Packets: 7, Bytes: 420}},
			Apply: Timing{Count: 3, Sum: 90 * time.Millisecond, Last: 25 * time.Millisecond}},
		ifs: []InterfaceStatus{{Role: "lan", Device: "eth0", Up: true, Addresses: []netip.Prefix{lan}, RxBytes: 1000, TxBytes: 500}},
		conns: []ConnEntry{
			{Proto: "tcp", Src: netip.MustParseAddrPort("192.168.1.10:40000"), Dst: netip.MustParseAddrPort("192.0.2.1:443"), State: "ESTABLISHED", Bytes: 900},
			{Proto: "udp", Src: netip.MustParseAddrPort("192.168.1.11:5353"), Dst: netip.MustParseAddrPort("192.0.2.53:53")},
			{Proto: "tcp", Src: netip.MustParseAddrPort("192.168.1.12:40001"), Dst: netip.MustParseAddrPort("192.0.2.1:443"), State: "TIME_WAIT"},
		},
		logs: []LogLine{{Seq: 1, Kind: "firewall", Text: "drop in=wan"}, {Seq: 2, Kind: "transition", Text: "vhid 1 backup -> master"}},
	}
}

func (b *fakeBackend) Running() (*config.Config, store.Version) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.running, b.version
}

func (b *fakeBackend) Apply(_ context.Context, cfg *config.Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.applyErr; err != nil {
		b.applyErr = nil
		return err
	}
	b.running = cfg
	b.applies++
	return nil
}

func (b *fakeBackend) Commit(data []byte, meta store.Meta) (store.Version, error) {
	v, err := b.store.Save(data, meta)
	if err != nil {
		return v, err
	}
	b.mu.Lock()
	b.version = v
	b.mu.Unlock()
	return v, nil
}

func (b *fakeBackend) History() ([]store.Version, error) { return b.store.List() }
func (b *fakeBackend) Version(id uint64) ([]byte, store.Version, error) {
	return b.store.Get(id)
}
func (b *fakeBackend) Firewall() (FirewallStatus, error)      { return b.fw, nil }
func (b *fakeBackend) Interfaces() ([]InterfaceStatus, error) { return b.ifs, nil }
func (b *fakeBackend) HA() HAStatus {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ha
}
func (b *fakeBackend) StateSync() SyncStatus { return b.sync }

func (b *fakeBackend) Conntrack(_ context.Context, q ConnQuery) (ConnPage, error) {
	var match []ConnEntry
	for _, e := range b.conns {
		if MatchConn(e, q.Search) {
			match = append(match, e)
		}
	}
	page := ConnPage{Total: len(match)}
	if q.Offset < len(match) {
		page.Entries = match[q.Offset:min(q.Offset+q.Limit, len(match))]
	}
	return page, nil
}

func (b *fakeBackend) Logs(after uint64, max int) []LogLine {
	var out []LogLine
	for _, l := range b.logs {
		if l.Seq > after && len(out) < max {
			out = append(out, l)
		}
	}
	return out
}

// Node makes the fake a NodeViewer: the config stick was pulled.
func (b *fakeBackend) Node() NodeStatus {
	return NodeStatus{Version: "v0.9-test", Hostname: "fw-a", Uptime: 90 * time.Minute, ConfigSource: SourceRAM,
		ConfigPath: "store /run/rampart/state", StickKnown: true}
}

var _ NodeViewer = (*fakeBackend)(nil)

func (b *fakeBackend) runningConfig() *config.Config {
	c, _ := b.Running()
	return c
}

func (b *fakeBackend) applyCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.applies
}

var errKernel = errors.New("netlink: operation not permitted")

// fakePeer answers pushes with a canned verdict and records them.
type fakePeer struct {
	mu     sync.Mutex
	pushes []configsync.Push
	answer func(configsync.Push) (configsync.Result, error)
	state  configsync.PeerState
}

func (p *fakePeer) Push(_ context.Context, m configsync.Push) (configsync.Result, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pushes = append(p.pushes, m)
	return p.answer(m)
}

func (p *fakePeer) State() configsync.PeerState { return p.state }
