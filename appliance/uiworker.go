package appliance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"rampart/internal/gctune"
	"rampart/internal/stickrw"
	"rampart/webui"
	"rampart/webui/audit"
	"rampart/webui/auth"
	"rampart/webui/certs"
	"rampart/webui/configsync"
	"rampart/webui/remote"
)

// The UI process (`rampart ui-worker`): one webui.Server for the life of
// the process (its sessions and a pending change live in it), served on
// the management addresses the daemon passes, with the daemon as its
// backend over nc. It logs through the daemon and prints the setup-token
// and certificate banners on its own stderr, which is the daemon's
// console.

// Retry bounds for listeners that could not bind (an address not yet on
// its interface, a port taken): soon at first, then every half minute.
const (
	listenRetryMin = time.Second
	listenRetryMax = 30 * time.Second
)

// uiInitTimeout bounds the wait for the daemon's start-up data.
const uiInitTimeout = 2 * time.Minute

// RunUIWorker runs the web UI process until ctx ends or the daemon at the
// other end of nc goes away.
func RunUIWorker(ctx context.Context, nc net.Conn, console io.Writer) error {
	if err := ordinaryPolicy(); err != nil {
		return err
	}
	uiProcs()
	webui.Preload() // while the daemon gets to its uiInit answer
	w := &uiWorker{console: console, listen: newListenAddrs()}
	var be atomic.Pointer[remote.Backend]
	mux := remote.Mux{}
	// The daemon calls this after every change of the config in force.
	remote.Handle(mux, uiListenMethod, func(_ context.Context, addrs []netip.AddrPort) (struct{}, error) {
		if b := be.Load(); b != nil {
			b.Invalidate()
		}
		w.listen.set(addrs)
		return struct{}{}, nil
	})
	remote.Handle(mux, uiChangePendingMethod, func(context.Context, struct{}) (bool, error) {
		srv := w.srv.Load()
		return srv != nil && srv.ChangePending(), nil
	})
	remote.Handle(mux, uiReceiveSyncMethod, func(ctx context.Context, m configsync.Push) (configsync.Result, error) {
		srv := w.srv.Load()
		if srv == nil {
			return configsync.Result{Message: "the web UI on this node is starting; try again"}, nil
		}
		return srv.ReceiveSync(ctx, m), nil
	})
	c := remote.NewConn(nc, mux)
	defer c.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		<-c.Done()
		cancel()
	}()
	w.log = slog.New(remote.NewLogHandler(c, slog.LevelInfo))

	// An early-started process (UIProcess) waits here while PID 1 looks
	// for the config stick, up to 15 s, and the daemon applies the config.
	ictx, icancel := context.WithTimeout(ctx, uiInitTimeout)
	in, err := remote.Call[struct{}, uiInit](ictx, c, uiInitMethod, struct{}{})
	icancel()
	if err != nil {
		return fmt.Errorf("appliance: ui worker: %w", err)
	}
	w.listen.set(in.Addrs)
	backend := remote.NewBackend(c, remote.ViewTTL, nil)
	be.Store(backend)
	var peer configsync.Peer
	if in.Peer {
		peer = remote.NewPeer(c, backend)
	}
	// On the stick PID 1 mounted read-only, each write remounts it.
	stick := stickrw.FromEnv(in.stickEnv, in.StateDir)
	auditLog := audit.NewFileLog(filepath.Join(in.StateDir, uiAuditFile), 0, 0)
	auditLog.Stick = stick
	srv, err := webui.New(webui.Options{
		Logger:        w.log,
		Backend:       backend,
		Peer:          peer,
		State:         auth.FileStateStore{Path: filepath.Join(in.StateDir, uiStateFile), Stick: stick},
		Audit:         auditLog,
		Certs:         certs.DirStore{Dir: in.StateDir, Stick: stick},
		Hostname:      in.Hostname,
		SessionIdle:   in.SessionIdle,
		OnSetupToken:  w.showToken,
		OnCertificate: w.showCertificate,
	})
	if err != nil {
		return fmt.Errorf("appliance: ui worker: %w", err)
	}
	w.srv.Store(srv)
	w.run(ctx)
	if err := c.Err(); err != nil && !errors.Is(err, remote.ErrClosed) {
		return fmt.Errorf("appliance: ui worker: %w", err)
	}
	return nil
}

// uiProcs sets GOMAXPROCS for the UI process: half the CPUs, at least
// two. The UI runs below the daemon (SCHED_OTHER against its SCHED_FIFO)
// but level with the kernel's softirq threads that forward packets, and
// on a many-core box a burst of TLS handshakes should not take every CPU
// from them. It also collects garbage less often than Go's default: the
// live heap is a few megabytes, and under load the collector took a
// tenth of the process's CPU (bench/ui): the daemon's settings
// (internal/gctune). Explicit GOMAXPROCS, GOGC and GOMEMLIMIT in the
// environment win.
func uiProcs() {
	if os.Getenv("GOMAXPROCS") == "" {
		n := runtime.GOMAXPROCS(0)
		runtime.GOMAXPROCS(min(n, max(2, n/2)))
	}
	gctune.Apply()
}

