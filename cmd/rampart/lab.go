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

	"rampart/examples"
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

// demo builds the lab with an HA pair, runs this very binary as both
// firewalls (examples/ha-a.yaml and ha-b.yaml, each on a fresh "stick":
// a store directory, so the web UIs run), serves a page on the server,
// forwards a port on the host's 127.0.0.1 to each node's web UI through
// the client namespace, prints how to try it, and tears everything down
// on Ctrl-C.
func demo(ctx context.Context, stdout io.Writer) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own binary: %w", err)
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return runDemo(ctx, self, stdout)
}

// runDemo is demo with the daemon binary given, until ctx ends.
func runDemo(ctx context.Context, bin string, stdout io.Writer) error {
	l, err := lab.Up(ctx, lab.Options{Nodes: 2, LogDir: filepath.Join(os.TempDir(), "rampart-demo")})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(stdout, "\ntearing the lab down ...")
		if err := l.Down(); err != nil {
			fmt.Fprintln(stdout, "lab down:", err)
		}
	}()
	nodes, uis := make([]*lab.Node, 2), make([]*demoUI, 2)
	for i, cfg := range [][]byte{examples.HAA, examples.HAB} {
		cfgPath, err := freshStick(filepath.Join(l.LogDir, lab.FWName(i)), cfg)
		if err != nil {
			return err
		}
		startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		nodes[i], err = l.StartNode(startCtx, i, bin, cfgPath)
		cancel()
		if err != nil {
			return err
		}
	}
	srv, err := serveHello(l.Server)
	if err != nil {
		return err
	}
	defer srv.Close()
	for i, node := range nodes {
		if uis[i], err = demoUIStart(ctx, l, node, demoUIPorts[i], demoNodeLAN[i]); err != nil {
			return err
		}
		defer uis[i].fwd.Close()
	}
	// Print once the pair has a master: the VIPs are up and the tries work.
	masterCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	_, err = nodes[0].WaitLog(masterCtx, 0, "to=master")
	cancel()
	if err != nil {
		return fmt.Errorf("fw-a did not become master: %w\n%s", err, nodes[0].Tail(20))
	}
	printDemo(stdout, l, nodes)
	printUI(stdout, l, uis)
	select {
	case <-ctx.Done():
	case <-nodes[0].Done():
		fmt.Fprintf(stdout, "fw-a's daemon exited: %v\n%s\n", nodes[0].Err(), nodes[0].Tail(20))
	case <-nodes[1].Done():
		fmt.Fprintf(stdout, "fw-b's daemon exited: %v\n%s\n", nodes[1].Err(), nodes[1].Tail(20))
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

func printDemo(w io.Writer, l *lab.Lab, nodes []*lab.Node) {
	p := l.Prefix
	fmt.Fprintf(w, `
Rampart lab %[1]s is up: an HA pair (examples/ha-a.yaml, ha-b.yaml).

  client   ip netns exec %[1]s-client ...   192.168.1.100   (LAN; gateway: the VIP 192.168.1.1)
  fw-a     ip netns exec %[1]s-fwa ...      192.168.1.2 / 203.0.113.2   priority 200, pid %[2]d
  fw-b     ip netns exec %[1]s-fwb ...      192.168.1.3 / 203.0.113.3   priority 100, pid %[3]d
  server   ip netns exec %[1]s-server ...   203.0.113.100   (WAN, answers HTTP on :80)

  VIPs 192.168.1.1 and 203.0.113.1 (and fd00:1::1, 2001:db8:2::1) sit on the master.
  Adverts and state sync run over the sync link (eth2, 192.168.255.0/30).
  logs     %[4]s   %[5]s

Try:
  # through the VIP; the server sees the WAN VIP (SNAT)
  ip netns exec %[1]s-client curl -s http://203.0.113.100/
  # who is master
  ip netns exec %[1]s-fwa ip -br addr show eth0; ip netns exec %[1]s-fwb ip -br addr show eth0
  # fail over: cut fw-a's LAN; fw-b takes the VIPs and the connection table
  ip netns exec %[1]s-fwa ip link set eth0 down
  ip netns exec %[1]s-client curl -s http://203.0.113.100/
  ip netns exec %[1]s-fwa ip link set eth0 up      # fw-a preempts back
  # the ruleset Rampart loaded over netlink
  ip netns exec %[1]s-fwa nft list ruleset
`, p, nodes[0].PID(), nodes[1].PID(), nodes[0].LogPath, nodes[1].LogPath)
}
