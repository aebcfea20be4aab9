package browsertest

import (
	"bytes"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
)

// haConfig renders testdata/ha.yaml.tmpl for node i (0: fw-a, 1: fw-b).
func haConfig(t *testing.T, i int) []byte {
	t.Helper()
	tmpl, err := template.ParseFiles(filepath.Join("testdata", "ha.yaml.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	err = tmpl.Execute(&b, map[string]any{
		"Node": string(rune('a' + i)), "Host": 2 + i, "Sync": 1 + i, "PeerSync": 2 - i, "Priority": 200 - 100*i,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// fwaLAN is fw-a's own LAN address, where its UI listens (the VIP moves).
var fwaLAN = netip.MustParseAddr("192.168.1.2")

// TestMaintenanceMovesMaster: the maintenance button on the master's HA
// page hands the VIPs to the peer at once, is stored on the stick, and
// leaving maintenance takes them back (preemption).
func TestMaintenanceMovesMaster(t *testing.T) {
	needs(t)
	l := newLab(t, 2)
	a := startFirewall(t, l, 0, haConfig(t, 0))
	a.waitLog(t, 0, "to=master")
	bnode := startFirewall(t, l, 1, haConfig(t, 1))
	bnode.waitLog(t, 0, "to=backup")

	b := newBrowser(t, forward(t, l, fwaLAN))
	b.setUp(t, a)
	b.open("/ha")
	b.expect("/ha", "Enter maintenance mode", "master")
	b.shot("ha")

	markA, markB := a.node.Mark(), bnode.node.Mark()
	b.mustSubmit(`form[action="/maintenance"] button[type=submit]`)
	b.expect("/ha", "Leave maintenance mode")
	bnode.waitLog(t, markB, "to=master")
	a.waitLog(t, markA, "to=backup")
	b.open("/ha")
	b.expect("/ha", "in maintenance")
	b.shot("ha-maintenance")
	stick, err := os.ReadFile(filepath.Join(a.stick, "rampart.yaml"))
	if err != nil || !strings.Contains(string(stick), "maintenance: true") {
		t.Fatalf("maintenance is not on fw-a's stick (%v):\n%s", err, stick)
	}

	markA = a.node.Mark()
	b.mustSubmit(`form[action="/maintenance"] button[type=submit]`)
	b.expect("/ha", "Enter maintenance mode")
	a.waitLog(t, markA, "to=master")
}
