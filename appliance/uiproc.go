package appliance

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// child is one running UI process.
type child struct {
	pid    int
	conn   net.Conn // the daemon's end of the socketpair
	exited <-chan error
	kill   func() error
}

// startChild starts argv with one end of a unix socketpair as fd 3 and
// returns the other end.
//
// The process is started, and waited for, on an OS thread of its own set
// to SCHED_NORMAL. The daemon's threads are SCHED_FIFO (carp/driver's
// runtime floor, which new threads inherit), and a child forked from one
// of them would run the UI at real-time priority, the very thing the
// split is for. The thread stays locked until the child has exited for
// a second reason: Pdeathsig fires when the thread that forked the child
// ends, not the process, and the Go runtime ends a thread whose goroutine
// exits locked.
func startChild(argv, env []string, console io.Writer) (*child, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("appliance: ui process: socketpair: %w", err)
	}
	ours, theirs := os.NewFile(uintptr(fds[0]), "ui-daemon"), os.NewFile(uintptr(fds[1]), "ui-worker")
	defer theirs.Close()
	conn, err := net.FileConn(ours)
	ours.Close()
	if err != nil {
		return nil, fmt.Errorf("appliance: ui process: %w", err)
	}
	cmd := &exec.Cmd{
		Path:       argv[0],
		Args:       argv,
		Env:        append(os.Environ(), env...),
		Stdout:     console,
		Stderr:     console,
		ExtraFiles: []*os.File{theirs},
		// The child dies with the daemon, even with SIGKILL.
		SysProcAttr: &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL},
	}
	started := make(chan error, 1)
	exited := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: see above
		if err := unix.SchedSetAttr(0, &unix.SchedAttr{Policy: unix.SCHED_NORMAL}, 0); err != nil {
			started <- fmt.Errorf("appliance: ui process: SCHED_NORMAL: %w", err)
			return
		}
		if err := cmd.Start(); err != nil {
			started <- fmt.Errorf("appliance: ui process: %w", err)
			return
		}
		started <- nil
		exited <- cmd.Wait()
	}()
	if err := <-started; err != nil {
		conn.Close()
		return nil, err
	}
	return &child{pid: cmd.Process.Pid, conn: conn, exited: exited, kill: cmd.Process.Kill}, nil
}

// UIProcess is a web UI process started before the daemon knows its
// config: PID 1's early start (boot/latestart.go), where the UI's Go
// runtime and page templates get ready while PID 1 waits for the config
// stick. The daemon takes it as the UI's first life (Options.UIProcess),
// or discards it when the UI is off.
type UIProcess struct {
	mu sync.Mutex
	ch *child // nil once taken or discarded
}

// StartUIProcess starts the web UI process; console gets its output.
func StartUIProcess(console io.Writer) (*UIProcess, error) {
	ch, err := startChild(uiArgv, nil, console)
	if err != nil {
		return nil, err
	}
	return &UIProcess{ch: ch}, nil
}

// take hands the process over, once; nil when there is none.
func (p *UIProcess) take() *child {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	ch := p.ch
	p.ch = nil
	return ch
}

// Discard kills the process unless the daemon took it; nil is fine.
func (p *UIProcess) Discard() {
	if ch := p.take(); ch != nil {
		ch.conn.Close()
		_ = ch.kill()
		<-ch.exited
	}
}

// stop waits up to grace for the child to exit (its socket is closed, so
// it is shutting down), then kills it, and waits for it.
func (c *child) stop(grace time.Duration) error {
	c.conn.Close()
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case err := <-c.exited:
		return err
	case <-t.C:
	}
	c.kill()
	return <-c.exited
}
