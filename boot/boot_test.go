package boot

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"rampart/config"
	"rampart/config/store"
)

func TestNextDelay(t *testing.T) {
	for _, tc := range []struct {
		last, ran, want time.Duration
	}{
		{0, 0, restartMin},
		{restartMin, time.Second, 2 * restartMin},
		{8 * time.Second, 0, 16 * time.Second},
		{20 * time.Second, 0, restartMax},
		{restartMax, 0, restartMax},
		{restartMax, restartStable, restartMin}, // it was healthy: start over
	} {
		if got := nextDelay(tc.last, tc.ran); got != tc.want {
			t.Errorf("nextDelay(%v, %v) = %v, want %v", tc.last, tc.ran, got, tc.want)
		}
	}
}

func TestCmdlineFlag(t *testing.T) {
	cl := "console=ttyS0,115200n8 console=tty0 panic=5 quiet rampart.testwrites rampart.x=1\n"
	for _, tc := range []struct {
		key, val string
		ok       bool
	}{
		{"panic", "5", true},
		{"quiet", "", true},
		{TestWritesFlag, "", true},
		{"rampart.x", "1", true},
		{"rampart.debug", "", false},
		{"console", "ttyS0,115200n8", true},
	} {
		v, ok := cmdlineFlag(cl, tc.key)
		if v != tc.val || ok != tc.ok {
			t.Errorf("cmdlineFlag(%q) = %q, %v; want %q, %v", tc.key, v, ok, tc.val, tc.ok)
		}
	}
}

func TestLineMatchers(t *testing.T) {
	if !isReady(`time=2026-01-01T00:00:00Z level=INFO msg=ready hostname=fw config="store /stick"`) {
		t.Error("ready line not seen")
	}
	if isReady(`time=x level=INFO msg="ready or not"`) {
		t.Error("a message starting with ready taken for ready")
	}
	if !isWebUIUp(`time=x level=INFO msg="web UI listening" urls=https://10.0.2.15/ sha256=AB`) {
		t.Error("web UI line not seen")
	}
}

// Test versions are valid configs, each different, at least the padding
// in size: the power-cut test relies on all three.
func TestTestVersion(t *testing.T) {
	base := config.DefaultYAML()
	a, b := testVersion(base, 1), testVersion(base, 2)
	if bytes.Equal(a, b) {
		t.Error("two test versions are equal")
	}
	if len(a) < TestWritePadding {
		t.Errorf("test version is %d bytes, want at least %d", len(a), TestWritePadding)
	}
	if _, err := config.Parse(store.CurrentFile, a); err != nil {
		t.Errorf("test version does not parse: %v", err)
	}
}

// fakeClock fires every timer at once, so backoff costs no time.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	waited []time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waited = append(c.waited, d)
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

// The supervisor restarts a crashing child with growing delays, hands
// each start's output lines over with its restart count, and the reaper
// gives it each exit status.
func TestSupervisorRestarts(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var starts []string
	clock := &fakeClock{now: time.Unix(0, 0)}
	s := testSupervisor(t, child{
		path: "/bin/sh",
		args: func(restarts int) []string {
			return []string{"-c", fmt.Sprintf("echo 'level=INFO msg=ready start=%d'; exit 3", restarts)}
		},
		out: io.Discard,
		onLine: func(restarts int, line string) {
			mu.Lock()
			defer mu.Unlock()
			starts = append(starts, line)
			if len(starts) == 3 {
				cancel()
			}
		},
	}, clock)
	done := make(chan struct{})
	go func() { defer close(done); s.run(ctx) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("supervisor did not stop")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(starts) < 3 {
		t.Fatalf("saw %d starts, want 3: %q", len(starts), starts)
	}
	for i, l := range starts[:3] {
		if want := fmt.Sprintf("start=%d", i); !bytes.Contains([]byte(l), []byte(want)) || !isReady(l) {
			t.Errorf("start %d printed %q", i, l)
		}
	}
	clock.mu.Lock()
	defer clock.mu.Unlock()
	if len(clock.waited) < 2 || clock.waited[0] != restartMin || clock.waited[1] != 2*restartMin {
		t.Errorf("backoff waits %v, want %v then %v", clock.waited, restartMin, 2*restartMin)
	}
}

// testSupervisor runs c with a reaper of its own, stopped when t ends.
func testSupervisor(t *testing.T, c child, clock Clock) *supervisor {
	t.Helper()
	r := newReaper()
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go r.run(stop)
	return &supervisor{c: c, r: r, log: slog.New(slog.NewTextHandler(io.Discard, nil)), clock: clock}
}

// A child that exits before start returns is still handed back.
func TestReaperFastExit(t *testing.T) {
	s := testSupervisor(t, child{path: "/bin/sh", args: func(int) []string { return []string{"-c", "exit 7"} }, out: io.Discard}, realClock{})
	for i := 0; i < 20; i++ {
		err := s.once(context.Background(), 0)
		if err == nil || err.Error() != "exit status 7" {
			t.Fatalf("run %d: %v, want exit status 7", i, err)
		}
	}
}

func TestSplitUSBHosts(t *testing.T) {
	pci := []string{
		"pci:v00008086d00001237sv00001AF4sd00001100bc06sc00i00",
		"pci:v00001B36d0000000Dsv00001AF4sd00001100bc0Csc03i30", // xHCI
		"pci:v00001AF4d00001000sv00001AF4sd00000001bc02sc00i00",
		"pci:v00008086d000024CDsv00001AF4sd00001100bc0Csc03i20", // EHCI
	}
	usb, others := splitUSBHosts(pci)
	if len(usb) != 2 || usb[0] != pci[1] || usb[1] != pci[3] || len(others) != 2 {
		t.Errorf("usb %q, others %q", usb, others)
	}
}
