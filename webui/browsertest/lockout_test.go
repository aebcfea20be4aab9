package browsertest

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rampart/lab"
)

// revertedLine is what the UI logs when a change times out and reverts.
const revertedLine = "change not confirmed in time; reverted"

// TestLockoutRevertsItself makes the classic mistake through the UI: a
// port forward of HTTPS arriving on the LAN to an internal host. It
// catches the admin's own connections to the UI, so the confirmation can
// never arrive; the change reverts at its deadline and the UI answers
// again, with nothing of the change stored.
func TestLockoutRevertsItself(t *testing.T) {
	needs(t)
	l := newLab(t, 1)
	fw := startFirewall(t, l, 0, singleConfig("30s"))
	b := newBrowser(t, forward(t, l, lab.LANGatewayV4))
	b.setUp(t, fw)

	mark := fw.node.Mark()
	b.open("/edit/port_forwards")
	b.fill(map[string]string{
		"in": "lan", "protocol": "tcp", "port": "443", "to": "192.168.1.50",
		"comment": "LAN web server", "message": "oops: this catches the UI too",
	})
	// The apply itself answers on the old connection; the page after it
	// needs a new one, which the change now sends to 192.168.1.50.
	if err := b.submit(`form.edit button[type=submit]`); err == nil {
		t.Logf("the page after the change loaded (a connection from before it): at %s", b.location())
	}
	if err := dialUI(l); err == nil {
		if !strings.Contains(fw.node.Log(), revertedLine) {
			t.Fatal("a new connection reached the UI while the lockout was in force")
		}
		t.Log("the change reverted before the lockout could be checked (a slow run)")
	} else if b.tryOpen("/") == nil && !strings.Contains(fw.node.Log(), revertedLine) {
		t.Fatal("the browser reached the UI while the lockout was in force")
	}

	fw.waitLog(t, mark, revertedLine)
	b.open("/")
	b.expect("/", "Dashboard")
	b.open("/rules")
	if body := b.text("main"); strings.Contains(body, "192.168.1.50") {
		t.Errorf("the reverted port forward is still listed:\n%s", body)
	}
	stick, err := os.ReadFile(filepath.Join(fw.stick, "rampart.yaml"))
	if err != nil || strings.Contains(string(stick), "192.168.1.50") {
		t.Errorf("the unconfirmed change reached the stick (%v)", err)
	}
	if err := dialUI(l); err != nil {
		t.Errorf("after the revert, a new connection to the UI: %v", err)
	}
}

// dialUI opens a new TCP connection from the client to the UI.
func dialUI(l *lab.Lab) error {
	return l.Client.Do(func() error {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(lab.LANGatewayV4.String(), "443"), probeTimeout)
		if err == nil {
			c.Close()
		}
		return err
	})
}
