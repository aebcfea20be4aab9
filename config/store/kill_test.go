//go:build linux

package store

import (
	"rampart/internal/atomicfile"

	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The kill test: this test binary re-executes itself as a writer that saves
// versions in a loop, SIGKILLs it at a random moment, and then loads. The
// load must return exactly the last acknowledged version or the one after.
const (
	envWriter   = "RAMPART_STORE_KILL_WRITER" // set: be the writer for this dir
	envRuns     = "RAMPART_STORE_KILL_RUNS"   // override the number of runs
	envSeed     = "RAMPART_STORE_KILL_SEED"   // reproduce a failing run
	defaultRuns = 200
	killKeep    = 4
	// Bounds so a broken writer or parent cannot hang the suite.
	writerMaxSaves = 100_000
	writerMaxTime  = 30 * time.Second
	parentTimeout  = 20 * time.Second
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(envWriter); dir != "" {
		os.Exit(runWriter(dir))
	}
	os.Exit(m.Run())
}

// killData is the config of sequence number seq: it names seq and the hash
// of a payload whose size cycles small, medium and large (64-128 KiB, so
// kills land mid-write).
func killData(seq uint64) []byte {
	r := rand.New(rand.NewPCG(seq, 0x5eed))
	var n int
	switch seq % 3 {
	case 0:
		n = r.IntN(1 << 10)
	case 1:
		n = r.IntN(16 << 10)
	default:
		n = 64<<10 + r.IntN(64<<10)
	}
	payload := make([]byte, n)
	for i := range payload {
		payload[i] = byte('a' + r.IntN(26))
	}
	return append(fmt.Appendf(nil, "seq: %d\nsha256: %s\n", seq, hashOf(payload)), payload...)
}

// killSeq is Load's validator: data must be exactly killData of its seq.
func killSeq(data []byte) (uint64, error) {
	line, _, _ := bytes.Cut(data, []byte{'\n'})
	seq, err := strconv.ParseUint(strings.TrimPrefix(string(line), "seq: "), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("no seq line: %q", line)
	}
	if !bytes.Equal(data, killData(seq)) {
		return 0, fmt.Errorf("data for seq %d is not what the writer wrote", seq)
	}
	return seq, nil
}

func validKill(data []byte) error { _, err := killSeq(data); return err }

// runWriter continues the sequence on disk and acknowledges each completed
// Save on stdout with "saved SEQ".
func runWriter(dir string) int {
	s, err := Open(dir, Options{Keep: killKeep})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var seq uint64
	data, _, err := s.Load(validKill)
	switch {
	case err == nil:
		seq, _ = killSeq(data)
	case !errors.Is(err, ErrNotFound):
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	os.Stdout.WriteString("ready\n")
	deadline := time.Now().Add(writerMaxTime)
	for i := 0; i < writerMaxSaves && time.Now().Before(deadline); i++ {
		seq++
		if _, err := s.Save(killData(seq), Meta{Author: "writer", Message: fmt.Sprint(seq)}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		fmt.Fprintf(os.Stdout, "saved %d\n", seq)
	}
	return 0
}

// killStats shows where the kills landed.
type killStats struct {
	runs, beforeReady, tempLeft, staleCurrent, noSave int
	// known is the newest seq known to be on disk: the last one the writer
	// acknowledged or the parent loaded. A load must return known or the
	// one after (saved but killed before the acknowledgement).
	known  uint64
	saved  bool // known is set
	lastID uint64
}

func TestKillWriter(t *testing.T) {
	runs, seed := defaultRuns, uint64(time.Now().UnixNano())
	if v, err := strconv.Atoi(os.Getenv(envRuns)); err == nil {
		runs = v
	}
	if v, err := strconv.ParseUint(os.Getenv(envSeed), 10, 64); err == nil {
		seed = v
	}
	t.Logf("%d runs, seed %d (reproduce: %s=%d)", runs, seed, envSeed, seed)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 0))
	dir := t.TempDir()
	var st killStats
	for run := range runs {
		acks := killOnce(t, exe, dir, rng, &st)
		if len(acks) > 0 {
			st.saved, st.known = true, acks[len(acks)-1]
		}
		if err := checkAfterKill(dir, len(acks) > 0, &st); err != nil {
			t.Fatalf("run %d (seed %d): %v", run, seed, err)
		}
		st.runs++
	}
	t.Logf("%d runs: %d killed before ready, %d left a temp file, %d left rampart.yaml stale, %d with no save; last seq %d, id %d",
		st.runs, st.beforeReady, st.tempLeft, st.staleCurrent, st.noSave, st.known, st.lastID)
}

// killOnce starts a writer, kills it at a random moment, and returns the
// sequence numbers it acknowledged.
func killOnce(t *testing.T, exe, dir string, rng *rand.Rand, st *killStats) []uint64 {
	t.Helper()
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), envWriter+"="+dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1024)
	go func() {
		defer close(lines)
		for sc := bufio.NewScanner(stdout); sc.Scan(); {
			lines <- sc.Text()
		}
	}()
	timeout := time.After(parentTimeout)
	var acks []uint64
	if rng.IntN(10) == 0 { // now and then, kill during start-up and Open
		st.beforeReady++
		<-time.After(time.Duration(rng.IntN(5000)) * time.Microsecond)
	} else {
		waitReady(t, lines, timeout, &stderr)
		<-time.After(time.Duration(rng.IntN(30000)) * time.Microsecond)
	}
	cmd.Process.Kill()
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				checkKilled(t, cmd.Wait(), &stderr)
				return acks
			}
			if n, err := strconv.ParseUint(strings.TrimPrefix(line, "saved "), 10, 64); err == nil {
				acks = append(acks, n)
			}
		case <-timeout:
			t.Fatalf("writer output did not end after the kill")
		}
	}
}

