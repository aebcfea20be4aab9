package appliance

import (
	"context"
	"fmt"
	"sync"
	"time"

	"rampart/config"
	"rampart/config/store"
	"rampart/webui"
)

// The daemon is the web UI's webui.Backend. A change from the UI goes
// through switchTo, the same path a SIGHUP reload takes (compile, then
// interfaces and ruleset, then HA), so there is one way a config comes
// into force.

// uiState is the daemon's part for the web UI.
type uiState struct {
	// mu serialises every config change, the UI's and SIGHUP's, and
	// guards Daemon.cfg, version and the HA driver swap.
	mu      sync.Mutex
	version store.Version // the stored version in force, or last committed
	src     *source
	logs    *logRing
	runner  *uiRunner // nil while the UI is off
	fwlog   *fwLog    // nil unless logged packets are read (fwlog.go)

	timingMu sync.Mutex // apart from mu: a scrape must not wait for an apply
	timing   webui.Timing

	now        func() time.Time // for the view caches
	started    time.Time        // the daemon's start, for Node
	stickFile  string           // PID 1's stick status; "" is stickStatusFile
	interfaces cachedView[[]webui.InterfaceStatus]
	counters   cachedView[[]webui.RuleCounter]
}

var _ webui.Backend = (*Daemon)(nil)

// switchTo brings cfg into force: the reload path, locked. version is
// the stored version cfg is, or nil to keep the current one (a UI change
// is stored only once it is confirmed).
func (d *Daemon) switchTo(cfg *config.Config, version *store.Version) error {
	d.ui.mu.Lock()
	if err := d.apply(cfg); err != nil {
		d.ui.mu.Unlock()
		return err
	}
	if version != nil {
		d.ui.version = *version
	}
	d.ui.fwlog.setConfig(cfg)
	d.reloadHA(cfg)
	d.ui.mu.Unlock()
	d.ui.interfaces.reset()
	d.ui.counters.reset()
	d.ui.runner.follow(cfg)
	return nil
}

// timedApply records one ruleset apply for the dashboard and /metrics.
func (d *Daemon) timedApply(took time.Duration) {
	d.ui.timingMu.Lock()
	defer d.ui.timingMu.Unlock()
	t := &d.ui.timing
	t.Count++
	t.Sum += took
	t.Last = took
}

// Running returns the config in force and its stored version.
func (d *Daemon) Running() (*config.Config, store.Version) {
	d.ui.mu.Lock()
	defer d.ui.mu.Unlock()
	return d.cfg, d.ui.version
}

// Apply brings cfg into force without storing it: the UI's proposals,
// reverts and maintenance switch. The UI validated it; Compile refusing
// it leaves everything as it was.
func (d *Daemon) Apply(ctx context.Context, cfg *config.Config) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := d.switchTo(cfg, nil); err != nil {
		return err
	}
	d.log.Info("web UI change in force", "hostname", cfg.Hostname)
	return nil
}

// Commit stores a confirmed config as the newest version.
func (d *Daemon) Commit(data []byte, meta store.Meta) (store.Version, error) {
	st := d.ui.src.st
	if st == nil {
		return store.Version{}, webui.ErrUnavailable
	}
	v, err := st.Save(data, meta)
	if err != nil {
		return store.Version{}, fmt.Errorf("appliance: commit: %w", err)
	}
	d.ui.mu.Lock()
	d.ui.version = v
	d.ui.mu.Unlock()
	d.log.Info("config stored", "version", v.ID, "author", meta.Author, "message", meta.Message)
	return v, nil
}

// History lists the stored versions, newest first.
func (d *Daemon) History() ([]store.Version, error) {
	if d.ui.src.st == nil {
		return nil, webui.ErrUnavailable
	}
	return d.ui.src.st.List()
}

// Version returns one stored version.
func (d *Daemon) Version(id uint64) ([]byte, store.Version, error) {
	if d.ui.src.st == nil {
		return nil, store.Version{}, webui.ErrUnavailable
	}
	return d.ui.src.st.Get(id)
}

// Logs returns the daemon's own recent log lines.
func (d *Daemon) Logs(after uint64, max int) []webui.LogLine {
	return d.ui.logs.since(after, max)
}
