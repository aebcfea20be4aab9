package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"rampart/config"
	"rampart/internal/nsforward"
	"rampart/lab"
)

// The demo's web UI: the daemon runs from a store directory (its "stick")
// so the UI has somewhere to keep its state, and a forwarder on the host
// carries a browser's connections into the client namespace, from where
// they reach https://192.168.1.1/ across the lab's LAN like any client's.

// demoUIPort is where the demo forwards from on the host; another free
// port is taken when it is busy.
const demoUIPort = "127.0.0.1:8443"

// demoUIWait bounds the wait for the UI's listeners after ready.
const demoUIWait = 15 * time.Second

var (
	setupTokenRE  = regexp.MustCompile(`setup_token=([A-Z2-7-]+)`)
	fingerprintRE = regexp.MustCompile(`msg="web UI listening".* sha256=([0-9A-F:]+)`)
)

// demoUI is what the demo tells about the UI.
type demoUI struct {
	fwd         *nsforward.Forwarder
	token       string // "" once an admin password exists
	fingerprint string
}

// freshStick makes an empty store directory with the default config as
// rampart.yaml. It starts empty on every run, so the UI is at first boot
// and prints a setup token.
func freshStick(logDir string) (string, error) {
	stick := filepath.Join(logDir, "stick")
	if err := os.RemoveAll(stick); err != nil {
		return "", fmt.Errorf("clear the demo stick: %w", err)
	}
	if err := os.MkdirAll(stick, 0o700); err != nil {
		return "", fmt.Errorf("demo stick: %w", err)
	}
	path := filepath.Join(stick, "rampart.yaml")
	if err := os.WriteFile(path, config.DefaultYAML(), 0o600); err != nil {
		return "", fmt.Errorf("write config: %w", err)
	}
	return path, nil
}

// demoUIStart waits for the UI to listen, reads the setup token and the
// certificate fingerprint from the daemon's log, and starts the forwarder.
func demoUIStart(ctx context.Context, l *lab.Lab, node *lab.Node) (*demoUI, error) {
	ctx, cancel := context.WithTimeout(ctx, demoUIWait)
	defer cancel()
	line, err := node.WaitLog(ctx, 0, `msg="web UI listening"`)
	if err != nil {
		return nil, fmt.Errorf("the web UI did not come up: %w\n%s", err, node.Tail(20))
	}
	ui := &demoUI{}
	if m := fingerprintRE.FindStringSubmatch(line); m != nil {
		ui.fingerprint = m[1]
	}
	if m := setupTokenRE.FindStringSubmatch(node.Log()); m != nil {
		ui.token = m[1]
	}
	target := net.JoinHostPort(lab.LANGatewayV4.String(), "443")
	fwd, err := nsforward.Start(demoUIPort, l.Client, target)
	if err != nil {
		fwd, err = nsforward.Start("127.0.0.1:0", l.Client, target)
	}
	if err != nil {
		return nil, err
	}
	ui.fwd = fwd
	return ui, nil
}

func printUI(w io.Writer, l *lab.Lab, ui *demoUI) {
	fmt.Fprintf(w, `
The web UI (HTTPS, self-signed certificate):

  from the LAN   ip netns exec %[1]s-client curl -k https://192.168.1.1/
  from here      https://%[2]s/   (forwarded into the client namespace,
                 so the UI sees the client 192.168.1.100)
  certificate    SHA-256 %[3]s
`, l.Prefix, ui.fwd.Addr(), ui.fingerprint)
	if ui.token != "" {
		fmt.Fprintf(w, "  setup token    %s   (first boot: open /setup, set the admin password)\n", ui.token)
	}
	fmt.Fprintln(w, "\nCtrl-C tears it all down.")
}
