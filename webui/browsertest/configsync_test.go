package browsertest

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rampart/lab"
)

// haSyncConfig renders testdata/ha-sync.yaml.tmpl for node i.
func haSyncConfig(t *testing.T, i int) []byte { return renderHA(t, "ha-sync.yaml.tmpl", i) }

// TestConfigSyncToPeer: a port forward confirmed on the master's UI is
// pushed to the backup over the authenticated sync link; the backup
// merges, applies and stores it, both dashboards say the shared configs
// match, and when the master stops, the backup serves the forward.
func TestConfigSyncToPeer(t *testing.T) {
	needs(t)
	l := newLab(t, 2)
	a := startFirewall(t, l, 0, haSyncConfig(t, 0))
	bnode := startFirewall(t, l, 1, haSyncConfig(t, 1))
	a.waitLog(t, 0, "to=master")
	bnode.waitLog(t, 0, "to=backup")
	a.waitLog(t, 0, "state sync: connected to peer")

	srv, err := lab.ServeTCP(l.Client, clientService.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })

	b := newBrowser(t, forward(t, l, fwaLAN))
	b.setUp(t, a)
	markB := bnode.node.Mark()
	b.open("/edit/port_forwards")
	b.fill(map[string]string{
		"in": "wan", "protocol": "tcp", "port": "8080", "to": lab.ClientV4.String(), "to_port": "80",
		"comment": "web server on the client", "message": "publish the client's web server",
	})
	b.mustSubmit(`form.edit button[type=submit]`)
	b.expect("/change", "Keep this change", "8080")
	b.mustSubmit(`form[action="/change/confirm"] button[type=submit]`)
	b.expect("/", "confirmed")

	line := bnode.waitLog(t, markB, "config sync: push from the peer")
	if !strings.Contains(line, "applied=true") {
		t.Fatalf("fw-b did not apply the push: %s\n%s", line, bnode.node.Tail(20))
	}
	stick, err := os.ReadFile(filepath.Join(bnode.stick, "rampart.yaml"))
	if err != nil || !strings.Contains(string(stick), "8080") || !strings.Contains(string(stick), "node_id: b") {
		t.Fatalf("fw-b's stick lacks the pushed forward or lost its own node id (%v):\n%s", err, stick)
	}
	b.open("/")
	b.expect("/", "both nodes run the same shared config")
	b.shot("dashboard-config-sync")

	// fw-b serves the forward once fw-a is gone.
	if err := a.node.Stop(); err != nil {
		t.Logf("fw-a stop: %v", err)
	}
	bnode.waitLog(t, markB, "to=master")
	vip := netip.AddrPortFrom(lab.WANVIPV4, 8080)
	if r := lab.ProbeTCP(l.Server, vip, probeTimeout); r.Outcome != lab.Accepted {
		t.Fatalf("after failover: WAN to %s through fw-b: %v, want accepted", vip, r)
	}
}
