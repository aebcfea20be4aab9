package lab

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"rampart/internal/netns"
)

// ReadyLine is what the daemon logs (slog text) once its firewall is in
// force.
const ReadyLine = "msg=ready"

// Timeouts for daemons. A firewall that is not up within ReadyTimeout is
// broken, not slow: the whole lab is a handful of veths.
const (
	ReadyTimeout = 30 * time.Second
	StopTimeout  = 10 * time.Second
)

// ErrKilled says a daemon ignored SIGTERM for StopTimeout and was killed.
var ErrKilled = errors.New("lab: daemon did not stop on SIGTERM and was killed")

// Node is a rampart daemon running inside a firewall namespace.
type Node struct {
	Name    string // fwa, fwb
	NS      *netns.NS
	LogPath string // stdout and stderr

	cmd      *exec.Cmd
	logFile  *os.File
	lines    lineLog
	done     chan struct{} // closed once the process is reaped
	waitErr  error
	stopOnce sync.Once
	stopErr  error
}

// StartNode runs `binary run --config configPath extraArgs...` inside
// firewall namespace i and waits until the daemon logs ReadyLine, or ctx
// (default ReadyTimeout) ends. An empty configPath runs the embedded
// default config. Down stops the node if the caller does not.
func (l *Lab) StartNode(ctx context.Context, i int, binary, configPath string, extraArgs ...string) (*Node, error) {
	if i < 0 || i >= len(l.FW) {
		return nil, fmt.Errorf("lab: start node %d: the lab has %d firewall(s)", i, len(l.FW))
	}
	args := []string{"run"}
	if configPath != "" {
		args = append(args, "--config", configPath)
	}
	n, err := l.spawn(i, binary, append(args, extraArgs...))
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, ReadyTimeout)
		defer cancel()
	}
	if _, err := n.WaitLog(ctx, 0, ReadyLine); err != nil {
		_ = n.Stop()
		return nil, fmt.Errorf("lab: %s not ready: %w\n%s", n.Name, err, n.Tail(20))
	}
	return n, nil
}

// spawn starts the daemon through `ip netns exec`, which also mounts the
// namespace's own /sys, as an admin's shell would see it.
func (l *Lab) spawn(i int, binary string, args []string) (*Node, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.down {
		return nil, errors.New("lab: start node: the lab is down")
	}
	if l.LogDir == "" {
		dir, err := os.MkdirTemp("", "rampart-lab-"+l.Prefix+"-")
		if err != nil {
			return nil, fmt.Errorf("lab: log dir: %w", err)
		}
		l.LogDir = dir
	}
	ns := l.FW[i]
	n := &Node{Name: FWName(i), NS: ns, done: make(chan struct{})}
	n.lines.init()
	n.LogPath = filepath.Join(l.LogDir, fmt.Sprintf("%s-%d.log", n.Name, len(l.nodes)))
	f, err := os.OpenFile(n.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lab: start %s: %w", n.Name, err)
	}
	n.logFile = f
	n.cmd = exec.Command("ip", append([]string{"netns", "exec", ns.Name, binary}, args...)...)
	n.cmd.Stdout = f
	// A test binary killed outright must not leave daemons behind.
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := n.cmd.StderrPipe()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lab: start %s: %w", n.Name, err)
	}
	started := make(chan error, 1)
	go n.supervise(stderr, started)
	if err := <-started; err != nil {
		f.Close()
		return nil, fmt.Errorf("lab: start %s: %w", n.Name, err)
	}
	l.nodes = append(l.nodes, n)
	return n, nil
}

// supervise starts the process, copies its stderr into the log, and reaps
// it. It holds its OS thread for the daemon's lifetime because the kernel
// sends Pdeathsig when the forking thread, not the process, exits.
func (n *Node) supervise(stderr io.Reader, started chan<- error) {
	runtime.LockOSThread() // never unlocked: the thread ends with us
	if err := n.cmd.Start(); err != nil {
		started <- err
		return
	}
	started <- nil
	sc := bufio.NewScanner(stderr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		_, _ = n.logFile.WriteString(line + "\n")
		n.lines.add(line)
	}
	n.waitErr = n.cmd.Wait()
	n.logFile.Close()
	n.lines.close()
	close(n.done)
}

