package boot

import (
	"os"
	"os/signal"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// reaper is PID 1's one wait4 loop. Every orphan in the system becomes
// PID 1's child, and a zombie nobody waits for stays in the process table
// forever, so PID 1 reaps them all. Children PID 1 started itself are
// registered with start, and their exit status is handed back, so that no
// other code (os/exec's Wait) races this loop for the same pid.
type reaper struct {
	mu      sync.Mutex
	waiting map[int]chan unix.WaitStatus
}

func newReaper() *reaper {
	return &reaper{waiting: map[int]chan unix.WaitStatus{}}
}

// run reaps on every SIGCHLD until stop closes.
func (r *reaper) run(stop <-chan struct{}) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGCHLD)
	defer signal.Stop(ch)
	for {
		r.reapAll()
		select {
		case <-stop:
			return
		case <-ch:
		}
	}
}

// reapAll collects every exited child: SIGCHLDs coalesce, so one signal
// may stand for many exits.
func (r *reaper) reapAll() {
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err == unix.EINTR {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
		r.mu.Lock()
		c := r.waiting[pid]
		delete(r.waiting, pid)
		r.mu.Unlock()
		if c != nil {
			c <- ws
		}
	}
}

// start runs startFn, which starts a process and returns its pid, with
// the table locked: a child that exits at once is still handed back.
func (r *reaper) start(startFn func() (int, error)) (<-chan unix.WaitStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	pid, err := startFn()
	if err != nil {
		return nil, err
	}
	c := make(chan unix.WaitStatus, 1)
	r.waiting[pid] = c
	return c, nil
}