func waitReady(t *testing.T, lines <-chan string, timeout <-chan time.Time, stderr *bytes.Buffer) {
	t.Helper()
	select {
	case line := <-lines:
		if line != "ready" {
			t.Fatalf("writer said %q, want ready; stderr: %s", line, stderr)
		}
	case <-timeout:
		t.Fatalf("writer not ready")
	}
}

// checkKilled fails unless the writer died of our SIGKILL.
func checkKilled(t *testing.T, err error, stderr *bytes.Buffer) {
	t.Helper()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return
		}
	}
	t.Fatalf("writer ended with %v, not by SIGKILL; stderr: %s", err, stderr)
}

// checkAfterKill opens and loads like the boot code does, and checks that
// nothing acknowledged was lost and nothing torn is returned.
func checkAfterKill(dir string, acked bool, st *killStats) error {
	if temps, _ := filepath.Glob(filepath.Join(dir, "*", atomicfile.TempPrefix+"*")); len(temps) > 0 {
		st.tempLeft++
	} else if temps, _ := filepath.Glob(filepath.Join(dir, atomicfile.TempPrefix+"*")); len(temps) > 0 {
		st.tempLeft++
	}
	var p problems
	s, err := Open(dir, Options{Keep: killKeep, Report: p.report})
	if err != nil {
		return err
	}
	data, v, err := s.Load(validKill)
	if err != nil {
		if st.saved || !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("Load after seq %d was saved: %w", st.known, err)
		}
		st.noSave++
		return nil
	}
	seq, _ := killSeq(data)
	if st.saved && (seq < st.known || seq > st.known+1) || !st.saved && seq != 1 {
		return fmt.Errorf("loaded seq %d, known saved %d (%v)", seq, st.known, st.saved)
	}
	st.saved, st.known = true, seq
	if v.ID < st.lastID || v.Meta.Author != "writer" || len(p) > 0 {
		return fmt.Errorf("loaded version %+v after id %d; reported %q", v, st.lastID, p)
	}
	st.lastID = v.ID
	if cur, _ := os.ReadFile(filepath.Join(dir, CurrentFile)); !bytes.Equal(cur, data) {
		st.staleCurrent++
	}
	return checkHistory(dir, s, v, acked)
}

// checkHistory wants no temp files and the loaded version first. An
// acknowledged Save had pruned, so after it there is at most one version
// over Keep (saved, then killed before pruning); kills in a row before
// pruning may pile up more, and the next completed Save removes them.
func checkHistory(dir string, s *Store, loaded Version, acked bool) error {
	temps, _ := filepath.Glob(filepath.Join(dir, "*", atomicfile.TempPrefix+"*"))
	list, err := s.List()
	if err != nil || len(temps) > 0 {
		return fmt.Errorf("List: %v; temp files left after Open: %q", err, temps)
	}
	if len(list) == 0 || list[0].ID != loaded.ID || acked && len(list) > killKeep+1 {
		return fmt.Errorf("history %v, loaded id %d", ids(list), loaded.ID)
	}
	return nil
}
