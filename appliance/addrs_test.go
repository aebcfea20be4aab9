package appliance

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rampart/config"
)

func TestManagementAddrs(t *testing.T) {
	cfg, err := config.Parse("test", []byte(`schema_version: 1
hostname: fw
interfaces:
  lan: {device: eth0, addresses: [192.168.1.1/24, fd00:1::1/64, fe80::1/64]}
  wan: {device: eth1, addresses: [203.0.113.2/24]}
  dmz: {device: eth2, addresses: [10.0.0.1/24]}
management: {interfaces: [lan, dmz]}
webui: {port: 8443}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.AddrPort{
		netip.MustParseAddrPort("10.0.0.1:8443"),
		netip.MustParseAddrPort("192.168.1.1:8443"),
		netip.MustParseAddrPort("[fd00:1::1]:8443"),
		netip.MustParseAddrPort("[fe80::1%eth0]:8443"),
	}
	if diff := cmp.Diff(want, managementAddrs(cfg), cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
		t.Errorf("addresses (-want +got):\n%s", diff)
	}
	if got := urls(want[1:3], "/setup"); !cmp.Equal(got, []string{"https://192.168.1.1:8443/setup", "https://[fd00:1::1]:8443/setup"}) {
		t.Errorf("urls = %q", got)
	}
}

func TestStateDirFor(t *testing.T) {
	for _, tc := range []struct{ config, stateDir, want string }{
		{"/stick/rampart.yaml", "", "/stick"},
		{"/etc/fw.yaml", "", ""},
		{"/etc/fw.yaml", "/var/lib/rampart", "/var/lib/rampart"},
		{"", "", ""},
	} {
		if got := stateDirFor(tc.config, tc.stateDir); got != tc.want {
			t.Errorf("stateDirFor(%q, %q) = %q, want %q", tc.config, tc.stateDir, got, tc.want)
		}
	}
}

// TestSourceSeedsTheStore: a --config elsewhere seeds an empty store once;
// after that the store is in force.
func TestSourceSeedsTheStore(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "fw.yaml")
	if err := os.WriteFile(file, config.DefaultYAML(), 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "state")
	src, err := openSource(file, state, testLogger(newLogRing()))
	if err != nil {
		t.Fatal(err)
	}
	cfg, v, err := src.load()
	if err != nil || v.ID != 1 || cfg.Hostname != "rampart" || v.Meta.Source != "seed" {
		t.Fatalf("first load: %v, version %+v", err, v)
	}
	// The file changes; the store stays in force.
	if err := os.WriteFile(file, []byte("not: [valid"), 0o600); err != nil {
		t.Fatal(err)
	}
	src, err = openSource(file, state, testLogger(newLogRing()))
	if err != nil {
		t.Fatalf("reopen with a broken seed file: %v", err)
	}
	if _, v, err := src.load(); err != nil || v.ID != 1 {
		t.Fatalf("second load: %v, version %+v, want version 1", err, v)
	}
}

func TestSourceRefusesABadSeed(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(file, []byte("schema_version: 1\nbogus: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := openSource(file, filepath.Join(dir, "state"), testLogger(newLogRing())); err == nil {
		t.Fatal("a bad seed file was accepted")
	}
}

// TestSourceStick: rampart.yaml in its own directory is a store; a hand
// edit is recorded as a version.
func TestSourceStick(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "rampart.yaml")
	if err := os.WriteFile(file, config.DefaultYAML(), 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := openSource(file, "", testLogger(newLogRing()))
	if err != nil {
		t.Fatal(err)
	}
	if src.dir != dir {
		t.Errorf("state dir %q, want %q", src.dir, dir)
	}
	_, v, err := src.load()
	if err != nil || v.ID != 1 {
		t.Fatalf("load: %v, version %+v", err, v)
	}
}

func TestPlainFileHasNoStore(t *testing.T) {
	file := filepath.Join(t.TempDir(), "fw.yaml")
	if err := os.WriteFile(file, config.DefaultYAML(), 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := openSource(file, "", testLogger(newLogRing()))
	if err != nil || src.st != nil {
		t.Fatalf("openSource: %v, store %v; want no store", err, src.st)
	}
	if _, v, err := src.load(); err != nil || v.ID != 0 {
		t.Fatalf("load: %v, version %+v", err, v)
	}
}

// TestSourceReloadRejectsABadHandEdit: SIGHUP after a broken edit of the
// stick's rampart.yaml is refused; a start falls back to the last good one.
func TestSourceReloadRejectsABadHandEdit(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "rampart.yaml")
	if err := os.WriteFile(file, config.DefaultYAML(), 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := openSource(file, "", testLogger(newLogRing()))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := src.load(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("schema_version: 1\nhostname: x\nbogus: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := src.reload(); err == nil {
		t.Error("reload accepted a broken hand edit")
	}
	if _, v, err := src.load(); err != nil || v.ID != 1 {
		t.Errorf("start after a broken hand edit: %v, version %+v; want version 1", err, v)
	}
}
