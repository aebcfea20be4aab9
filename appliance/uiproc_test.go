package appliance

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"rampart/config"
	"rampart/config/store"
	"rampart/webui"
	"rampart/webui/configsync"
	"rampart/webui/remote"
)

// workerEnv makes the test binary the UI process, as `rampart ui-worker`.
const workerEnv = "RAMPART_TEST_UI_WORKER"

func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) == "1" {
		f := os.NewFile(3, "ui-socket")
		nc, err := net.FileConn(f)
		if err == nil {
			err = RunUIWorker(context.Background(), nc, os.Stderr)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "ui worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// The UI process runs at SCHED_OTHER although every thread of the daemon
// that starts it is SCHED_FIFO (carp/driver's floor); it serves the
// daemon's ChangePending and config pushes; it logs through the daemon;
// and it is restarted when it dies and stopped with the daemon.
func TestUIProcess(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for SCHED_FIFO")
	}
	floorThreads(t, unix.SCHED_FIFO, 1)
	t.Cleanup(func() { floorThreads(t, unix.SCHED_NORMAL, 0) })

	var console syncBuffer
	r, msgs := testRunner(t, &console)
	exits := make(chan struct{}, 10)
	r.onExit = func() { exits <- struct{}{} }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.run(ctx)

	wait(t, msgs, "web UI process started")
	wait(t, msgs, "web UI listening")
	r.mu.Lock()
	pid, c := r.pid, r.conn
	r.mu.Unlock()
	for tid, policy := range threadPolicies(t, pid) {
		if policy != unix.SCHED_NORMAL {
			t.Errorf("UI process %d thread %d has policy %d, want SCHED_OTHER", pid, tid, policy)
		}
	}
	fifo := 0
	for _, p := range threadPolicies(t, os.Getpid()) {
		if p == unix.SCHED_FIFO {
			fifo++
		}
	}
	if fifo == 0 {
		t.Error("no SCHED_FIFO thread in the test process: the test did not start the UI from a real-time daemon")
	}

	cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
	defer ccancel()
	if pending, err := remote.Call[struct{}, bool](cctx, c, uiChangePendingMethod, struct{}{}); err != nil || pending {
		t.Errorf("ChangePending = %v, %v; want false", pending, err)
	}
	res, err := remote.Call[configsync.Push, configsync.Result](cctx, c, uiReceiveSyncMethod, configsync.Push{Node: "b", Config: []byte("not: [yaml")})
	if err != nil || res.Applied || res.Message == "" {
		t.Errorf("ReceiveSync of garbage = %+v, %v; want a refusal", res, err)
	}

	// A crash is a restart.
	if err := unix.Kill(pid, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitExit(t, exits)
	wait(t, msgs, "web UI process ended; restarting it")
	wait(t, msgs, "web UI process started")
	r.mu.Lock()
	pid2 := r.pid
	r.mu.Unlock()
	if pid2 == pid || pid2 == 0 {
		t.Errorf("restarted pid %d, first %d", pid2, pid)
	}
	wait(t, msgs, "web UI listening")

	cancel()
	select {
	case <-r.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the runner did not stop")
	}
	if err := unix.Kill(pid2, 0); err != unix.ESRCH {
		t.Errorf("UI process %d still there after stop: %v", pid2, err)
	}
	if !strings.Contains(console.String(), "setup token") {
		t.Errorf("no setup-token banner on the console:\n%s", console.String())
	}
}

// testRunner is a UI runner whose child is this test binary as the UI
// process, with no backend, serving on a free loopback port; msgs gets
// the log messages.
func testRunner(t *testing.T, console io.Writer) (*uiRunner, <-chan string) {
	t.Helper()
	msgs := make(chan string, 100)
	log := slog.New(msgHandler{msgs})
	r := newUIRunner(log, console, []string{"/proc/self/exe"})
	r.env = []string{workerEnv + "=1"}
	dir := t.TempDir()
	addr := freePort(t)
	remote.ServeBackend(r.mux, noBackend{})
	remote.ServeLog(r.mux, log)
	remote.Handle(r.mux, uiInitMethod, func(context.Context, struct{}) (uiInit, error) {
		return uiInit{StateDir: dir, Hostname: "fw", Addrs: []netip.AddrPort{addr}}, nil
	})
	return r, msgs
}

// freePort is a loopback port nothing listens on (the UI refuses port 0).
func freePort(t *testing.T) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return netip.MustParseAddrPort(ln.Addr().String())
}

// floorThreads sets every thread of the test process to policy, as
// carp/driver's floorProcess does to the daemon.
func floorThreads(t *testing.T, policy uint32, prio uint32) {
	t.Helper()
	for tid := range threadPolicies(t, os.Getpid()) {
		err := unix.SchedSetAttr(tid, &unix.SchedAttr{Policy: policy, Priority: prio}, 0)
		if err != nil && err != unix.ESRCH {
			t.Fatalf("thread %d: policy %d: %v", tid, policy, err)
		}
	}
}

// threadPolicies maps each thread of pid to its scheduling policy.
func threadPolicies(t *testing.T, pid int) map[int]uint32 {
	t.Helper()
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]uint32{}
	for _, e := range entries {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if attr, err := unix.SchedGetAttr(tid, 0); err == nil {
			out[tid] = attr.Policy
		}
	}
	return out
}

