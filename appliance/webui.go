package appliance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"slices"
	"sync"
	"time"

	"rampart/boot/stick"
	"rampart/config"
	"rampart/config/store"
	"rampart/webui/configsync"
	"rampart/webui/remote"
)

// The web UI runs in a process of its own, a supervised child of the
// daemon at normal scheduling priority (privilege separation in the
// OpenBSD spirit). In the daemon's Go runtime its handlers competed with
// carp's advert loop for the scheduler's Ps: fifty HTTPS clients delayed
// adverts by 8% of advbase even with every daemon thread SCHED_FIFO
// (bench/ui, docs/benchmarks.md). The child (`rampart ui-worker`,
// uiworker.go) runs webui.Server as before and reaches the daemon's
// webui.Backend over a unix socketpair (package webui/remote); the daemon
// calls back for ChangePending, config pushes from the peer and the
// listen addresses. This file is the daemon's side: it starts the child,
// restarts it with backoff when it dies, and stops it with the daemon.

// Files the web UI keeps in the state dir, next to the config store.
const (
	uiStateFile = "webui-state.json" // admin password hash, API tokens
	uiAuditFile = "audit.log"
)

// Restart bounds of the UI process: soon after a crash, then backing off
// to once a minute while it keeps dying; a child that ran for
// uiRestartReset counts as healthy and the backoff starts over.
const (
	uiRestartMin   = time.Second
	uiRestartMax   = time.Minute
	uiRestartReset = 5 * time.Minute
	// uiStopGrace is how long a stopping child may take to close its
	// listeners after its socket closed, before it is killed.
	uiStopGrace = 5 * time.Second
	// uiCallTimeout bounds the daemon's calls to the child that no
	// request waits on (ChangePending, listen addresses).
	uiCallTimeout = 5 * time.Second
)

// Methods the daemon serves the UI process (besides webui.Backend's, the
// peer's and the log), and the ones the UI process serves the daemon.
const (
	uiInitMethod          = "UI.Init"
	uiListenMethod        = "UI.Listen"
	uiChangePendingMethod = "UI.ChangePending"
	uiReceiveSyncMethod   = "UI.ReceiveSync"
)

// uiInit is what the UI process needs to start: where its state lives,
// what goes into the certificate, and where to listen.
type uiInit struct {
	StateDir    string
	Hostname    string
	SessionIdle time.Duration
	Peer        bool // a config sync link exists; false: no pushes
	Addrs       []netip.AddrPort
	// The stick PID 1 mounted (stick.EnvDir, stick.EnvFS), for the UI's
	// writes: passed here, not in the environment, because an early
	// started UI process (UIProcess) was running before PID 1 knew it.
	StickDir, StickFS string
}

// stickEnv looks up stick.EnvDir and stick.EnvFS as the daemon saw them.
func (in uiInit) stickEnv(key string) string {
	switch key {
	case stick.EnvDir:
		return in.StickDir
	case stick.EnvFS:
		return in.StickFS
	}
	return ""
}

// uiRunner supervises the UI process.
type uiRunner struct {
	log     *slog.Logger
	console io.Writer  // the child's stdout and stderr; nil: /dev/null
	argv    []string   // the child's command line
	env     []string   // extra environment (tests)
	early   *UIProcess // started before the daemon; its first life
	mux     remote.Mux
	// onExit runs after each life of the child (revert an unconfirmed
	// change); nil: nothing.
	onExit func()
	listen listenAddrs // where the UI should listen
	done   chan struct{}

	mu   sync.Mutex
	conn *remote.Conn // the live child's; nil between lives
	pid  int

	// An Apply from the UI that is not yet committed: if the child dies
	// then, nobody can confirm or revert it, so the daemon reverts to
	// before, as the commit-confirm timer would have.
	uncommitted bool
	before      *config.Config
}

