package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"rampart/internal/nsforward"
	"rampart/lab"
)

// The demo's web UIs: each daemon runs from a store directory (its
// "stick") so its UI has somewhere to keep its state, and a forwarder on
// the host carries a browser's connections into the client namespace,
// from where they reach the node's own LAN address across the lab's LAN
// like any client's.

// demoUIPorts are where the demo forwards from on the host, fw-a's and
// fw-b's; another free port is taken when one is busy.
var demoUIPorts = [2]string{"127.0.0.1:8443", "127.0.0.1:8444"}

// demoNodeLAN are the nodes' own LAN addresses, where their UIs listen.
var demoNodeLAN = [2]netip.Addr{netip.MustParseAddr("192.168.1.2"), netip.MustParseAddr("192.168.1.3")}

// demoUIWait bounds the wait for the UI's listeners after ready.
const demoUIWait = 15 * time.Second

var (
	setupTokenRE  = regexp.MustCompile(`setup_token=([A-Z2-7-]+)`)
	fingerprintRE = regexp.MustCompile(`msg="web UI listening".* sha256=([0-9A-F:]+)`)
)

// demoUI is what the demo tells about the UI.
type demoUI struct {
	name        string
	addr        netip.Addr
	fwd         *nsforward.Forwarder
	token       string // "" once an admin password exists
	fingerprint string
}

// freshStick makes an empty store directory in dir with cfg as
// rampart.yaml. It starts empty on every run, so the UI is at first boot
// and prints a setup token.
func freshStick(dir string, cfg []byte) (string, error) {
	stick := filepath.Join(dir, "stick")
	if err := os.RemoveAll(stick); err != nil {
		return "", fmt.Errorf("clear the demo stick: %w", err)
	}
	if err := os.MkdirAll(stick, 0o700); err != nil {
		return "", fmt.Errorf("demo stick: %w", err)
	}
	path := filepath.Join(stick, "rampart.yaml")
	if err := os.WriteFile(path, cfg, 0o600); err != nil {
		return "", fmt.Errorf("write config: %w", err)
	}
	return path, nil
}

// demoUIStart waits for node's UI to listen, reads the setup token and
// the certificate fingerprint from its log, and starts the forwarder from
// port on the host to addr:443.
func demoUIStart(ctx context.Context, l *lab.Lab, node *lab.Node, port string, addr netip.Addr) (*demoUI, error) {
	ctx, cancel := context.WithTimeout(ctx, demoUIWait)
	defer cancel()
	line, err := node.WaitLog(ctx, 0, `msg="web UI listening"`)
	if err != nil {
		return nil, fmt.Errorf("the web UI did not come up: %w\n%s", err, node.Tail(20))
	}
	ui := &demoUI{name: node.Name, addr: addr}
	if m := fingerprintRE.FindStringSubmatch(line); m != nil {
		ui.fingerprint = m[1]
	}
	if m := setupTokenRE.FindStringSubmatch(node.Log()); m != nil {
		ui.token = m[1]
	}
	target := net.JoinHostPort(addr.String(), "443")
	fwd, err := nsforward.Start(port, l.Client, target)
	if err != nil {
		fwd, err = nsforward.Start("127.0.0.1:0", l.Client, target)
	}
	if err != nil {
		return nil, err
	}
	ui.fwd = fwd
	return ui, nil
}

func printUI(w io.Writer, l *lab.Lab, uis []*demoUI) {
	fmt.Fprintf(w, "\nThe web UIs (HTTPS, self-signed certificates), one per node:\n")
	for _, ui := range uis {
		fmt.Fprintf(w, `
  %[1]s
    from here      https://%[2]s/   (forwarded into the client namespace)
    from the LAN   ip netns exec %[3]s-client curl -k https://%[4]s/
    certificate    SHA-256 %[5]s
`, ui.name, ui.fwd.Addr(), l.Prefix, ui.addr, ui.fingerprint)
		if ui.token != "" {
			fmt.Fprintf(w, "    setup token    %s   (first boot: open /setup, set the admin password)\n", ui.token)
		}
	}
	fmt.Fprintln(w, "\nA change confirmed on the master's UI is pushed to the other node over the sync link.")
	fmt.Fprintln(w, "Ctrl-C tears it all down.")
}