// PID is the daemon's process id.
func (n *Node) PID() int { return n.cmd.Process.Pid }

// Signal sends sig to the daemon.
func (n *Node) Signal(sig os.Signal) error {
	if err := n.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("lab: signal %s: %w", n.Name, err)
	}
	return nil
}

// Done is closed when the daemon has exited; Err then tells how.
func (n *Node) Done() <-chan struct{} { return n.done }

// Err is the daemon's exit error once Done is closed (nil: exit status 0).
func (n *Node) Err() error {
	select {
	case <-n.done:
		return n.waitErr
	default:
		return nil
	}
}

// Stop sends SIGTERM and waits StopTimeout for the daemon to exit, then
// kills it (ErrKilled). It returns the daemon's exit error, and the same
// answer on every later call.
func (n *Node) Stop() error {
	n.stopOnce.Do(func() { n.stopErr = n.stop() })
	return n.stopErr
}

func (n *Node) stop() error {
	select {
	case <-n.done:
		return n.exitErr()
	default:
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(StopTimeout)
	defer t.Stop()
	select {
	case <-n.done:
		return n.exitErr()
	case <-t.C:
	}
	_ = n.cmd.Process.Kill()
	t.Reset(StopTimeout)
	select {
	case <-n.done:
	case <-t.C:
		return fmt.Errorf("lab: %s: pid %d survived SIGKILL: %w", n.Name, n.PID(), ErrKilled)
	}
	return ErrKilled
}

func (n *Node) exitErr() error {
	if n.waitErr != nil {
		return fmt.Errorf("lab: %s daemon: %w", n.Name, n.waitErr)
	}
	return nil
}

// Mark is the number of stderr lines so far: pass it to WaitLog to wait
// for a line logged after this point (e.g. after a SIGHUP).
func (n *Node) Mark() int { return n.lines.len() }

// WaitLog waits for a stderr line at index from or later that contains
// substr, and returns it. It fails when ctx ends or the daemon exits first.
func (n *Node) WaitLog(ctx context.Context, from int, substr string) (string, error) {
	return n.lines.waitFor(ctx, from, substr)
}

// Log returns the whole log: stdout and stderr.
func (n *Node) Log() string {
	b, _ := os.ReadFile(n.LogPath)
	return string(b)
}

// Tail returns the last k lines of the log, for error messages.
func (n *Node) Tail(k int) string {
	lines := strings.Split(strings.TrimRight(n.Log(), "\n"), "\n")
	if len(lines) > k {
		lines = lines[len(lines)-k:]
	}
	return strings.Join(lines, "\n")
}

// lineLog holds a daemon's stderr lines and wakes waiters on each new one.
type lineLog struct {
	mu      sync.Mutex
	lines   []string
	changed chan struct{} // closed and replaced on every change
	closed  bool
}

func (l *lineLog) init() { l.changed = make(chan struct{}) }

func (l *lineLog) add(line string) {
	l.mu.Lock()
	l.lines = append(l.lines, line)
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
}

func (l *lineLog) close() {
	l.mu.Lock()
	l.closed = true
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
}

func (l *lineLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.lines)
}

func (l *lineLog) waitFor(ctx context.Context, from int, substr string) (string, error) {
	for {
		l.mu.Lock()
		for ; from < len(l.lines); from++ {
			if strings.Contains(l.lines[from], substr) {
				line := l.lines[from]
				l.mu.Unlock()
				return line, nil
			}
		}
		ch, closed := l.changed, l.closed
		l.mu.Unlock()
		if closed {
			return "", fmt.Errorf("daemon exited before logging %q", substr)
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("waiting for %q: %w", substr, ctx.Err())
		case <-ch:
		}
	}
}
