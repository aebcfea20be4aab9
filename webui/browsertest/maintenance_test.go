package browsertest

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/chromedp/chromedp"
)

// haConfig renders testdata/ha.yaml.tmpl for node i (0: fw-a, 1: fw-b).
func haConfig(t *testing.T, i int) []byte { return renderHA(t, "ha.yaml.tmpl", i) }

// renderHA renders an HA pair's template in testdata for node i.
func renderHA(t *testing.T, name string, i int) []byte {
	t.Helper()
	tmpl, err := template.ParseFiles(filepath.Join("testdata", name))
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

	// The dashboard follows a takeover by itself. Maintenance goes on
	// through the API from the open page; the page, never reloaded (the
	// mark survives), then shows fw-a as backup and fw-b as master, as
	// fw-b's adverts tell.
	b.open("/")
	b.expect("/", "Live: updates every")
	if !strings.Contains(b.text("#vhid-1 .ours"), "master") {
		t.Fatalf("fw-a is not master on its dashboard: %s", b.text("#vhid-1"))
	}
	value(b, "mark the page", chromedp.Evaluate[bool](`window.rampartNotReloaded = true`))
	markA = a.node.Mark()
	on := value(b, "enter maintenance from the page", chromedp.Evaluate[bool](
		`rampart.api("PUT", "/api/v1/maintenance", {enabled: true}).then(r => r.enabled)`, chromedp.EvalAwaitPromise))
	if !on {
		t.Fatal("PUT /api/v1/maintenance did not enable maintenance")
	}
	a.waitLog(t, markA, "to=backup")
	const followed = `window.rampartNotReloaded === true &&
		(document.querySelector("#vhid-1 .ours")?.textContent ?? "").includes("backup") &&
		(document.querySelector("#vhid-1 .peer")?.textContent ?? "").includes("master b")`
	value(b, "the dashboard shows the takeover without a reload", chromedp.Poll[bool](followed,
		chromedp.WithPollingInterval(250*time.Millisecond), chromedp.WithPollingTimeout(eventWait)))
	b.shot("dashboard-ha")

	// A hidden tab stops refreshing; shown again, it refreshes at once.
	// (Headless chromium is never hidden, so the test plays the browser's
	// part: document.hidden and the visibilitychange event.)
	const setHidden = `(h) => { Object.defineProperty(document, "hidden", {value: h, configurable: true});
		document.dispatchEvent(new Event("visibilitychange")); return document.getElementById("live-status").textContent; }`
	const fetches = `performance.getEntriesByType("resource").filter(e => e.name.endsWith("/dashboard/live")).length`
	if s := value(b, "hide the tab", chromedp.Evaluate[string]("("+setHidden+")(true)")); !strings.HasPrefix(s, "Paused") {
		t.Errorf("hidden: status %q", s)
	}
	before := value(b, "count refreshes", chromedp.Evaluate[int](fetches))
	value(b, "show the tab", chromedp.Evaluate[string]("("+setHidden+")(false)"))
	value(b, "a refresh on showing", chromedp.Poll[bool](fmt.Sprintf("%s > %d", fetches, before),
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(eventWait)))
}
