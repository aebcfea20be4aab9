package boot

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"rampart/boot/stick"
	"rampart/config/store"
)

// newSupervisor makes the appliance's supervisor. Its first start is
// early (latestart.go): startEarly runs it once the modules are in, and
// runServices opens the gate once the config is known.
func (b *booter) newSupervisor(ctx context.Context) {
	exe, err := os.Executable()
	if err != nil {
		exe = "/init"
	}
	b.exe, b.gate = exe, make(chan struct{})
	b.sup = &supervisor{
		c: child{
			path:     exe,
			args:     func(restarts int) []string { return append([]string{"run"}, b.runArgs(restarts)...) },
			env:      []string{"PATH=/sbin", "HOME=/"},
			extraEnv: b.stickEnv,
			early: &earlyStart{
				args:    []string{"run", ArgsFDFlag, "3"},
				gate:    b.gate,
				message: func() LateStart { return LateStart{Args: b.runArgs(0), Env: b.stickEnv()} },
			},
			out: b.con,
			onLine: func(restarts int, line string) {
				switch {
				case isReady(line):
					go b.ready(ctx, restarts)
				case isWebUIUp(line):
					b.log.Info("web UI up", "uptime_ms", uptime().Milliseconds(), "restarts", restarts)
					b.uiOnce.Do(func() { close(b.uiUp) })
				}
			},
		},
		r: b.reaper, log: b.log, clock: realClock{},
	}
}

// startEarly starts the supervisor, and so the appliance's early start.
func (b *booter) startEarly(ctx context.Context) {
	b.wg.Add(1)
	go func() { defer b.wg.Done(); b.sup.run(ctx) }()
}

// stickEnv tells the appliance where the stick is, for its writes
// (stick.FromEnv); none without a stick.
func (b *booter) stickEnv() []string {
	if b.cfg == nil || b.cfg.mount == nil {
		return nil
	}
	return []string{stick.EnvDir + "=" + b.cfg.mount.Dir, stick.EnvFS + "=" + b.cfg.mount.Dev.FSType}
}

// runServices lets the early-started appliance go on with the config
// found, and starts the stick watch.
func (b *booter) runServices(ctx context.Context) {
	b.watch = &stickWatch{log: b.log, m: b.cfg.mount}
	b.timeExec(b.exe)
	close(b.gate)
	b.wg.Add(1)
	go func() { defer b.wg.Done(); b.watch.run(ctx, 2*time.Second) }()
}

// lateWait bounds how long the report of the interfaces and ruleset and
// the late modules wait for the web UI after the appliance is ready.
const lateWait = 5 * time.Second

// runArgs picks the appliance's config and state dir for each start:
//   - the stick, as its store: --config /stick/rampart.yaml (the appliance
//     keeps its config store and web UI state there);
//   - a stick with no valid config: --state-dir /stick, which the
//     appliance seeds with the embedded default;
//   - a stick pulled since boot: the copy of its config PID 1 made in RAM
//     at boot, with the state in RAM;
//   - no stick: the embedded default, with the state in RAM.
//
// RAMPART_RESTARTS (set by the supervisor) tells the appliance how often
// it has been restarted, so that CARP can start demoted after a crash.
func (b *booter) runArgs(restarts int) []string {
	args := []string{"--log-format", "text"}
	switch m := b.watch.mount(); {
	case m != nil && b.cfg.path != "":
		return append(args, "--config", filepath.Join(m.Dir, store.CurrentFile))
	case m != nil:
		return append(args, "--state-dir", m.Dir)
	case b.cfg.path != "":
		return append(args, "--config", b.cfg.path)
	}
	return append(args, "--state-dir", filepath.Join(runDir, "state"))
}

// ready reports the appliance's start to the console: uptime, the
// interfaces and the ruleset in force.
func (b *booter) ready(ctx context.Context, restarts int) {
	b.log.Info("appliance ready", "uptime_ms", uptime().Milliseconds(), "restarts", restarts, "version", b.version)
	// The rest waits for the web UI, the last thing a boot waits for:
	// beside its start the late modules and the report below took 0.3 s
	// from it under emulation (docs/benchmarks.md, boot). lateWait bounds
	// the wait on a box without a web UI.
	select {
	case <-b.uiUp:
	case <-time.After(lateWait):
	case <-ctx.Done():
		return
	}
	showInterfaces(b.log)
	showRuleset(b.log)
	if restarts > 0 {
		return
	}
	b.loadLate()
	if b.cfg.store == nil {
		return
	}
	if _, ok := cmdlineFlag(readCmdline(), TestWritesFlag); ok {
		data, err := os.ReadFile(b.cfg.path)
		if err != nil {
			b.log.Error("test writes", "err", err)
			return
		}
		b.wg.Add(1)
		go func() { defer b.wg.Done(); testWrites(ctx, b.log, b.cfg.store, data) }()
	}
}

// timeExec logs, under rampart.debug, how long a bare run of the binary
// takes (`rampart version`): the floor under the appliance's start.
func (b *booter) timeExec(exe string) {
	if !b.log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	t0 := uptime()
	exited, err := b.reaper.start(func() (int, error) {
		p, err := os.StartProcess(exe, []string{"rampart", "version"}, &os.ProcAttr{})
		if err != nil {
			return 0, err
		}
		defer p.Release()
		return p.Pid, nil
	})
	if err == nil {
		<-exited
	}
	b.log.Debug("bare exec of rampart", "ms", (uptime() - t0).Milliseconds(), "err", err)
}
