// Package boot is PID 1: the rampart binary runs as /init of the
// initramfs and calls Main. Like gokrazy's init it does three things:
//
//  1. boot: mount /proc, /sys, /dev, /dev/pts, /run and /tmp; load the
//     modules (kmod, with soft dependencies and aliases); bring up lo and
//     set the hostname; find the config stick by label and mount it
//     read-only;
//  2. supervise: run the appliance (`rampart run`) as a child of the same
//     binary and restart it with backoff, so that a crash is a restart
//     and not a kernel panic, and reap every zombie;
//  3. wait: for SIGTERM (reboot), SIGINT (ctrl-alt-del: reboot) or SIGUSR2
//     (power off), the signals of busybox's init. Then it stops the
//     appliance, flushes and unmounts the stick, and calls reboot(2).
//
// Steps that must succeed return errors, and PID 1 then reboots after a
// pause; optional ones log and carry on. PID 1 never exits: the kernel
// would panic.
package boot

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"rampart/boot/stick"
)

// DebugFlag on the kernel command line turns on PID 1's debug lines,
// such as the time each module takes to load.
const DebugFlag = "rampart.debug"

// Main runs PID 1. It does not return.
func Main(version string) {
	cmd := unix.LINUX_REBOOT_CMD_RESTART
	var out io.Writer = os.Stderr
	b, err := start(version)
	if err == nil {
		cmd = b.wait()
		b.stop()
		out = b.con
	} else {
		// The kernel gave /init stdout on /dev/console.
		fmt.Fprintf(os.Stderr, "rampart: boot failed: %v; rebooting in 10 s\n", err)
		time.Sleep(10 * time.Second)
	}
	reboot(out, cmd)
}

// booter is the state of a booted system.
type booter struct {
	version string
	log     *slog.Logger
	con     *consoles
	signals chan os.Signal
	reaper  *reaper
	cfg     *bootConfig
	loader  *Loader // nil if the module index is unusable
	watch   *stickWatch
	sup     *supervisor   // the appliance's (services.go)
	exe     string        // this binary, which the supervisor runs
	gate    chan struct{} // closed when the appliance may start for real
	uiUp    chan struct{} // closed when the web UI first listens
	uiOnce  sync.Once
	cancel  context.CancelFunc
	wg      sync.WaitGroup // supervisor, stick watch, test writes
}

// start boots the system and starts the appliance.
func start(version string) (*booter, error) {
	// Signals first: ctrl-alt-del during boot is kept for later.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR2)
	if err := mountEarly(); err != nil {
		return nil, err
	}
	con := openConsoles()
	level := slog.LevelInfo
	if _, ok := cmdlineFlag(readCmdline(), DebugFlag); ok {
		level = slog.LevelDebug
	}
	b := &booter{version: version, con: con, log: newLogger(con, level), signals: sigs, reaper: newReaper(), uiUp: make(chan struct{})}
	b.log.Info("rampart booting", "version", version, "pid", os.Getpid(), "uptime_ms", uptime().Milliseconds())
	go seedEntropy(func(err error) {
		b.log.Info("random number generator seeded", "uptime_ms", uptime().Milliseconds(), "err", err)
	})
	stopReaper := make(chan struct{}) // never closed: PID 1 reaps until reboot
	go b.reaper.run(stopReaper)
	b.optional("ctrl-alt-del", catchCtrlAltDel())
	b.optional("loopback", loopbackUp())
	b.optional("hostname", setHostname("rampart"))
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	b.newSupervisor(ctx)
	if err := b.prepare(ctx); err != nil {
		cancel()
		return nil, err
	}
	b.runServices(ctx)
	return b, nil
}

func (b *booter) optional(step string, err error) {
	if err != nil {
		b.log.Warn("boot step failed; carrying on", "step", step, "err", err)
	}
}

// prepare loads the modules and finds the config, side by side: the
// stick can only show up once the USB modules are in, and it takes the
// USB bus a while to find it.
func (b *booter) prepare(ctx context.Context) error {
	l, err := b.newLoader()
	b.optional("modules", err)
	modsDone := make(chan struct{})
	go func() {
		defer close(modsDone)
		b.loadModules(l)
		// The stick is a second or so away still (usb-storage's settle
		// delay): the appliance starts its Go runtime and web UI process
		// meanwhile, and waits for its config (latestart.go).
		b.startEarly(ctx)
	}()
	cfg, err := findConfig(ctx, b.log, func(fstype string) {
		if l != nil {
			b.optional("file system module", l.Load("fs-"+fstype))
			if fstype == stick.VFAT {
				// The default code page and character set of a mount.
				b.optional("nls module", l.Load("nls_cp437"))
				b.optional("nls module", l.Load("nls_ascii"))
			}
		}
	})
	<-modsDone
	if err != nil {
		return err
	}
	b.cfg, b.loader = cfg, l
	b.optional("hostname", setHostname(cfg.hostname))
	b.announceConfig()
	return nil
}

func (b *booter) announceConfig() {
	c := b.cfg
	switch {
	case c.path != "":
		b.log.Info("config loaded", "source", "stick", "version", c.version.ID, "sha256", c.version.SHA256, "hostname", c.hostname)
	case c.mount != nil:
		b.loud("THE CONFIG STICK HOLDS NO VALID CONFIG: RUNNING THE EMBEDDED DEFAULT CONFIG")
	default:
		b.loud("NO CONFIG STICK (file system label " + stick.Label + "): RUNNING THE EMBEDDED DEFAULT CONFIG; CHANGES WILL NOT SURVIVE A REBOOT")
	}
}

// loud writes a warning nobody at the console can miss.
func (b *booter) loud(msg string) {
	bar := "rampart: ******************************************************************\n"
	fmt.Fprintf(b.con, "%s%s%s", bar, "rampart: *** "+msg+"\n", bar)
	b.log.Warn(msg)
}

// wait blocks until a signal asks for a reboot or a power-off.
func (b *booter) wait() int {
	for sig := range b.signals {
		switch sig {
		case syscall.SIGUSR2:
			b.log.Info("power-off requested", "signal", sig)
			return unix.LINUX_REBOOT_CMD_POWER_OFF
		default:
			b.log.Info("reboot requested", "signal", sig)
			return unix.LINUX_REBOOT_CMD_RESTART
		}
	}
	return unix.LINUX_REBOOT_CMD_RESTART
}
