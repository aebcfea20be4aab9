package boot

import (
	"context"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestReadLateStart(t *testing.T) {
	for _, tc := range []struct {
		name, in, err string
	}{
		{"empty", "", "closed the pipe"},
		{"not json", "run --config x", "start arguments"},
		{"too long", `{"Args":["` + strings.Repeat("a", maxLateStart) + `"]}`, "over"},
	} {
		if _, err := ReadLateStart(strings.NewReader(tc.in)); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: err %v, want one with %q", tc.name, err, tc.err)
		}
	}
	ls, err := ReadLateStart(strings.NewReader(`{"Args":["--config","/stick/rampart.yaml"],"Env":["RAMPART_TEST_LATE=a=b"]}`))
	if err != nil || len(ls.Args) != 2 || ls.Args[1] != "/stick/rampart.yaml" {
		t.Fatalf("got %+v, %v", ls, err)
	}
	t.Setenv("RAMPART_TEST_LATE", "")
	if err := ls.Apply(); err != nil || os.Getenv("RAMPART_TEST_LATE") != "a=b" {
		t.Errorf("Apply: %v, env %q", err, os.Getenv("RAMPART_TEST_LATE"))
	}
	if err := (LateStart{Env: []string{"=x"}}).Apply(); err == nil {
		t.Error("Apply took an entry without a name")
	}
}

// The first start is early: the child runs at once with the early
// arguments and gets the real ones on fd 3 when the gate opens; a
// restart runs the real arguments directly, with the extra environment.
func TestSupervisorEarlyStart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	gate := make(chan struct{})
	started := make(chan string, 4)
	lines := make(chan string, 4)
	var mu sync.Mutex
	sent := false
	s := testSupervisor(t, child{
		path:     "/bin/sh",
		args:     func(restarts int) []string { return []string{"-c", `echo "msg=ready restart $EXTRA"; exit 1`} },
		extraEnv: func() []string { return []string{"EXTRA=stick"} },
		early: &earlyStart{
			args: []string{"-c", `echo "started"; echo "msg=ready early $(cat <&3)"; exit 1`},
			gate: gate,
			message: func() LateStart {
				mu.Lock()
				defer mu.Unlock()
				sent = true
				return LateStart{Args: []string{"--config", "c.yaml"}}
			},
		},
		out: io.Discard,
		onLine: func(restarts int, line string) {
			if line == "started" {
				started <- line
				return
			}
			lines <- line
			if restarts == 1 {
				cancel()
			}
		},
	}, &fakeClock{now: time.Unix(0, 0)})
	done := make(chan struct{})
	go func() { defer close(done); s.run(ctx) }()
	select {
	case <-started:
	case <-time.After(time.Minute):
		t.Fatal("the early child did not start before the gate opened")
	}
	mu.Lock()
	if sent {
		t.Error("arguments sent before the gate opened")
	}
	mu.Unlock()
	close(gate)
	for i, want := range []string{`msg=ready early {"Args":["--config","c.yaml"],"Env":null}`, "msg=ready restart stick"} {
		select {
		case got := <-lines:
			if got != want {
				t.Errorf("start %d printed %q, want %q", i, got, want)
			}
		case <-time.After(time.Minute):
			t.Fatalf("start %d printed nothing", i)
		}
	}
	<-done
}

// An early child that dies before the gate opens is restarted only once
// it has: the restart's arguments need the config PID 1 is still looking
// for.
func TestSupervisorEarlyDeathWaitsForGate(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	gate := make(chan struct{})
	var mu sync.Mutex
	open := false
	early := make(chan struct{})
	restarted := make(chan bool, 1)
	s := testSupervisor(t, child{
		path: "/bin/sh",
		args: func(int) []string {
			mu.Lock()
			defer mu.Unlock()
			restarted <- open
			cancel()
			return []string{"-c", "exit 0"}
		},
		early: &earlyStart{args: []string{"-c", "echo died; exit 1"}, gate: gate, message: func() LateStart { return LateStart{} }},
		out:   io.Discard,
		onLine: func(_ int, line string) {
			if line == "died" {
				close(early)
			}
		},
	}, &fakeClock{now: time.Unix(0, 0)})
	done := make(chan struct{})
	go func() { defer close(done); s.run(ctx) }()
	select {
	case <-early:
	case <-time.After(time.Minute):
		t.Fatal("the early child did not run")
	}
	select {
	case <-restarted:
		t.Fatal("restarted before the gate opened")
	case <-time.After(200 * time.Millisecond):
	}
	mu.Lock()
	open = true
	close(gate)
	mu.Unlock()
	select {
	case ok := <-restarted:
		if !ok {
			t.Error("restart saw the gate closed")
		}
	case <-time.After(time.Minute):
		t.Fatal("no restart after the gate opened")
	}
	<-done
}
