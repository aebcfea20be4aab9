package remote

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"rampart/config"
	"rampart/config/store"
	"rampart/webui"
	"rampart/webui/configsync"
)

// The webui.Backend over a Conn: ServeBackend on the daemon's side, and
// Backend, its mirror, in the UI process. Each method is one Handle and
// one call; the replies with several values are small structs.

// Running is read several times on every page, and the UI keys caches (the shared
// config hash) on the *config.Config it returns, trusting the backend
// to hand out a new one for every change. So the config crosses only
// when it changed: the daemon numbers each (config, version) it hands
// out, the UI says which number it holds, and the reply is the number
// alone when that is still current. The UI then returns the pointer it
// has, keeping its caches warm and the daemon from encoding the whole
// config per request.
type running struct {
	Gen     uint64
	Same    bool // the caller's Gen is current; no config sent
	Config  *config.Config
	Version store.Version
}

// runningGen numbers the configs the daemon hands out.
type runningGen struct {
	mu  sync.Mutex
	gen uint64
	cfg *config.Config
	v   store.Version
}

func (g *runningGen) reply(known uint64, cfg *config.Config, v store.Version) running {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gen == 0 || cfg != g.cfg || v != g.v {
		g.gen, g.cfg, g.v = g.gen+1, cfg, v
	}
	if known == g.gen {
		return running{Gen: g.gen, Same: true}
	}
	return running{Gen: g.gen, Config: cfg, Version: v}
}

type commitReq struct {
	Data []byte
	Meta store.Meta
}

type versionReply struct {
	Data    []byte
	Version store.Version
}

type logsReq struct{ After, Max uint64 }

type none struct{}

// ServeBackend serves be's methods on m.
func ServeBackend(m Mux, be webui.Backend) {
	var gen runningGen
	Handle(m, "Running", func(_ context.Context, known uint64) (running, error) {
		cfg, v := be.Running()
		return gen.reply(known, cfg, v), nil
	})
	Handle(m, "Apply", func(ctx context.Context, cfg *config.Config) (none, error) {
		if cfg == nil {
			return none{}, errors.New("remote: apply: no config")
		}
		return none{}, be.Apply(ctx, cfg)
	})
	Handle(m, "Commit", func(_ context.Context, r commitReq) (store.Version, error) { return be.Commit(r.Data, r.Meta) })
	Handle(m, "History", func(context.Context, none) ([]store.Version, error) { return be.History() })
	Handle(m, "Version", func(_ context.Context, id uint64) (versionReply, error) {
		data, v, err := be.Version(id)
		return versionReply{data, v}, err
	})
	Handle(m, "Firewall", func(context.Context, none) (webui.FirewallStatus, error) { return be.Firewall() })
	Handle(m, "Interfaces", func(context.Context, none) ([]webui.InterfaceStatus, error) { return be.Interfaces() })
	Handle(m, "HA", func(context.Context, none) (webui.HAStatus, error) { return be.HA(), nil })
	Handle(m, "StateSync", func(context.Context, none) (webui.SyncStatus, error) { return be.StateSync(), nil })
	Handle(m, "Conntrack", func(ctx context.Context, q webui.ConnQuery) (webui.ConnPage, error) { return be.Conntrack(ctx, q) })
	Handle(m, "Logs", func(_ context.Context, r logsReq) ([]webui.LogLine, error) {
		return be.Logs(r.After, int(min(r.Max, 1<<20))), nil
	})
	if nv, ok := be.(webui.NodeViewer); ok {
		Handle(m, "Node", func(context.Context, none) (webui.NodeStatus, error) { return nv.Node(), nil })
	}
}

