package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"testing"
	"time"

	"rampart/lab"
)

// chromiumPath is Debian's chromium, which `make test` installs.
const chromiumPath = "/usr/bin/chromium"

// The rampart binary TestMain built, or why there is none.
var (
	daemonBinary  string
	daemonMissing string
)

// labs holds the prefixes of the labs this process made, so an interrupt
// still removes them.
var labs = struct {
	sync.Mutex
	prefixes map[string]bool
}{prefixes: map[string]bool{}}

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		labs.Lock()
		for p := range labs.prefixes {
			_ = lab.Sweep(p)
		}
		fmt.Fprintf(os.Stderr, "browser tests: %v: swept %d lab(s)\n", sig, len(labs.prefixes))
		os.Exit(2)
	}()
	if os.Geteuid() == 0 {
		dir, err := os.MkdirTemp("", "rampart-browser-test-")
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
	bin, err := lab.BuildDaemon(ctx, dir)
	if err != nil {
		return "", err.Error()
	}
	return bin, ""
}

// needs skips a test that cannot run here: not root, or no chromium
// outside CI. In CI (CI set, as .ci/run does) a missing chromium fails:
// `make test` installs it, so its absence is a broken setup.
func needs(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("browser tests need root for the namespace lab")
	}
	if daemonBinary == "" {
		t.Fatalf("no daemon binary: %s", daemonMissing)
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s missing in CI: `make test` installs Debian's chromium (%v)", chromiumPath, err)
		}
		t.Skipf("%s missing: apt-get install chromium, or run make test", chromiumPath)
	}
}
