package vmtest

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"rampart/config"
	"rampart/firewall"
	"rampart/image"
)

// The image every test boots, built once by TestMain.
var (
	built    *image.Result
	skipWhy  string
	buildErr error
)

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "rampart-vmtest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	switch missing := Missing(); {
	case testing.Short():
		skipWhy = "boots VMs; not in -short"
	case len(missing) > 0:
		skipWhy = "missing Debian packages (make test installs them): " + strings.Join(missing, " ")
	default:
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		start := time.Now()
		built, buildErr = Build(ctx, dir, slog.New(slog.NewTextHandler(os.Stderr, nil)))
		cancel()
		fmt.Fprintf(os.Stderr, "vmtest: image built in %v\n", time.Since(start).Round(time.Second))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// needImage skips or fails the test when the image is not there.
func needImage(t *testing.T) *image.Result {
	t.Helper()
	if skipWhy != "" {
		t.Skip(skipWhy)
	}
	if buildErr != nil {
		t.Fatalf("building the image: %v", buildErr)
	}
	return built
}

// Every wait on a console line is bounded by one of these. They are
// generous: TCG on a loaded 2-core machine boots in 10 to 30 s.
const (
	bootTimeout = 3 * time.Minute
	stepTimeout = time.Minute
)

// boot starts a VM for the test and stops it when the test ends. The
// console goes to a file, and its end into the test log on failure.
func boot(t *testing.T, o Options) *VM {
	t.Helper()
	res := needImage(t)
	if o.ISO == "" {
		o.ISO = res.ISO
	}
	o.Dir = t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	probe := Options{ISO: res.ISO, Firmware: BIOS, Boot: CD, Dir: t.TempDir()}
	o.Accel = Accel(ctx, probe)
	logf, err := os.Create(filepath.Join(o.Dir, "console.log"))
	if err != nil {
		t.Fatal(err)
	}
	o.Console = logf
	vm, err := Start(ctx, o)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Logf("booting %s from %s with %s (accel %s)", o.Firmware, o.Boot, filepath.Base(o.Stick), o.Accel)
	t.Cleanup(func() {
		vm.Kill()
		cancel()
		logf.Close()
		if t.Failed() {
			t.Logf("console (end):\n%s\nqemu: %s", tail(vm.Console(), 80), vm.Stderr())
		}
	})
	return vm
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// expect waits for a console line or fails the test.
func expect(t *testing.T, vm *VM, re string, timeout time.Duration) []string {
	t.Helper()
	m, err := vm.WaitFor(regexp.MustCompile(re), timeout)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// stickConfig is distinct from the embedded default: its own hostname,
// and an alias whose addresses make the set elements differ.
const stickConfig = `schema_version: 1
hostname: sticktest
interfaces:
  lan:
    device: eth0
    addresses: [10.0.2.15/24]
aliases:
  admins:
    addresses: [10.0.2.2, 10.0.2.3, 10.0.2.4, 10.0.2.5, 10.0.2.6]
rules:
  - comment: ssh to the firewall from the admins
    chain: input
    from: { interface: lan, alias: admins }
    protocol: tcp
    to: { ports: [22] }
    action: accept
  - comment: LAN clients may reach anything
    from: { interface: lan }
    action: accept
management:
  interfaces: [lan]
`

// makeStick writes a config stick with stickConfig as rampart.yaml.
func makeStick(t *testing.T, partitioned bool) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "stick.img")
	s := Stick{Partitioned: partitioned, Files: map[string][]byte{"rampart.yaml": []byte(stickConfig)}}
	if err := s.Make(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// expectBooted checks what every boot shows: rampart is PID 1 and the
// modules loaded without a failure.
func expectBooted(t *testing.T, vm *VM) {
	t.Helper()
	expect(t, vm, `msg="rampart booting" .*pid=1 `, bootTimeout)
	expect(t, vm, `msg="modules loaded" .*failed=0 `, stepTimeout)
}

var rulesetLine = regexp.MustCompile(`msg=ruleset .*table=inet/(rampart\S*) chains=(\d+) rules=(\d+) sets=(\d+) elements=(\d+)`)

// expectRuleset waits for the appliance and checks that the set elements
// in force, read back from the kernel, are those cfg compiles to.
func expectRuleset(t *testing.T, vm *VM, cfg *config.Config) {
	t.Helper()
	expect(t, vm, `msg="appliance ready"`, stepTimeout)
	// PID 1 prints one line per table after "appliance ready".
	expect(t, vm, `msg=ruleset .*table=inet/rampart_nat `, stepTimeout)
	rs, err := firewall.Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for _, m := range vm.Lines(rulesetLine) {
		n, _ := strconv.Atoi(m[5])
		got += n
	}
	if want := rs.Elements(); got != want {
		t.Errorf("set elements in force: got %d, want %d (the config's)", got, want)
	}
}

func mustParse(t *testing.T, yaml string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("rampart.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