// startUI starts the web UI process when there is a state dir to keep
// its state in. A failure is logged, never fatal: the firewall is in
// force either way, and the supervisor keeps trying.
func (d *Daemon) startUI(ctx context.Context, cfg *config.Config) {
	dir := d.ui.src.dir
	if dir == "" {
		d.opts.UIProcess.Discard()
		d.log.Warn("web UI off: no state dir to keep its password, certificate and history; " +
			"run with --state-dir DIR, or keep the config as rampart.yaml in a directory of its own")
		return
	}
	r := newUIRunner(d.log, d.opts.Console, uiArgv)
	r.early = d.opts.UIProcess
	r.listen.set(managementAddrs(cfg))
	remote.ServeBackend(r.mux, uiBackend{d, r})
	remote.ServePeer(r.mux, d.syncPeer)
	remote.ServeLog(r.mux, d.log)
	remote.Handle(r.mux, uiInitMethod, func(context.Context, struct{}) (uiInit, error) {
		cfg, _ := d.Running()
		return uiInit{
			StateDir: dir, Hostname: cfg.Hostname, SessionIdle: time.Duration(cfg.WebUI.SessionIdle),
			Peer: d.syncPeer() != nil, Addrs: r.listen.get(),
			StickDir: os.Getenv(stick.EnvDir), StickFS: os.Getenv(stick.EnvFS),
		}, nil
	})
	r.onExit = d.revertUncommitted
	d.ui.runner = r
	go r.run(ctx)
}

// uiWorkerCommand is the hidden subcommand of cmd/rampart that runs
// RunUIWorker.
const uiWorkerCommand = "ui-worker"

// uiArgv starts the UI process.
var uiArgv = []string{"/proc/self/exe", uiWorkerCommand}

func newUIRunner(log *slog.Logger, console io.Writer, argv []string) *uiRunner {
	return &uiRunner{log: log, console: console, argv: argv, mux: remote.Mux{}, listen: newListenAddrs(), done: make(chan struct{})}
}

// stopUI waits for the UI process to stop once the daemon's ctx ended.
func (d *Daemon) stopUI() {
	if r := d.ui.runner; r != nil {
		<-r.done
	}
}

// changePending reports whether a UI change awaits confirmation. No UI
// process means none: a pending change died with it and was reverted
// (revertUncommitted). A UI that does not answer may have one, and a
// reload now could be undone by its revert later, so that counts as
// pending.
func (d *Daemon) changePending() bool {
	c := d.ui.runner.current()
	if c == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), uiCallTimeout)
	defer cancel()
	pending, err := remote.Call[struct{}, bool](ctx, c, uiChangePendingMethod, struct{}{})
	if err != nil {
		d.log.Warn("web UI: cannot ask it for a pending change; counting one", "err", err)
		return true
	}
	return pending
}

// uiReceiveSync hands a config push from the peer to the UI process,
// which merges, validates, applies and stores it as it does its own
// changes. Without a running UI the push is refused, saying so.
func (d *Daemon) uiReceiveSync(ctx context.Context, m configsync.Push) configsync.Result {
	node := ""
	if cfg, _ := d.Running(); cfg != nil && cfg.HA != nil {
		node = cfg.HA.NodeID
	}
	c := d.ui.runner.current()
	if c == nil {
		return configsync.Result{Node: node, Message: "the web UI is not running on this node, and config sync goes through it; try again once it is up"}
	}
	res, err := remote.Call[configsync.Push, configsync.Result](ctx, c, uiReceiveSyncMethod, m)
	if err != nil {
		return configsync.Result{Node: node, Message: fmt.Sprintf("the web UI on this node did not answer: %v", err)}
	}
	return res
}

// revertUncommitted brings back the config from before an unconfirmed UI
// change when the UI process died with the change pending.
func (d *Daemon) revertUncommitted() {
	r := d.ui.runner
	r.mu.Lock()
	before, pending := r.before, r.uncommitted
	r.uncommitted, r.before = false, nil
	r.mu.Unlock()
	if !pending || before == nil {
		return
	}
	d.log.Warn("web UI process ended with a change unconfirmed; reverting it")
	if err := d.switchTo(before, nil); err != nil {
		d.log.Error("web UI: revert of the unconfirmed change failed", "err", err)
	}
}

// uiBackend is the daemon as the UI process's backend: it notes the
// change in force that is not committed yet, for revertUncommitted.
type uiBackend struct {
	*Daemon
	r *uiRunner
}

func (b uiBackend) Apply(ctx context.Context, cfg *config.Config) error {
	b.r.mu.Lock()
	if !b.r.uncommitted {
		b.r.before, _ = b.Running()
	}
	b.r.uncommitted = true
	b.r.mu.Unlock()
	return b.Daemon.Apply(ctx, cfg)
}

