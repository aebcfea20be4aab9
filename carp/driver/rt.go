package driver

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// RTPriority is the SCHED_FIFO priority of the run loop's thread: above
// every normal task, so that a box saturated by other work still sends
// its adverts on time, and below the kernel's threaded interrupt handlers
// (priority 50), which must run for the adverts to leave the box at all.
const RTPriority = 40

// realtimeThread makes the calling OS thread SCHED_FIFO. RESET_ON_FORK
// keeps any thread or process it spawns at normal priority.
func realtimeThread(prio int) error {
	attr := &unix.SchedAttr{Policy: unix.SCHED_FIFO, Priority: uint32(prio), Flags: unix.SCHED_FLAG_RESET_ON_FORK}
	if err := unix.SchedSetAttr(0, attr, 0); err != nil {
		return fmt.Errorf("carp driver: SCHED_FIFO %d: %w", prio, err)
	}
	return nil
}

// lockMemory locks the process's pages in RAM, so that the advert path
// never waits for a page to come back from swap. MCL_ONFAULT locks pages
// as they are touched rather than populating every mapping at once, which
// for a Go heap's reserved arenas would cost tens of megabytes for
// nothing; kernels before 4.4 lack it and get the plain form.
func lockMemory() error {
	err := unix.Mlockall(unix.MCL_CURRENT | unix.MCL_FUTURE | unix.MCL_ONFAULT)
	if err == unix.EINVAL {
		err = unix.Mlockall(unix.MCL_CURRENT | unix.MCL_FUTURE)
	}
	if err != nil {
		return fmt.Errorf("carp driver: mlockall: %w", err)
	}
	return nil
}

// RuntimePriority is the SCHED_FIFO priority of every other thread of
// the process with RealTime. The advert thread is real-time, but it runs
// Go code: returning from a system call it may need a scheduler lock or a
// P that another runtime thread holds or must hand over, and a runtime
// thread of ordinary priority can wait tens of milliseconds behind a CPU
// hog (measured here: 56-160ms, even at nice -20, against 7ms for a C
// real-time thread on the same box). At real-time priority 1 the runtime
// threads run ahead of every ordinary process and behind the advert
// thread and the kernel's threaded interrupts. The kernel's real-time
// throttling (sched_rt_runtime_us) still leaves ordinary processes 5% of
// each CPU should the daemon ever spin. New threads inherit the policy;
// commands the driver runs (notify, health checks) are started from a
// thread set back to SCHED_NORMAL.
const RuntimePriority = 1

// floorProcess makes every thread of the process SCHED_FIFO prio, except
// the calling one, which the caller sets itself.
func floorProcess(prio int) error {
	self := unix.Gettid()
	entries, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return fmt.Errorf("carp driver: runtime priority: %w", err)
	}
	var errs []error
	for _, e := range entries {
		tid, err := strconv.Atoi(e.Name())
		if err != nil || tid == self {
			continue
		}
		attr := &unix.SchedAttr{Policy: unix.SCHED_FIFO, Priority: uint32(prio)}
		if err := unix.SchedSetAttr(tid, attr, 0); err != nil && err != unix.ESRCH {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("carp driver: runtime priority %d: %w", prio, errors.Join(errs...))
	}
	return nil
}

// startOrdinary starts cmd from a thread of ordinary scheduling policy, so
// that the child does not inherit the daemon's real-time floor. The
// thread is used once and ends with its goroutine.
func startOrdinary(cmd *exec.Cmd) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread's policy changed
		_ = unix.SchedSetAttr(0, &unix.SchedAttr{Policy: unix.SCHED_NORMAL}, 0)
		errc <- cmd.Start()
	}()
	return <-errc
}
