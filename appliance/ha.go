package appliance

import (
	"errors"
	"os"
	"strconv"
	"time"

	"rampart/carp"
	"rampart/carp/driver"
	"rampart/config"
)

// The redundancy half of the daemon, kept apart from appliance.go: the
// CARP driver starts once the firewall is in force (a node must never hold
// the VIPs of a pair without its ruleset), bows out when the daemon stops,
// and follows reloads.

// startHA starts the driver when the config has an ha section. A failure
// is logged, not fatal: the firewall is already in force and the node
// keeps serving as a backup that never takes over, which is what an admin
// can fix with a reload.
func (d *Daemon) startHA(cfg *config.Config) {
	if cfg.HA == nil {
		return
	}
	var drv *driver.Driver
	drv, err := driver.New(driver.Options{Config: cfg, Logger: d.log, RealTime: true, BootHold: true,
		BeforeMaster: d.syncHook(&drv)})
	if err == nil {
		err = drv.Start()
	}
	if err != nil {
		d.log.Error("ha not started: this node will not take over", "err", err)
		return
	}
	if hold := restartHoldLeft(os.Getenv(restartsEnv), time.Since(daemonStart)); hold > 0 {
		d.log.Warn("ha: the daemon was restarted after a crash: staying backup a while", "for", hold.String())
		holdAfterRestart(drv, hold)
	}
	// The boot hold lasts until the firewall is in force, which it is by
	// now, and with state sync until its bulk update (sync.go).
	d.releaseBootHold(drv)
	d.ha = drv
	d.log.Info("ha started", "node", cfg.HA.NodeID, "groups", len(cfg.HA.Groups), "maintenance", cfg.HA.Maintenance)
}

// reloadHA applies a reloaded config: in place when the driver can (keys,
// maintenance, health checks, notify), else by a restart, which makes a
// master bow out to its peer first.
func (d *Daemon) reloadHA(cfg *config.Config) {
	d.reloadSync(cfg) // first: a restarted driver hooks into the new node
	switch {
	case d.ha == nil:
		d.startHA(cfg)
	case cfg.HA == nil:
		d.log.Info("ha section removed: leaving the pair")
		d.stopHA()
	default:
		err := d.ha.Reconfigure(cfg)
		if errors.Is(err, driver.ErrRestart) {
			d.log.Info("ha settings changed: restarting the ha driver")
			d.stopHA()
			d.startHA(cfg)
			return
		}
		if err != nil {
			d.log.Error("ha reload rejected; keeping the running ha settings", "err", err)
		}
	}
}

// stopHA bows out of every group this node is master of and removes its
// VIPs, so the peer takes over at once.
func (d *Daemon) stopHA() {
	if d.ha == nil {
		return
	}
	d.ha.Close()
	d.ha = nil
	d.log.Info("ha stopped")
}

// restartsEnv is how often PID 1's supervisor has restarted the daemon
// (boot sets it on every start).
const restartsEnv = "RAMPART_RESTARTS"

// restartHold keeps a restarted daemon demoted, beside the boot hold,
// until it has run this long. A daemon that crashes every few seconds
// would otherwise take the VIPs back from its peer at every start, and
// every takeover costs connections. PID 1 counts a child that ran a
// minute as healthy (boot's restartStable): the same here.
const restartHold = time.Minute

// restartHoldName tells the restart hold apart from the boot hold, which
// Promote(carp.CauseBoot, "") ends.
const restartHoldName = "restart"

// daemonStart is when this process started: a driver restarted by a
// reload holds only for what is left of restartHold.
var daemonStart = time.Now()

// restartHoldLeft is what is left of the restart hold for a driver
// started ran after the daemon's start, given RAMPART_RESTARTS: 0 on a
// first start.
func restartHoldLeft(restarts string, ran time.Duration) time.Duration {
	if n, err := strconv.Atoi(restarts); err != nil || n <= 0 {
		return 0
	}
	return max(0, restartHold-ran)
}

// holdAfterRestart demotes every group for hold, on top of the boot hold:
// the node stays backup until both are over. Posted before the boot hold
// is released, it leaves no moment undemoted.
func holdAfterRestart(drv *driver.Driver, hold time.Duration) {
	drv.Demote(carp.CauseBoot, restartHoldName, carp.BootDemotion)
	// Promote after Close does nothing.
	time.AfterFunc(hold, func() { drv.Promote(carp.CauseBoot, restartHoldName) })
}
