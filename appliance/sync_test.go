package appliance

import (
	"net/netip"
	"os"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rampart/config"
)

func loadExample(t *testing.T, name string) *config.Config {
	t.Helper()
	b, err := os.ReadFile("../examples/" + name)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(name, b)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestSyncSettings(t *testing.T) {
	cfg := loadExample(t, "ha-b.yaml")
	got, err := syncSettingsOf(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := syncSettings{local: netip.MustParseAddr("192.168.255.2"), peer: netip.MustParseAddr("192.168.255.1"),
		port: config.DefaultStateSyncPort, secret: cfg.StateSync.Secret}
	if got != want {
		t.Errorf("settings = %+v, want %+v", got, want)
	}
	cfg.StateSync.Interface = "dmz"
	if _, err := syncSettingsOf(cfg); err == nil {
		t.Error("no error for a missing sync interface")
	}
}

func TestSyncFilter(t *testing.T) {
	cfg := loadExample(t, "ha-a.yaml")
	cfg.StateSync.Ignore = []netip.Prefix{netip.MustParsePrefix("10.9.0.0/16")}
	f := syncFilter(cfg)
	for _, a := range []string{"192.168.1.2", "203.0.113.2", "192.168.255.1", "192.168.1.1", "203.0.113.1", "2001:db8:2::1"} {
		if !slices.Contains(f.Local, netip.MustParseAddr(a)) {
			t.Errorf("%s is not local in %v", a, f.Local)
		}
	}
	want := []netip.Prefix{netip.MustParsePrefix("192.168.255.0/30"), netip.MustParsePrefix("10.9.0.0/16")}
	if diff := cmp.Diff(want, f.Ignore, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("ignore (-want +got):\n%s", diff)
	}
}

// TestSyncStatusNotRunning: a configured section without a node says so.
func TestSyncStatusNotRunning(t *testing.T) {
	d := &Daemon{}
	if st := d.syncStatus(nil); st.Enabled {
		t.Errorf("no config: %+v", st)
	}
	st := d.syncStatus(loadExample(t, "ha-a.yaml"))
	if !st.Enabled || st.Connected || st.LastError == "" {
		t.Errorf("not running: %+v; want enabled, not connected, with an error", st)
	}
}
