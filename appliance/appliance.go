// Package appliance is the firewall daemon behind `rampart run`: it loads
// the config, configures the interfaces, applies the firewall, and reloads
// on request. PID 1 runs the same code as a supervised child.
//
// A stopping daemon leaves the ruleset in force on purpose. A firewall that
// opens when its daemon exits (or crashes, or is upgraded) fails open, and
// an attacker only has to make the daemon die. To open the box an admin
// deletes the tables: `nft delete table inet rampart`.
package appliance

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"rampart/carp/driver"
	"rampart/config"
	"rampart/config/store"
	"rampart/firewall"
	"rampart/netconf"
)

// Options configure a daemon run.
type Options struct {
	// ConfigPath is the YAML file to load; empty runs the embedded default.
	ConfigPath string
	Logger     *slog.Logger
	// Reload receives a value for every reload request (SIGHUP).
	Reload <-chan struct{}
	// StateDir holds the config store and the web UI's state. Empty means
	// the config's directory when the config is named rampart.yaml, else
	// none, and then the web UI stays off (source.go says why).
	StateDir string
	// Console receives plain banners (setup token, certificate); nil: none.
	Console io.Writer
	// Version is the build's (main.version), for the dashboard.
	Version string
	// UIProcess is a web UI process started before Run (StartUIProcess),
	// the UI's first life; Run discards it when the UI is off. Nil: Run
	// starts the UI process itself.
	UIProcess *UIProcess
}

// Daemon holds the running state: the firewall handle and the config in force.
type Daemon struct {
	opts Options
	log  *slog.Logger
	fw   *firewall.Firewall
	net  *netconf.Netconf
	cfg  *config.Config
	ha   *driver.Driver // nil without an ha section (ha.go)
	sync syncState      // conntrack replication (sync.go)
	ui   uiState        // the web UI's part (backend.go, webui.go)
}

// Run loads and applies the config, reports ready, and then serves reload
// requests until ctx ends. It returns nil on a clean stop and leaves the
// firewall in force.
func Run(ctx context.Context, opts Options) error {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	defer opts.UIProcess.Discard() // unless startUI took it
	logs := newLogRing()
	d := &Daemon{opts: opts, log: slog.New(&logHandler{next: opts.Logger.Handler(), ring: logs}), net: netconf.New(0)}
	d.ui.logs, d.ui.now, d.ui.started = logs, time.Now, time.Now()
	src, err := openSource(opts.ConfigPath, opts.StateDir, d.log)
	if err != nil {
		return err
	}
	d.ui.src = src
	cfg, version, err := d.load()
	if err != nil {
		return err
	}
	fw, err := firewall.New(firewall.Options{Logger: d.log})
	if err != nil {
		return fmt.Errorf("appliance: open firewall: %w", err)
	}
	defer fw.Close()
	d.fw = fw
	if err := d.apply(cfg); err != nil {
		return err
	}
	stopFwLog := d.startFirewallLog() // fwlog.go
	defer stopFwLog()
	d.ui.version = version
	d.startSync(ctx, cfg) // before HA: the driver's hooks use it
	defer d.stopSync()    // after HA has bowed out
	d.startHA(cfg)
	defer d.stopHA()
	d.startUI(ctx, cfg)
	defer d.stopUI()
	d.log.Info("ready", "hostname", cfg.Hostname, "config", d.source())
	for {
		select {
		case <-ctx.Done():
			d.log.Info("stopping; the firewall stays in force")
			return nil
		case <-opts.Reload:
			d.reload()
		}
	}
}

// reload validates and compiles first, so a bad file changes nothing.
func (d *Daemon) reload() {
	d.log.Info("reload requested", "config", d.source())
	if d.changePending() {
		d.log.Warn("reload refused: a web UI change awaits confirmation; confirm or revert it, then reload again")
		return
	}
	cfg, version, err := d.ui.src.reload()
	if err != nil {
		d.log.Error("reload rejected; keeping the running config", "err", err)
		return
	}
	if err := d.switchTo(cfg, &version); err != nil { // applies, then follows with HA and the UI
		d.log.Error("reload failed; the previous ruleset stays in force", "err", err)
		return
	}
	d.log.Info("reloaded", "hostname", cfg.Hostname)
}

// load reads the config file, or the store in the state dir (source.go).
func (d *Daemon) load() (*config.Config, store.Version, error) {
	return d.ui.src.load()
}

// apply compiles before it touches anything, so that a config the
// compiler rejects leaves both the interfaces and the ruleset as they were.
func (d *Daemon) apply(cfg *config.Config) error {
	rs, err := firewall.Compile(cfg)
	if err != nil {
		return fmt.Errorf("appliance: compile: %w", err)
	}
	if err := d.net.Apply(cfg); err != nil {
		// A missing NIC must not keep the firewall from loading.
		d.log.Warn("interfaces not fully configured", "err", err)
	}
	start := time.Now()
	if err := d.fw.Apply(rs); err != nil {
		return fmt.Errorf("appliance: apply firewall: %w", err)
	}
	d.timedApply(time.Since(start))
	d.cfg = cfg
	return nil
}

func (d *Daemon) source() string { return d.ui.src.describe() }
