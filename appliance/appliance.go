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
	"log/slog"

	"rampart/carp/driver"
	"rampart/config"
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
}

// Daemon holds the running state: the firewall handle and the config in force.
type Daemon struct {
	opts Options
	log  *slog.Logger
	fw   *firewall.Firewall
	net  *netconf.Netconf
	cfg  *config.Config
	ha   *driver.Driver // nil without an ha section (ha.go)
}

// Run loads and applies the config, reports ready, and then serves reload
// requests until ctx ends. It returns nil on a clean stop and leaves the
// firewall in force.
func Run(ctx context.Context, opts Options) error {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	d := &Daemon{opts: opts, log: opts.Logger, net: netconf.New(0)}
	cfg, err := d.load()
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
	d.startHA(cfg)
	defer d.stopHA()
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
	cfg, err := d.load()
	if err != nil {
		d.log.Error("reload rejected; keeping the running config", "err", err)
		return
	}
	if err := d.apply(cfg); err != nil {
		d.log.Error("reload failed; the previous ruleset stays in force", "err", err)
		return
	}
	d.reloadHA(cfg)
	d.log.Info("reloaded", "hostname", cfg.Hostname)
}

func (d *Daemon) load() (*config.Config, error) {
	if d.opts.ConfigPath == "" {
		d.log.Warn("no config file given: running the embedded default config")
		return config.Default(), nil
	}
	cfg, err := config.Load(d.opts.ConfigPath)
	if err != nil {
		return nil, fmt.Errorf("appliance: load config: %w", err)
	}
	return cfg, nil
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
	if err := d.fw.Apply(rs); err != nil {
		return fmt.Errorf("appliance: apply firewall: %w", err)
	}
	d.cfg = cfg
	return nil
}

func (d *Daemon) source() string {
	if d.opts.ConfigPath == "" {
		return "embedded default"
	}
	return d.opts.ConfigPath
}