// ordinaryPolicy puts every thread of the process at SCHED_OTHER, should
// it have been started from a real-time thread after all (startChild
// takes care that it is not). Lowering one's own policy needs no
// privilege.
func ordinaryPolicy() error {
	entries, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return fmt.Errorf("appliance: ui worker: scheduling policy: %w", err)
	}
	for _, e := range entries {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		attr, err := unix.SchedGetAttr(tid, 0)
		if err != nil || attr.Policy == unix.SCHED_NORMAL {
			continue
		}
		if err := unix.SchedSetAttr(tid, &unix.SchedAttr{Policy: unix.SCHED_NORMAL}, 0); err != nil && err != unix.ESRCH {
			return fmt.Errorf("appliance: ui worker: SCHED_OTHER: %w", err)
		}
	}
	return nil
}

// uiWorker serves the UI and moves its listeners.
type uiWorker struct {
	srv     atomic.Pointer[webui.Server] // nil until New returned
	log     *slog.Logger
	console io.Writer   // the plain banners; nil for none
	listen  listenAddrs // where the UI should listen
}

// run serves until ctx ends: it (re)starts the listeners when the
// addresses change and retries, with backoff, when serving fails.
func (w *uiWorker) run(ctx context.Context) {
	var (
		cur     []netip.AddrPort
		stop    func()
		exited  <-chan error
		backoff = listenRetryMin
	)
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	start := func() {
		if len(cur) == 0 {
			w.log.Warn("web UI not listening: the management interfaces have no addresses")
			return
		}
		stop, exited = w.serve(ctx, cur)
	}
	for {
		select {
		case <-ctx.Done():
			if stop != nil {
				stop()
			}
			return
		case <-w.listen.kick:
			next := w.listen.get()
			if exited != nil && slices.Equal(next, cur) {
				continue
			}
			if stop != nil {
				w.log.Info("web UI: management addresses changed; moving the listeners", "from", cur, "to", next)
				stop()
				stop, exited = nil, nil
			}
			cur, backoff = next, listenRetryMin
			retry.Stop()
			start()
		case err := <-exited:
			stop, exited = nil, nil
			w.log.Warn("web UI not serving; retrying", "addrs", cur, "err", err, "retry_in", backoff)
			retry.Reset(backoff)
			backoff = min(2*backoff, listenRetryMax)
		case <-retry.C:
			if exited == nil {
				start()
			}
		}
	}
}

// serve runs ListenAndServeTLS on addrs; stop cancels it and waits.
func (w *uiWorker) serve(ctx context.Context, addrs []netip.AddrPort) (stop func(), exited <-chan error) {
	sctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := w.srv.Load().ListenAndServeTLS(sctx, addrs)
		if err == nil && sctx.Err() == nil {
			err = fmt.Errorf("web UI: server stopped")
		}
		errc <- err
	}()
	return func() { cancel(); <-done }, errc
}

// urls are the UI's addresses as a browser wants them.
func urls(addrs []netip.AddrPort, path string) []string {
	var out []string
	for _, a := range addrs {
		host := a.Addr().String()
		if a.Addr().Is6() {
			host = "[" + host + "]"
		}
		if a.Port() != 443 {
			host = fmt.Sprintf("%s:%d", host, a.Port())
		}
		out = append(out, "https://"+host+path)
	}
	return out
}

// showToken puts a setup token on the console: a log line for the record
// and a banner a person at the console cannot miss.
func (w *uiWorker) showToken(token string, expires time.Time) {
	w.log.Warn("web UI first-boot setup: open /setup and set the admin password with this token",
		"setup_token", token, "expires", expires.UTC().Format(time.RFC3339))
	lines := []string{
		"Rampart web UI: first-boot setup",
		"",
		"  setup token   " + token,
		"  valid until   " + expires.UTC().Format("2006-01-02 15:04 UTC") + ", once",
	}
	for _, u := range urls(w.listen.get(), "/setup") {
		lines = append(lines, "  open          "+u)
	}
	banner(w.console, lines)
}

// showCertificate prints the certificate's fingerprint, so an admin can
// check what the browser shows before accepting it.
func (w *uiWorker) showCertificate(info certs.Info) {
	addrs := w.listen.get()
	w.log.Info("web UI listening", "urls", strings.Join(urls(addrs, "/"), " "), "sha256", info.Fingerprint,
		"not_after", info.NotAfter.UTC().Format(time.RFC3339))
	lines := []string{"Rampart web UI", ""}
	for _, u := range urls(addrs, "/") {
		lines = append(lines, "  url           "+u)
	}
	lines = append(lines, "  certificate   SHA-256 (check it against what the browser shows)", "    "+info.Fingerprint)
	banner(w.console, lines)
}

// banner writes lines in a frame of '=' to w.
func banner(w io.Writer, lines []string) {
	if w == nil {
		return
	}
	width := 0
	for _, l := range lines {
		width = max(width, len(l))
	}
	rule := strings.Repeat("=", width+4)
	var b strings.Builder
	b.WriteString("\n" + rule + "\n")
	for _, l := range lines {
		if l != "" {
			b.WriteString("  " + l)
		}
		b.WriteString("\n")
	}
	b.WriteString(rule + "\n\n")
	io.WriteString(w, b.String())
}