// Backend is the daemon as the UI process sees it. When the daemon cannot
// be reached, errors wrap webui.ErrUnavailable, and the methods without
// an error return what a missing backend would (nil, zero values).
//
// The status views (Firewall, Interfaces, HA, StateSync) are kept for
// ttl: every page and /api/v1/status reads them, and a call per view per
// request cost the daemon, at real-time priority, more than the views
// themselves (bench/ui: half a core at 900 requests/s). A change made
// through Apply or Commit drops them at once. The running config is kept
// until the daemon says it changed (Invalidate), or for RunningTTL.
type Backend struct {
	c   *Conn
	ttl time.Duration
	now func() time.Time

	mu           sync.Mutex
	running      running // the last config received, with its Gen
	runningAt    time.Time
	runningEpoch uint64
	epoch        atomic.Uint64 // bumped by every change; drops what is kept

	firewall   viewCache[webui.FirewallStatus]
	interfaces viewCache[[]webui.InterfaceStatus]
	ha         viewCache[webui.HAStatus]
	stateSync  viewCache[webui.SyncStatus]
	node       viewCache[webui.NodeStatus]
}

// ViewTTL is how long Backend keeps a status view: well under the
// dashboard's refresh, and the daemon's own view cache is a second.
const ViewTTL = 250 * time.Millisecond

// RunningTTL bounds how long Backend keeps the running config without
// asking. The daemon tells the UI of every change (Invalidate), so this
// is only a safety net should that notice be lost.
const RunningTTL = time.Second

// NewBackend returns the webui.Backend served at the far end of c. It
// keeps the status views for ttl (0: asks every time); now is the clock,
// nil for time.Now.
func NewBackend(c *Conn, ttl time.Duration, now func() time.Time) *Backend {
	if now == nil {
		now = time.Now
	}
	return &Backend{c: c, ttl: ttl, now: now}
}

// viewCache keeps one view for the Backend's ttl, within one epoch.
// Concurrent misses wait for one call.
type viewCache[T any] struct {
	mu    sync.Mutex
	ok    bool
	at    time.Time
	epoch uint64
	v     T
	err   error
}

