package lab

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"testing"
	"time"
)

// daemonBinary is the rampart binary TestMain built, or "" with the reason
// in daemonMissing.
var (
	daemonBinary  string
	daemonMissing string
)

// runs holds the labs this test process made, so that an interrupted run
// still removes them (a SIGKILLed one leaves them to `rampart lab down`).
var runs = struct {
	sync.Mutex
	prefixes map[string]bool
}{prefixes: map[string]bool{}}

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		runs.Lock()
		for p := range runs.prefixes {
			_ = Sweep(p)
		}
		fmt.Fprintf(os.Stderr, "lab tests: %v: swept %d lab(s)\n", sig, len(runs.prefixes))
		os.Exit(2)
	}()
	if os.Geteuid() == 0 {
		dir, err := os.MkdirTemp("", "rampart-lab-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		daemonBinary, daemonMissing = buildDaemon(dir)
	}
	return m.Run()
}

// buildDaemon builds ./cmd/rampart, or says why it could not.
func buildDaemon(dir string) (string, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin, err := BuildDaemon(ctx, dir)
	if err != nil {
		return "", err.Error()
	}
	return bin, ""
}

// upTest brings a lab up for one test and takes it down after, on failure
// too. On failure it logs the daemons' logs.
func upTest(t *testing.T, nodes int) *Lab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the lab needs root")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l, err := Up(ctx, Options{Nodes: nodes, LogDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	runs.Lock()
	runs.prefixes[l.Prefix] = true
	runs.Unlock()
	t.Cleanup(func() {
		if t.Failed() {
			l.mu.Lock()
			nodes := l.nodes
			l.mu.Unlock()
			for _, n := range nodes {
				t.Logf("%s log (%s):\n%s", n.Name, n.LogPath, n.Tail(40))
			}
		}
		if err := l.Down(); err != nil {
			t.Errorf("Down: %v", err)
		}
		runs.Lock()
		delete(runs.prefixes, l.Prefix)
		runs.Unlock()
	})
	return l
}
