package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"rampart/internal/netns"
	"rampart/lab"
)

func labCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "demo" {
		if err := demo(ctx, stdout); err != nil {
			fmt.Fprintln(stderr, "rampart lab demo:", err)
			return 1
		}
		return 0
	}
	return lab.Command(ctx, args, stdout, stderr)
}

// demo builds the lab, runs this very binary as the firewall with the
// embedded default config on a fresh "stick" (a store directory, so the
// web UI runs), serves a page on the server, forwards a port on the
// host's 127.0.0.1 into the client namespace so a browser on the host
// reaches the UI through the LAN, prints how to try it, and tears
// everything down on Ctrl-C.
func demo(ctx context.Context, stdout io.Writer) error {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own binary: %w", err)
	}
	l, err := lab.Up(ctx, lab.Options{Nodes: 1, LogDir: filepath.Join(os.TempDir(), "rampart-demo")})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(stdout, "\ntearing the lab down ...")
		if err := l.Down(); err != nil {
			fmt.Fprintln(stdout, "lab down:", err)
		}
	}()
	cfgPath, err := freshStick(l.LogDir)
	if err != nil {
		return err
	}
	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	node, err := l.StartNode(startCtx, 0, self, cfgPath)
	cancel()
	if err != nil {
		return err
	}
	srv, err := serveHello(l.Server)
	if err != nil {
		return err
	}
	defer srv.Close()
	ui, err := demoUIStart(ctx, l, node)
	if err != nil {
		return err
	}
	defer ui.fwd.Close()
	printDemo(stdout, l, node, cfgPath)
	printUI(stdout, l, ui)
	select {
	case <-ctx.Done():
	case <-node.Done():
		fmt.Fprintf(stdout, "the firewall daemon exited: %v\n%s\n", node.Err(), node.Tail(20))
	}
	return nil
}

// serveHello answers HTTP on the server's port 80 with the address it
// sees, so a visitor from the LAN watches masquerade at work.
func serveHello(ns *netns.NS) (*http.Server, error) {
	var ln net.Listener
	if err := ns.Do(func() error {
		var err error
		ln, err = net.Listen("tcp", ":80")
		return err
	}); err != nil {
		return nil, fmt.Errorf("serve http in %s: %w", ns.Name, err)
	}
	srv := &http.Server{
		ReadHeaderTimeout: 5 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "hello from the server; you came from %s\n", r.RemoteAddr)
		}),
	}
	go func() { _ = srv.Serve(ln) }()
	return srv, nil
}

func printDemo(w io.Writer, l *lab.Lab, node *lab.Node, cfgPath string) {
	p := l.Prefix
	fmt.Fprintf(w, `
Rampart lab %[1]s is up: one firewall, the embedded default config.

  client   ip netns exec %[1]s-client ...   192.168.1.100   (LAN, behind the firewall)
  fw-a     ip netns exec %[1]s-fwa ...      192.168.1.1 / 203.0.113.2   pid %[2]d
  server   ip netns exec %[1]s-server ...   203.0.113.100   (WAN, answers HTTP on :80)

  config   %[3]s   (a store: edit it, then: kill -HUP %[2]d)
  log      %[4]s

Try:
  # allowed; the server sees the firewall's WAN address (masquerade)
  ip netns exec %[1]s-client curl -s http://203.0.113.100/
  # dropped: nothing new comes in from the WAN
  ip netns exec %[1]s-server ping -c1 -W1 192.168.1.100
  # the firewall answers pings, IPv6 too
  ip netns exec %[1]s-client ping -c1 fd00:1::1
  # the ruleset Rampart loaded over netlink, and what the config compiles to
  ip netns exec %[1]s-fwa nft list ruleset
  bin/rampart check %[3]s
`, p, node.PID(), cfgPath, node.LogPath)
}
