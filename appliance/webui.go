package appliance

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"rampart/config"
	"rampart/webui"
	"rampart/webui/audit"
	"rampart/webui/auth"
	"rampart/webui/certs"
)

// The web UI in the daemon: one webui.Server for the daemon's life (its
// sessions and a pending change live in it), served on the addresses of
// the management interfaces only. Every config change re-reads them, and
// the listeners move when they changed: after a change that moves
// management away (which commit-confirm then reverts), and back.

// Files the web UI keeps in the state dir, next to the config store.
const (
	uiStateFile = "webui-state.json" // admin password hash, API tokens
	uiAuditFile = "audit.log"
)

// Retry bounds for listeners that could not bind (an address not yet on
// its interface, a port taken): soon at first, then every half minute.
const (
	listenRetryMin = time.Second
	listenRetryMax = 30 * time.Second
)

// uiRunner serves the UI and moves its listeners.
type uiRunner struct {
	srv     *webui.Server
	log     *slog.Logger
	console io.Writer // the plain banners; nil for none
	kick    chan struct{}
	done    chan struct{}

	mu     sync.Mutex
	latest []netip.AddrPort // where the UI should listen
}

// startUI starts the web UI when there is a state dir to keep it in. A
// failure is logged, never fatal: the firewall is in force either way.
func (d *Daemon) startUI(ctx context.Context, cfg *config.Config) {
	dir := d.ui.src.dir
	if dir == "" {
		d.log.Warn("web UI off: no state dir to keep its password, certificate and history; " +
			"run with --state-dir DIR, or keep the config as rampart.yaml in a directory of its own")
		return
	}
	r := &uiRunner{log: d.log, console: d.opts.Console, kick: make(chan struct{}, 1), done: make(chan struct{})}
	r.latest = managementAddrs(cfg)
	srv, err := webui.New(webui.Options{
		Logger:        d.log,
		Backend:       d,
		State:         auth.FileStateStore{Path: filepath.Join(dir, uiStateFile)},
		Audit:         audit.NewFileLog(filepath.Join(dir, uiAuditFile), 0, 0),
		Certs:         certs.DirStore{Dir: dir},
		Hostname:      cfg.Hostname,
		SessionIdle:   time.Duration(cfg.WebUI.SessionIdle),
		OnSetupToken:  r.showToken,
		OnCertificate: r.showCertificate,
		MaxInFlight:   uiMaxInFlight(),
		// Peer (config sync to the other node) is wired with statesync's link.
	})
	if err != nil {
		d.log.Error("web UI not started", "err", err)
		return
	}
	r.srv = srv
	d.ui.runner = r
	go r.run(ctx)
	r.follow(cfg)
}

// uiMaxInFlight leaves one P of the Go scheduler free of UI handlers, so
// carp's advert loop (SCHED_FIFO, but still Go code that needs a P) is
// not queued behind them on a loaded box.
func uiMaxInFlight() int { return max(1, runtime.GOMAXPROCS(0)-1) }

// stopUI waits for the UI to shut down once the daemon's ctx has ended.
func (d *Daemon) stopUI() {
	if r := d.ui.runner; r != nil {
		<-r.done
	}
}

// changePending reports whether a UI change awaits confirmation.
func (d *Daemon) changePending() bool {
	return d.ui.runner != nil && d.ui.runner.srv.ChangePending()
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

// follow tells the runner where cfg wants the UI; it never blocks, so a
// request handler applying a change can call it.
func (r *uiRunner) follow(cfg *config.Config) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.latest = managementAddrs(cfg)
	r.mu.Unlock()
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

func (r *uiRunner) addrs() []netip.AddrPort {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.latest
}

// run serves until ctx ends: it (re)starts the listeners when the
// addresses change and retries, with backoff, when serving fails.
func (r *uiRunner) run(ctx context.Context) {
	defer close(r.done)
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
			r.log.Warn("web UI not listening: the management interfaces have no addresses")
			return
		}
		stop, exited = r.serve(ctx, cur)
	}
	for {
		select {
		case <-ctx.Done():
			if stop != nil {
				stop()
			}
			return
		case <-r.kick:
			next := r.addrs()
			if exited != nil && slices.Equal(next, cur) {
				continue
			}
			if stop != nil {
				r.log.Info("web UI: management addresses changed; moving the listeners", "from", cur, "to", next)
				stop()
				stop, exited = nil, nil
			}
			cur, backoff = next, listenRetryMin
			retry.Stop()
			start()
		case err := <-exited:
			stop, exited = nil, nil
			r.log.Warn("web UI not serving; retrying", "addrs", cur, "err", err, "retry_in", backoff)
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
func (r *uiRunner) serve(ctx context.Context, addrs []netip.AddrPort) (stop func(), exited <-chan error) {
	sctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := r.srv.ListenAndServeTLS(sctx, addrs)
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
func (r *uiRunner) showToken(token string, expires time.Time) {
	r.log.Warn("web UI first-boot setup: open /setup and set the admin password with this token",
		"setup_token", token, "expires", expires.UTC().Format(time.RFC3339))
	lines := []string{
		"Rampart web UI: first-boot setup",
		"",
		"  setup token   " + token,
		"  valid until   " + expires.UTC().Format("2006-01-02 15:04 UTC") + ", once",
	}
	for _, u := range urls(r.addrs(), "/setup") {
		lines = append(lines, "  open          "+u)
	}
	banner(r.console, lines)
}

// showCertificate prints the certificate's fingerprint, so an admin can
// check what the browser shows before accepting it.
func (r *uiRunner) showCertificate(info certs.Info) {
	addrs := r.addrs()
	r.log.Info("web UI listening", "urls", strings.Join(urls(addrs, "/"), " "), "sha256", info.Fingerprint,
		"not_after", info.NotAfter.UTC().Format(time.RFC3339))
	lines := []string{"Rampart web UI", ""}
	for _, u := range urls(addrs, "/") {
		lines = append(lines, "  url           "+u)
	}
	lines = append(lines, "  certificate   SHA-256 (check it against what the browser shows)", "    "+info.Fingerprint)
	banner(r.console, lines)
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
