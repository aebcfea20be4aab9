package browsertest

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"rampart/lab"
)

// The forwarded service: TCP 8080 on the firewall's WAN address goes to
// the client's port 80.
var (
	forwardedPort = netip.AddrPortFrom(lab.WANFirewallV4, 8080)
	clientService = netip.AddrPortFrom(lab.ClientV4, 80)
)

// TestPortForwardAndHistory adds a port forward through the UI, confirms
// it, and proves it with a real connection from the WAN; then diffs the
// two versions on the history page, reverts to the first, and proves the
// port is closed again.
func TestPortForwardAndHistory(t *testing.T) {
	needs(t)
	l := newLab(t, 1)
	fw := startFirewall(t, l, 0, singleConfig("60s"))
	b := newBrowser(t, forward(t, l, lab.LANGatewayV4))
	b.setUp(t, fw)

	srv, err := lab.ServeTCP(l.Client, clientService.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if r := lab.ProbeTCP(l.Server, forwardedPort, probeTimeout); r.Outcome == lab.Accepted {
		t.Fatalf("before the change: WAN to %s: %v, want it closed", forwardedPort, r)
	}

	b.open("/rules")
	b.shot("rules")
	b.open("/edit/port_forwards")
	b.fill(map[string]string{
		"in": "wan", "protocol": "tcp", "port": "8080", "to": lab.ClientV4.String(), "to_port": "80",
		"comment": "web server on the client", "message": "publish the client's web server",
	})
	b.must("log matches", chromedp.Click(chromedp.CSS(`input[name="log"]`), chromedp.NodeVisible))
	b.shot("edit-port-forward")
	b.mustSubmit(`form.edit button[type=submit]`)
	b.expect("/change", "Keep this change", "8080")
	b.shot("change")
	b.mustSubmit(`form[action="/change/confirm"] button[type=submit]`)
	b.expect("/", "confirmed")

	r := lab.ProbeTCP(l.Server, forwardedPort, probeTimeout)
	if r.Outcome != lab.Accepted || r.Peer.Addr() != lab.ServerV4 {
		t.Fatalf("after the change: WAN to %s: %v, want accepted with the server's own address seen", forwardedPort, r)
	}
	b.open("/connections")
	b.expect("/connections", lab.ServerV4.String())
	b.shot("connections")
	// The forwarded connection was logged: NFLOG to the daemon, one
	// parsed line in the live log.
	b.open("/log")
	value(b, "the live log shows the logged connection", chromedp.Poll[bool](
		`(document.getElementById("log")?.textContent ?? "").includes("port forward 1 (web server on the client) accept: in=wan (eth1) out=lan (eth0) tcp `+lab.ServerV4.String()+`:")`,
		chromedp.WithPollingInterval(250*time.Millisecond), chromedp.WithPollingTimeout(eventWait)))
	b.shot("log")
	stick, err := os.ReadFile(filepath.Join(fw.stick, "rampart.yaml"))
	if err != nil || !strings.Contains(string(stick), "8080") {
		t.Fatalf("the confirmed change is not on the stick (%v):\n%s", err, stick)
	}

	// History: version 1 (the seed... or the hand-written stick) and 2.
	b.open("/history")
	b.expect("/history", "publish the client's web server")
	b.mustSubmit(`button[form="diff-form"]`)
	b.expect("/history/diff", "+", "8080", "web server on the client")

	b.open("/history")
	b.mustSubmit(`form[action="/history/1/revert"] button[type=submit]`)
	b.expect("/change", "revert to version 1")
	b.mustSubmit(`form[action="/change/confirm"] button[type=submit]`)
	b.expect("/", "confirmed")
	if r := lab.ProbeTCP(l.Server, forwardedPort, probeTimeout); r.Outcome == lab.Accepted {
		t.Fatalf("after the revert: WAN to %s: %v, want it closed", forwardedPort, r)
	}
	b.open("/history")
	b.expect("/history", "revert to version 1")
	b.shot("history")
	b.mustSubmit(`button[form="diff-form"]`) // the two newest: the port forward goes
	b.expect("/history/diff", "-", "8080")
	b.shot("diff")
}
