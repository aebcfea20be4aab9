package remote

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"rampart/config"
	"rampart/config/store"
	"rampart/webui"
	"rampart/webui/configsync"
)

// pair connects a daemon side serving daemon and a UI side serving ui
// over net.Pipe.
func pair(t *testing.T, daemon, ui Mux) (d, u *Conn) {
	t.Helper()
	a, b := net.Pipe()
	d, u = NewConn(a, daemon), NewConn(b, ui)
	t.Cleanup(func() { d.Close(); u.Close() })
	return d, u
}

// fakeBackend answers from fields; errors come back as set.
type fakeBackend struct {
	cfg      *config.Config
	applyErr error
	applied  *config.Config
	deadline bool // Apply saw a deadline
}

func (f *fakeBackend) Running() (*config.Config, store.Version) {
	return f.cfg, store.Version{ID: 7, Meta: store.Meta{Author: "admin"}}
}
func (f *fakeBackend) Apply(ctx context.Context, cfg *config.Config) error {
	_, f.deadline = ctx.Deadline()
	f.applied = cfg
	return f.applyErr
}
func (f *fakeBackend) Commit(data []byte, meta store.Meta) (store.Version, error) {
	return store.Version{ID: 8, Meta: meta}, nil
}
func (f *fakeBackend) History() ([]store.Version, error) { return nil, webui.ErrUnavailable }
func (f *fakeBackend) Version(id uint64) ([]byte, store.Version, error) {
	return nil, store.Version{}, fmt.Errorf("store: get %d: %w", id, store.ErrNotFound)
}
func (f *fakeBackend) Firewall() (webui.FirewallStatus, error) {
	return webui.FirewallStatus{Counters: []webui.RuleCounter{{Kind: "rule", Index: 2, Packets: 5}}}, nil
}
func (f *fakeBackend) Interfaces() ([]webui.InterfaceStatus, error) {
	return []webui.InterfaceStatus{{Role: "lan", Addresses: []netip.Prefix{netip.MustParsePrefix("192.0.2.1/24")}}}, nil
}
func (f *fakeBackend) HA() webui.HAStatus {
	return webui.HAStatus{Enabled: true, Rejected: map[string]uint64{"bad_hmac": 3}}
}
func (f *fakeBackend) StateSync() webui.SyncStatus { return webui.SyncStatus{Lag: time.Millisecond} }
func (f *fakeBackend) Conntrack(ctx context.Context, q webui.ConnQuery) (webui.ConnPage, error) {
	return webui.ConnPage{Total: q.Limit}, nil
}
func (f *fakeBackend) Logs(after uint64, max int) []webui.LogLine {
	return []webui.LogLine{{Seq: after + 1, Text: strings.Repeat("x", max)}}
}

func testConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Parse("test", []byte(`schema_version: 1
hostname: fw
interfaces:
  lan: {device: eth0, addresses: [192.168.1.1/24, fe80::1/64]}
  wan: {device: eth1, addresses: [203.0.113.2/24], gateway: 203.0.113.1}
aliases:
  web: {ports: [80, "8000-8080"]}
rules:
  - {from: {interface: lan}, to: {port_alias: web}, protocol: tcp, action: accept, log: true}
management: {interfaces: [lan]}
webui: {port: 8443, session_idle: 90s}
`))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestBackendRoundTrip(t *testing.T) {
	fake := &fakeBackend{cfg: testConfig(t)}
	m := Mux{}
	ServeBackend(m, fake)
	_, u := pair(t, m, Mux{})
	be := NewBackend(u, 0, nil)

	cfg, v := be.Running()
	if diff := cmp.Diff(fake.cfg, cfg, cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
		cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("Running config (-want +got):\n%s", diff)
	}
	if v.ID != 7 || v.Meta.Author != "admin" {
		t.Errorf("Running version = %+v", v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := be.Apply(ctx, cfg); err != nil || !fake.deadline || fake.applied.Hostname != "fw" {
		t.Errorf("Apply = %v; deadline passed %v, applied %v", err, fake.deadline, fake.applied)
	}
	fw, err := be.Firewall()
	if err != nil || len(fw.Counters) != 1 || fw.Counters[0].Packets != 5 {
		t.Errorf("Firewall = %+v, %v", fw, err)
	}
	if ha := be.HA(); !ha.Enabled || ha.Rejected["bad_hmac"] != 3 {
		t.Errorf("HA = %+v", ha)
	}
	if logs := be.Logs(4, 3); len(logs) != 1 || logs[0].Seq != 5 || logs[0].Text != "xxx" {
		t.Errorf("Logs = %+v", logs)
	}
	if p, err := be.Conntrack(ctx, webui.ConnQuery{Limit: 9}); err != nil || p.Total != 9 {
		t.Errorf("Conntrack = %+v, %v", p, err)
	}
}

// Errors keep what the UI tests for: validation errors with key paths
// (shown at the field), and the sentinels, however deeply wrapped.
func TestErrorsRoundTrip(t *testing.T) {
	fields := config.Errors{
		{Path: "rules[0].to.port_alias", Msg: `unknown port alias "web2"`},
		{Path: "interfaces.lan.addresses[1]", Line: 4, Col: 9, Msg: "overlaps interfaces.dmz"},
	}
	fake := &fakeBackend{cfg: testConfig(t), applyErr: fmt.Errorf("appliance: compile: %w", fields)}
	m := Mux{}
	ServeBackend(m, fake)
	_, u := pair(t, m, Mux{})
	be := NewBackend(u, 0, nil)

	err := be.Apply(context.Background(), fake.cfg)
	var es config.Errors
	if !errors.As(err, &es) {
		t.Fatalf("Apply error %v is not config.Errors", err)
	}
	if diff := cmp.Diff(fields, es); diff != "" {
		t.Errorf("config.Errors (-want +got):\n%s", diff)
	}
	var one *config.Error
	if !errors.As(err, &one) || one.Path != "rules[0].to.port_alias" {
		t.Errorf("errors.As(*config.Error) = %v", one)
	}
	if err.Error() != fake.applyErr.Error() {
		t.Errorf("text %q, want %q", err, fake.applyErr)
	}

	if _, _, err := be.Version(42); !errors.Is(err, store.ErrNotFound) || err.Error() != "store: get 42: not found" {
		t.Errorf("Version error = %v, want store.ErrNotFound", err)
	}
	if _, err := be.History(); !errors.Is(err, webui.ErrUnavailable) {
		t.Errorf("History error = %v, want webui.ErrUnavailable", err)
	}
	if _, err := be.History(); errors.Is(err, store.ErrNotFound) {
		t.Errorf("History error %v also claims store.ErrNotFound", err)
	}
}

// A daemon that is gone makes the UI answer "not available", not hang.
func TestBackendGone(t *testing.T) {
	_, u := pair(t, Mux{}, Mux{})
	u.Close()
	be := NewBackend(u, 0, nil)
	if _, err := be.History(); !errors.Is(err, webui.ErrUnavailable) {
		t.Errorf("History on a closed conn = %v, want webui.ErrUnavailable", err)
	}
	if cfg, _ := be.Running(); cfg != nil {
		t.Errorf("Running on a closed conn = %v, want nil", cfg)
	}
}

func TestDeadline(t *testing.T) {
	m := Mux{}
	Handle(m, "Slow", func(ctx context.Context, _ none) (none, error) {
		<-ctx.Done() // the caller's deadline came across
		return none{}, ctx.Err()
	})
	_, u := pair(t, m, Mux{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := Call[none, none](ctx, u, "Slow", none{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Slow = %v, want context.DeadlineExceeded", err)
	}
	if _, err := Call[none, none](context.Background(), u, "Nope", none{}); err == nil || !strings.Contains(err.Error(), "unknown method") {
		t.Errorf("Nope = %v", err)
	}
}

// Both sides call each other at once, and a call may call back before it
// answers (the UI's Apply makes the daemon move the UI's listeners).
func TestBidirectional(t *testing.T) {
	dm, um := Mux{}, Mux{}
	var d *Conn
	Handle(um, "Pending", func(context.Context, none) (bool, error) { return true, nil })
	Handle(dm, "Apply", func(ctx context.Context, n int) (int, error) {
		p, err := Call[none, bool](ctx, d, "Pending", none{})
		if err != nil || !p {
			return 0, fmt.Errorf("callback: %v %v", p, err)
		}
		return n + 1, nil
	})
	d, u := pair(t, dm, um)
	for i := range 20 {
		if got, err := Call[int, int](context.Background(), u, "Apply", i); err != nil || got != i+1 {
			t.Fatalf("Apply(%d) = %d, %v", i, got, err)
		}
	}
}

func TestPeerAndLog(t *testing.T) {
	seen := make(chan string, 10)
	h := slog.NewTextHandler(writerFunc(func(b []byte) { seen <- string(b) }), &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}})
	m := Mux{}
	ServeLog(m, slog.New(h))
	ServePeer(m, func() configsync.Peer { return nil })
	_, u := pair(t, m, Mux{})

	if _, err := NewPeer(u, NewBackend(u, 0, nil)).Push(context.Background(), configsync.Push{Node: "a"}); err == nil || !strings.Contains(err.Error(), "no config sync link") {
		t.Errorf("Push without a peer = %v", err)
	}
	if st := NewPeer(u, NewBackend(u, 0, nil)).State(); st.Connected {
		t.Errorf("State without a peer = %+v", st)
	}

	log := slog.New(NewLogHandler(u, slog.LevelInfo)).WithGroup("ui")
	log.Debug("not sent")
	log.Warn("web UI listening", "sha256", "AB:CD", "n", 3)
	select {
	case got := <-seen:
		want := "level=WARN msg=\"web UI listening\" ui.sha256=AB:CD ui.n=3\n"
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("log (-want +got):\n%s", diff)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no log record arrived")
	}
	select {
	case got := <-seen:
		t.Errorf("a second record arrived: %s", got)
	default:
	}
}

type writerFunc func([]byte)

func (f writerFunc) Write(b []byte) (int, error) { f(b); return len(b), nil }

// Every example config, HA and all, crosses the wire unchanged: Apply
// must bring into force exactly what the UI built.
func TestConfigRoundTrip(t *testing.T) {
	paths, _ := filepath.Glob("../../examples/*.yaml")
	if len(paths) == 0 {
		t.Fatal("no examples")
	}
	for _, p := range paths {
		cfg, err := config.Load(p)
		if err != nil {
			t.Fatal(err)
		}
		fake := &fakeBackend{cfg: cfg}
		m := Mux{}
		ServeBackend(m, fake)
		_, u := pair(t, m, Mux{})
		got, _ := NewBackend(u, 0, nil).Running()
		opts := cmp.Options{cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
			cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })}
		if diff := cmp.Diff(cfg, got, opts); diff != "" {
			t.Errorf("%s (-want +got):\n%s", p, diff)
		}
	}
}

// countingBackend counts the calls that reach the daemon.
type countingBackend struct {
	fakeBackend
	running, ha int
}

func (c *countingBackend) Running() (*config.Config, store.Version) {
	c.running++
	return c.fakeBackend.Running()
}
func (c *countingBackend) HA() webui.HAStatus { c.ha++; return c.fakeBackend.HA() }

// The UI keeps the running config (the same pointer, for its caches) and
// the views, until a change or the daemon's notice drops them.
func TestBackendCaches(t *testing.T) {
	daemon := &countingBackend{fakeBackend: fakeBackend{cfg: testConfig(t)}}
	m := Mux{}
	ServeBackend(m, daemon)
	_, u := pair(t, m, Mux{})
	now := time.Unix(1e9, 0)
	be := NewBackend(u, ViewTTL, func() time.Time { return now })

	a, _ := be.Running()
	b, _ := be.Running()
	be.HA()
	be.HA()
	if a != b || daemon.running != 1 || daemon.ha != 1 {
		t.Errorf("same=%v, daemon asked Running %d, HA %d times; want the same config, 1, 1", a == b, daemon.running, daemon.ha)
	}
	be.Invalidate() // the daemon's notice, config unchanged
	c, _ := be.Running()
	if c != a || daemon.running != 2 {
		t.Errorf("after the notice: same=%v, asked %d; want the same pointer, asked again", c == a, daemon.running)
	}
	daemon.cfg = testConfig(t) // a change
	be.Invalidate()
	d, _ := be.Running()
	be.HA()
	if d == a || d.Hostname != "fw" || daemon.ha != 2 {
		t.Errorf("after a change: new=%v, HA asked %d; want a new config, 2", d != a, daemon.ha)
	}
	now = now.Add(ViewTTL)
	be.HA()
	if daemon.ha != 3 {
		t.Errorf("HA asked %d times after ViewTTL, want 3", daemon.ha)
	}
	if err := be.Apply(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	be.HA()
	if daemon.ha != 4 {
		t.Errorf("HA asked %d times after Apply, want 4", daemon.ha)
	}
}

// A panic behind a call is an error for the caller, not a crash.
func TestHandlerPanic(t *testing.T) {
	m := Mux{}
	Handle(m, "Boom", func(context.Context, none) (none, error) { panic("bug") })
	_, u := pair(t, m, Mux{})
	if _, err := Call[none, none](context.Background(), u, "Boom", none{}); err == nil || !strings.Contains(err.Error(), "panic: bug") {
		t.Errorf("Boom = %v, want the panic as an error", err)
	}
}
