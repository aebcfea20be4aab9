package browsertest

import (
	"os"
	"path/filepath"
	"testing"

	"rampart/config"
	"rampart/lab"
)

// singleConfig is the embedded default with a short confirm timeout, so
// that a test waiting for an automatic revert waits seconds, not minutes.
func singleConfig(confirmTimeout string) []byte {
	return append(config.DefaultYAML(), []byte("\nwebui:\n  confirm_timeout: "+confirmTimeout+"\n")...)
}

// TestFirstBootSetupAndLogin: a fresh stick has no password; the console
// token sets one, once; then only the password logs in.
func TestFirstBootSetupAndLogin(t *testing.T) {
	needs(t)
	l := newLab(t, 1)
	fw := startFirewall(t, l, 0, singleConfig("60s"))
	b := newBrowser(t, forward(t, l, lab.LANGatewayV4))

	b.open("/")
	b.expect("/setup", "setup token")
	b.shot("setup")

	b.fill(map[string]string{"token": "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH", "password": adminPassword, "confirm": adminPassword})
	b.mustSubmit(`form[action="/setup"] button[type=submit]`)
	b.expect("/setup")
	if st := filepath.Join(fw.stick, "webui-state.json"); fileExists(st) {
		t.Fatalf("a wrong token stored credentials (%s)", st)
	}

	b.setUp(t, fw)
	b.shot("dashboard")
	info, err := os.Stat(filepath.Join(fw.stick, "webui-state.json"))
	if err != nil {
		t.Fatalf("credentials not on the stick: %v", err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("webui-state.json mode %v, want 0600", info.Mode().Perm())
	}

	// The token is spent: /setup now sends everyone to the login.
	b.mustSubmit(`form[action="/logout"] button[type=submit]`)
	b.open("/setup")
	b.expect("/login")
	b.shot("login")

	b.login("not the password at all")
	b.expect("/login")
	b.login(adminPassword)
	b.expect("/", "Dashboard", "lan", "wan")
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