func (c *viewCache[T]) get(b *Backend, read func() (T, error)) (T, error) {
	if b.ttl <= 0 {
		return read()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now, epoch := b.now(), b.epoch.Load()
	if c.ok && c.epoch == epoch && !now.Before(c.at) && now.Sub(c.at) < b.ttl {
		return c.v, c.err
	}
	c.v, c.err = read()
	c.ok, c.at, c.epoch = true, now, epoch
	return c.v, c.err
}

var (
	_ webui.Backend    = (*Backend)(nil)
	_ webui.NodeViewer = (*Backend)(nil)
)

// call is Call, marking a lost daemon as webui.ErrUnavailable.
func call[Req, Resp any](ctx context.Context, c *Conn, method string, req Req) (Resp, error) {
	r, err := Call[Req, Resp](ctx, c, method, req)
	var remote *Error
	if err != nil && errors.Is(err, ErrClosed) && !errors.As(err, &remote) {
		err = fmt.Errorf("webui backend: %w: %w", webui.ErrUnavailable, err)
	}
	return r, err
}

func (b *Backend) Running() (*config.Config, store.Version) {
	b.mu.Lock()
	have, fresh := b.running, b.runningEpoch == b.epoch.Load() && b.now().Sub(b.runningAt) < RunningTTL
	b.mu.Unlock()
	if fresh && have.Config != nil && b.ttl > 0 {
		return have.Config, have.Version
	}
	epoch := b.epoch.Load()
	r, err := call[uint64, running](context.Background(), b.c, "Running", have.Gen)
	if err != nil {
		return nil, store.Version{}
	}
	if r.Same {
		r = have
	}
	b.mu.Lock()
	if r.Gen >= b.running.Gen {
		b.running, b.runningAt, b.runningEpoch = r, b.now(), epoch
	}
	b.mu.Unlock()
	return r.Config, r.Version
}

// Invalidate drops every kept view and the kept config: the daemon says
// the config in force changed (a reload, or the UI's own Apply).
func (b *Backend) Invalidate() { b.epoch.Add(1) }

func (b *Backend) Apply(ctx context.Context, cfg *config.Config) error {
	defer b.epoch.Add(1)
	_, err := call[*config.Config, none](ctx, b.c, "Apply", cfg)
	return err
}

func (b *Backend) Commit(data []byte, meta store.Meta) (store.Version, error) {
	defer b.epoch.Add(1)
	return call[commitReq, store.Version](context.Background(), b.c, "Commit", commitReq{data, meta})
}

func (b *Backend) History() ([]store.Version, error) {
	return call[none, []store.Version](context.Background(), b.c, "History", none{})
}

func (b *Backend) Version(id uint64) ([]byte, store.Version, error) {
	r, err := call[uint64, versionReply](context.Background(), b.c, "Version", id)
	return r.Data, r.Version, err
}

func (b *Backend) Firewall() (webui.FirewallStatus, error) {
	return b.firewall.get(b, func() (webui.FirewallStatus, error) {
		return call[none, webui.FirewallStatus](context.Background(), b.c, "Firewall", none{})
	})
}

func (b *Backend) Interfaces() ([]webui.InterfaceStatus, error) {
	return b.interfaces.get(b, func() ([]webui.InterfaceStatus, error) {
		return call[none, []webui.InterfaceStatus](context.Background(), b.c, "Interfaces", none{})
	})
}

func (b *Backend) HA() webui.HAStatus {
	r, _ := b.ha.get(b, func() (webui.HAStatus, error) {
		return call[none, webui.HAStatus](context.Background(), b.c, "HA", none{})
	})
	return r
}

func (b *Backend) StateSync() webui.SyncStatus {
	r, _ := b.stateSync.get(b, func() (webui.SyncStatus, error) {
		return call[none, webui.SyncStatus](context.Background(), b.c, "StateSync", none{})
	})
	return r
}

// Node is the daemon's view of the node itself (webui.NodeViewer); the
// zero value when the daemon does not give one.
func (b *Backend) Node() webui.NodeStatus {
	r, _ := b.node.get(b, func() (webui.NodeStatus, error) {
		return call[none, webui.NodeStatus](context.Background(), b.c, "Node", none{})
	})
	return r
}

func (b *Backend) Conntrack(ctx context.Context, q webui.ConnQuery) (webui.ConnPage, error) {
	return call[webui.ConnQuery, webui.ConnPage](ctx, b.c, "Conntrack", q)
}

func (b *Backend) Logs(after uint64, max int) []webui.LogLine {
	r, _ := call[logsReq, []webui.LogLine](context.Background(), b.c, "Logs", logsReq{after, uint64(max)})
	return r
}

// Config sync: the daemon serves its sync link's Peer (ServePeer), the UI
// process pushes through Peer.

// ServePeer serves the peer that peer returns at each call; nil means no
// sync link right now.
func ServePeer(m Mux, peer func() configsync.Peer) {
	Handle(m, "Peer.Push", func(ctx context.Context, p configsync.Push) (configsync.Result, error) {
		pr := peer()
		if pr == nil {
			return configsync.Result{}, errors.New("no config sync link to the peer")
		}
		return pr.Push(ctx, p)
	})
	Handle(m, "Peer.State", func(context.Context, none) (configsync.PeerState, error) {
		if pr := peer(); pr != nil {
			return pr.State(), nil
		}
		return configsync.PeerState{}, nil
	})
}

// Peer is the daemon's sync link as the UI process sees it. State is a
// status view, kept for the Backend's ttl like the others.
type Peer struct {
	c     *Conn
	b     *Backend
	state viewCache[configsync.PeerState]
}

// NewPeer returns the configsync.Peer served at the far end of c, keeping
// State as b keeps its views.
func NewPeer(c *Conn, b *Backend) *Peer { return &Peer{c: c, b: b} }

var _ configsync.Peer = (*Peer)(nil)

func (p *Peer) Push(ctx context.Context, m configsync.Push) (configsync.Result, error) {
	return Call[configsync.Push, configsync.Result](ctx, p.c, "Peer.Push", m)
}

func (p *Peer) State() configsync.PeerState {
	r, _ := p.state.get(p.b, func() (configsync.PeerState, error) {
		return Call[none, configsync.PeerState](context.Background(), p.c, "Peer.State", none{})
	})
	return r
}