func wait(t *testing.T, msgs <-chan string, want string) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	var seen []string
	for {
		select {
		case m := <-msgs:
			if m == want {
				return
			}
			seen = append(seen, m)
		case <-timeout:
			t.Fatalf("no log line %q; saw %q", want, seen)
		}
	}
}

func waitExit(t *testing.T, exits <-chan struct{}) {
	t.Helper()
	select {
	case <-exits:
	case <-time.After(30 * time.Second):
		t.Fatal("onExit not called")
	}
}

// msgHandler sends each record's message to a channel.
type msgHandler struct{ c chan<- string }

func (h msgHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h msgHandler) Handle(_ context.Context, r slog.Record) error {
	select {
	case h.c <- r.Message:
	default:
	}
	return nil
}
func (h msgHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h msgHandler) WithGroup(string) slog.Handler      { return h }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// noBackend is a daemon with nothing to show.
type noBackend struct{}

func (noBackend) Running() (*config.Config, store.Version)    { return config.Default(), store.Version{} }
func (noBackend) Apply(context.Context, *config.Config) error { return webui.ErrUnavailable }
func (noBackend) Commit([]byte, store.Meta) (store.Version, error) {
	return store.Version{}, webui.ErrUnavailable
}
func (noBackend) History() ([]store.Version, error) { return nil, webui.ErrUnavailable }
func (noBackend) Version(uint64) ([]byte, store.Version, error) {
	return nil, store.Version{}, webui.ErrUnavailable
}
func (noBackend) Firewall() (webui.FirewallStatus, error) {
	return webui.FirewallStatus{}, webui.ErrUnavailable
}
func (noBackend) Interfaces() ([]webui.InterfaceStatus, error) { return nil, webui.ErrUnavailable }
func (noBackend) HA() webui.HAStatus                           { return webui.HAStatus{} }
func (noBackend) StateSync() webui.SyncStatus                  { return webui.SyncStatus{} }
func (noBackend) Conntrack(context.Context, webui.ConnQuery) (webui.ConnPage, error) {
	return webui.ConnPage{}, webui.ErrUnavailable
}
func (noBackend) Logs(uint64, int) []webui.LogLine { return nil }

// An early-started UI process (PID 1's early start) waits for its
// start-up data and becomes the runner's first life; one the daemon does
// not take is killed by Discard.
func TestEarlyUIProcess(t *testing.T) {
	t.Setenv(workerEnv, "1") // StartUIProcess passes the environment on
	ui, err := StartUIProcess(io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	early := ui.ch.pid
	spare, err := StartUIProcess(io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	sparePID := spare.ch.pid
	spare.Discard()
	spare.Discard() // twice is fine
	if err := unix.Kill(sparePID, 0); err != unix.ESRCH {
		t.Errorf("discarded UI process %d still there: %v", sparePID, err)
	}

	r, msgs := testRunner(t, io.Discard)
	r.early = ui
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go r.run(ctx)
	wait(t, msgs, "web UI listening")
	r.mu.Lock()
	pid := r.pid
	r.mu.Unlock()
	if pid != early {
		t.Errorf("the runner's UI process is %d, want the early one, %d", pid, early)
	}
	ui.Discard() // taken: a no-op
	if err := unix.Kill(early, 0); err != nil {
		t.Errorf("Discard after the take killed the runner's process: %v", err)
	}
	cancel()
	<-r.done
}
