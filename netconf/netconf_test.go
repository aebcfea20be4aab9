package netconf

import (
	"net/netip"
	"os"
	"strings"
	"testing"

	"rampart/config"
	"rampart/internal/netns"
)

func TestApplyInNamespace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	prefix := netns.NewPrefix()
	ns, err := netns.New(prefix + "-nc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = netns.Sweep(prefix) })
	if err := ns.Run("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "peer0"); err != nil {
		t.Fatal(err)
	}
	gw := netip.MustParseAddr("192.0.2.254")
	cfg := &config.Config{Interfaces: map[string]*config.Interface{
		"lan":     {Device: "eth0", Addresses: []config.IfAddr{netip.MustParsePrefix("192.0.2.1/24"), netip.MustParsePrefix("2001:db8::1/64")}, Gateway: &gw},
		"missing": {Device: "nosuch0"},
	}}
	nc := New(0)
	var applyErr error
	if err := ns.Do(func() error { applyErr = nc.Apply(cfg); return nil }); err != nil {
		t.Fatal(err)
	}
	if applyErr == nil || !strings.Contains(applyErr.Error(), "nosuch0") {
		t.Fatalf("Apply error = %v, want one naming the missing device", applyErr)
	}
	addrs, err := ns.Output("ip", "-br", "addr", "show", "eth0")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"192.0.2.1/24", "2001:db8::1/64"} {
		if !strings.Contains(addrs, want) {
			t.Errorf("eth0 lacks %s: %s", want, addrs)
		}
	}
	routes, _ := ns.Output("ip", "route", "show", "default")
	if !strings.Contains(routes, "via 192.0.2.254 dev eth0") {
		t.Errorf("default route = %q", routes)
	}
	fwd, _ := ns.Output("sysctl", "-n", "net.ipv4.ip_forward")
	if strings.TrimSpace(fwd) != "1" {
		t.Errorf("ip_forward = %q, want 1", fwd)
	}

	// A second config drops the IPv6 address: ours goes, a foreign one stays.
	if err := ns.Run("ip", "addr", "add", "198.51.100.7/24", "dev", "eth0"); err != nil {
		t.Fatal(err)
	}
	cfg.Interfaces["lan"].Addresses = cfg.Interfaces["lan"].Addresses[:1]
	delete(cfg.Interfaces, "missing")
	if err := ns.Do(func() error { return nc.Apply(cfg) }); err != nil {
		t.Fatal(err)
	}
	addrs, _ = ns.Output("ip", "-br", "addr", "show", "eth0")
	if strings.Contains(addrs, "2001:db8::1/64") {
		t.Errorf("dropped address still there: %s", addrs)
	}
	if !strings.Contains(addrs, "198.51.100.7/24") || !strings.Contains(addrs, "192.0.2.1/24") {
		t.Errorf("kept addresses missing: %s", addrs)
	}
	// Applying the same config again changes nothing and fails nothing.
	if err := ns.Do(func() error { return nc.Apply(cfg) }); err != nil {
		t.Fatal(err)
	}
}
