package boot

import (
	"fmt"
	"io"
	"time"

	"golang.org/x/sys/unix"
)

// stop stops the services and leaves the stick clean: the appliance
// first (its firewall stays in force until the reboot), then every other
// process, then the stick is flushed and unmounted.
func (b *booter) stop() {
	b.log.Info("stopping services")
	b.cancel()
	done := make(chan struct{})
	go func() { b.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(stopGrace + 5*time.Second):
		b.log.Warn("services did not stop in time")
	}
	_ = unix.Kill(-1, unix.SIGTERM)
	time.Sleep(200 * time.Millisecond)
	_ = unix.Kill(-1, unix.SIGKILL)
	if m := b.watch.mount(); m != nil {
		if err := m.Unmount(); err != nil {
			b.log.Error("stick not unmounted cleanly", "err", err)
		} else {
			b.log.Info("stick unmounted")
		}
	}
	unix.Sync()
}

// reboot ends PID 1. If reboot(2) fails there is nothing left to do but
// wait; exiting would panic the kernel.
func reboot(w io.Writer, cmd int) {
	what := "rebooting"
	if cmd == unix.LINUX_REBOOT_CMD_POWER_OFF {
		what = "powering off"
	}
	fmt.Fprintf(w, "rampart: %s\n", what)
	unix.Sync()
	if err := unix.Reboot(cmd); err != nil {
		fmt.Fprintf(w, "rampart: reboot: %v\n", err)
	}
	// Sleep rather than block forever: the runtime would call a select{}
	// with nothing left to run a deadlock, and exit.
	for {
		time.Sleep(time.Hour)
	}
}
