package boot

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Backoff between restarts of a crashing appliance.
const (
	restartMin = time.Second
	restartMax = 30 * time.Second
	// A child that ran this long was healthy: the next crash restarts at
	// once-ish (restartMin) rather than after the grown delay.
	restartStable = time.Minute
	// How long a stopping child gets before SIGKILL.
	stopGrace = 10 * time.Second
)

// nextDelay is the wait before the next start, given the last wait and
// how long the child ran.
func nextDelay(last, ran time.Duration) time.Duration {
	if ran >= restartStable || last == 0 {
		return restartMin
	}
	return min(2*last, restartMax)
}

// Clock is the time source of the supervisor.
type Clock interface {
	Now() time.Time
	After(time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// child is how the supervisor starts the appliance.
type child struct {
	path string
	// args builds the arguments of each start; restarts counts the
	// starts before this one.
	args func(restarts int) []string
	env  []string
	// extraEnv, if set, adds to env at each start; PID 1 knows the stick
	// only once the early start's gate opens.
	extraEnv func() []string
	// early, if set, makes the first start early (latestart.go).
	early *earlyStart
	out   io.Writer // the consoles
	// onLine sees every line the child writes, for the ready message.
	onLine func(restarts int, line string)
}

// earlyStart starts the first child at once with args, and holds the
// arguments of its real start back until gate closes; they go to the
// child's fd 3 then.
type earlyStart struct {
	args []string
	gate <-chan struct{}
	// message is the real start's arguments and environment.
	message func() LateStart
}

// supervisor runs the appliance as a child of PID 1 and restarts it with
// backoff when it exits. A crash is then a restart, not a kernel panic.
type supervisor struct {
	c     child
	r     *reaper
	log   *slog.Logger
	clock Clock
}

// run starts the child until ctx ends, then stops it: SIGTERM, and
// SIGKILL after stopGrace.
func (s *supervisor) run(ctx context.Context) {
	var delay time.Duration
	for restarts := 0; ; restarts++ {
		started := s.clock.Now()
		err := s.once(ctx, restarts)
		if ctx.Err() != nil {
			return
		}
		delay = nextDelay(delay, s.clock.Now().Sub(started))
		s.log.Error("appliance exited; restarting", "err", err, "restarts", restarts+1, "in", delay)
		select {
		case <-ctx.Done():
			return
		case <-s.clock.After(delay):
		}
	}
}

// once runs the child to its end.
func (s *supervisor) once(ctx context.Context, restarts int) error {
	if s.c.early != nil && restarts > 0 {
		// An early child that died before its arguments were known is
		// restarted with them, so only once they are.
		select {
		case <-s.c.early.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("supervise: %w", err)
	}
	cmd, late, err := s.command(restarts)
	if err != nil {
		pr.Close()
		pw.Close()
		return err
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	// Its own process group, so that ctrl-c on a console never reaches it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	exited, err := s.r.start(func() (int, error) {
		if err := cmd.Start(); err != nil {
			return 0, err
		}
		return cmd.Process.Pid, nil
	})
	pw.Close()
	if late != nil {
		cmd.ExtraFiles[0].Close() // the child's end
		if err == nil {
			go s.sendLate(ctx, late)
		} else {
			late.Close()
		}
	}
	if err != nil {
		pr.Close()
		return fmt.Errorf("supervise: start: %w", err)
	}
	s.log.Debug("appliance started", "pid", cmd.Process.Pid, "args", cmd.Args[1:], "uptime_ms", uptime().Milliseconds())
	defer cmd.Process.Release()
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.relay(pr, restarts)
	}()
	var ws unix.WaitStatus
	select {
	case ws = <-exited:
	case <-ctx.Done():
		ws = s.stop(cmd.Process.Pid, exited)
	}
	// A grandchild may hold the pipe open; do not hang on it. (A bound,
	// not behaviour: real time.)
	drain := time.NewTimer(2 * time.Second)
	defer drain.Stop()
	select {
	case <-done:
	case <-drain.C:
	}
	return exitError(ws)
}

// command builds the child of one start. The first of an early start
// also returns the pipe its arguments go down (sendLate).
func (s *supervisor) command(restarts int) (*exec.Cmd, *os.File, error) {
	env := append(slices.Clip(s.c.env), "RAMPART_RESTARTS="+strconv.Itoa(restarts))
	if restarts == 0 && s.c.early != nil {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, nil, fmt.Errorf("supervise: %w", err)
		}
		cmd := exec.Command(s.c.path, s.c.early.args...)
		cmd.Args[0] = "rampart"
		cmd.Env = env
		cmd.ExtraFiles = []*os.File{r}
		return cmd, w, nil
	}
	cmd := exec.Command(s.c.path, s.c.args(restarts)...)
	cmd.Args[0] = "rampart"
	if s.c.extraEnv != nil {
		env = append(env, s.c.extraEnv()...)
	}
	cmd.Env = env
	return cmd, nil, nil
}

// sendLate waits for the early start's gate and sends the child its
// arguments; when ctx ends first, it closes the pipe unwritten and the
// child exits.
func (s *supervisor) sendLate(ctx context.Context, w *os.File) {
	select {
	case <-s.c.early.gate:
		ls := s.c.early.message()
		s.log.Debug("appliance arguments sent", "args", ls.Args, "uptime_ms", uptime().Milliseconds())
		if err := sendLateStart(w, ls); err != nil {
			s.log.Error("appliance start", "err", err)
		}
	case <-ctx.Done():
		w.Close()
	}
}

// relay copies the child's output to the consoles line by line.
func (s *supervisor) relay(r io.ReadCloser, restarts int) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(s.c.out, line)
		if s.c.onLine != nil {
			s.c.onLine(restarts, line)
		}
	}
	// A line too long to scan: pass the rest through unread, so that the
	// child never blocks on a full pipe.
	_, _ = io.Copy(s.c.out, r)
}

func (s *supervisor) stop(pid int, exited <-chan unix.WaitStatus) unix.WaitStatus {
	_ = unix.Kill(pid, unix.SIGTERM)
	select {
	case ws := <-exited:
		return ws
	case <-s.clock.After(stopGrace):
	}
	s.log.Warn("appliance did not stop; killing it", "pid", pid)
	_ = unix.Kill(pid, unix.SIGKILL)
	return <-exited
}

func exitError(ws unix.WaitStatus) error {
	switch {
	case ws.Signaled():
		return fmt.Errorf("killed by %v", ws.Signal())
	case ws.ExitStatus() != 0:
		return fmt.Errorf("exit status %d", ws.ExitStatus())
	}
	return fmt.Errorf("exited")
}

// isReady reports whether a line of the appliance's log is its ready
// message (`msg=ready`, after the ruleset is loaded).
func isReady(line string) bool {
	return strings.Contains(line, " msg=ready")
}

// isWebUIUp reports whether a line is the appliance's message that the
// web UI listens, which with ready makes the boot benchmark's end.
func isWebUIUp(line string) bool {
	return strings.Contains(line, `msg="web UI listening"`)
}