func (b uiBackend) Commit(data []byte, meta store.Meta) (store.Version, error) {
	v, err := b.Daemon.Commit(data, meta)
	if err == nil {
		b.r.mu.Lock()
		b.r.uncommitted, b.r.before = false, nil
		b.r.mu.Unlock()
	}
	return v, err
}

// managementAddrs are the UI's listen addresses: every address of every
// management interface, at the UI port. IPv6 link-local addresses get
// their device as the zone.
func managementAddrs(cfg *config.Config) []netip.AddrPort {
	var out []netip.AddrPort
	for _, role := range cfg.Management.Interfaces {
		ifc := cfg.Interfaces[role]
		if ifc == nil {
			continue
		}
		for _, p := range ifc.Addresses {
			a := p.Addr()
			if a.Is6() && a.IsLinkLocalUnicast() {
				a = a.WithZone(ifc.Device)
			}
			ap := netip.AddrPortFrom(a, cfg.WebUI.Port)
			if !slices.Contains(out, ap) {
				out = append(out, ap)
			}
		}
	}
	slices.SortFunc(out, func(a, b netip.AddrPort) int { return a.Compare(b) })
	return out
}

// follow tells the UI process that the config in force changed, and
// where cfg wants the UI; it never blocks, so a call from the UI applying
// a change can make it. switchTo calls it on every change.
func (r *uiRunner) follow(cfg *config.Config) {
	if r == nil {
		return
	}
	r.listen.set(managementAddrs(cfg))
}

// listenAddrs is the newest set of listen addresses, with a wake-up for
// the loop that puts them in force: the daemon's runner tells its child,
// the child's worker moves its listeners.
type listenAddrs struct {
	mu     sync.Mutex
	latest []netip.AddrPort
	kick   chan struct{}
}

func newListenAddrs() listenAddrs { return listenAddrs{kick: make(chan struct{}, 1)} }

// set records addrs and wakes the loop; it never blocks, so a request
// handler applying a change can call it.
func (l *listenAddrs) set(addrs []netip.AddrPort) {
	l.mu.Lock()
	l.latest = addrs
	l.mu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

func (l *listenAddrs) get() []netip.AddrPort {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.latest
}

// current is the live child's connection, or nil.
func (r *uiRunner) current() *remote.Conn {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.conn
}

// run keeps the UI process running until ctx ends, restarting it with
// backoff when it dies.
func (r *uiRunner) run(ctx context.Context) {
	defer close(r.done)
	backoff := uiRestartMin
	for ctx.Err() == nil {
		began := time.Now()
		err := r.once(ctx)
		if r.onExit != nil {
			r.onExit()
		}
		if ctx.Err() != nil {
			return
		}
		if time.Since(began) >= uiRestartReset {
			backoff = uiRestartMin
		}
		r.log.Error("web UI process ended; restarting it", "err", err, "restart_in", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, uiRestartMax)
	}
}

// once runs one life of the child: start, tell it where to listen
// whenever that changes, and stop it when ctx ends.
func (r *uiRunner) once(ctx context.Context) error {
	ch := r.early.take()
	var err error
	if ch == nil {
		ch, err = startChild(r.argv, r.env, r.console)
	}
	if err != nil {
		return err
	}
	conn := remote.NewConn(ch.conn, r.mux)
	r.mu.Lock()
	r.conn, r.pid = conn, ch.pid
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.conn, r.pid = nil, 0
		r.mu.Unlock()
	}()
	r.log.Info("web UI process started", "pid", ch.pid)
	for {
		select {
		case <-ctx.Done():
			conn.Close() // the child sees EOF and shuts its listeners down
			return ch.stop(uiStopGrace)
		case err := <-ch.exited:
			conn.Close()
			if err == nil {
				err = errors.New("exited")
			}
			return fmt.Errorf("web UI process %d: %w", ch.pid, err)
		case <-conn.Done():
			err := ch.stop(uiStopGrace)
			return fmt.Errorf("web UI process %d: connection lost: %w (%v)", ch.pid, conn.Err(), err)
		case <-r.listen.kick:
			cctx, cancel := context.WithTimeout(ctx, uiCallTimeout)
			_, err := remote.Call[[]netip.AddrPort, struct{}](cctx, conn, uiListenMethod, r.listen.get())
			cancel()
			if err != nil {
				r.log.Warn("web UI: cannot pass the listen addresses", "err", err)
			}
		}
	}
}
