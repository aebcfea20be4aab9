package main

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"text/template"
	"time"

	"rampart/config"
	"rampart/lab"
)

//go:embed node.yaml.tmpl
var nodeTemplate string

// uiWait bounds a daemon's start until its UI listens.
const uiWait = 60 * time.Second

var fingerprintRE = regexp.MustCompile(`msg="web UI listening".* sha256=([0-9A-F:]+)`)

// target is the firewall under load: its UI address, its console's
// setup token, and its certificate's fingerprint.
type target struct {
	addr        netip.AddrPort
	token       string
	fingerprint string
}

// bench builds the lab, starts the daemons, loads fw-a and times adverts.
func bench(ctx context.Context, o options, log io.Writer) (result, error) {
	dir, err := os.MkdirTemp("", "rampart-bench-ui-")
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(dir)
	bin := o.binary
	if bin == "" {
		if bin, err = lab.BuildDaemon(ctx, dir); err != nil {
			return result{}, err
		}
	}
	l, err := lab.Up(ctx, lab.Options{Nodes: o.nodes})
	if err != nil {
		return result{}, err
	}
	defer l.Down()
	fmt.Fprintf(log, "lab %s up with %d firewall(s)\n", l.Prefix, o.nodes)
	tg, err := startDaemons(ctx, l, bin, dir, o)
	if err != nil {
		return result{}, err
	}
	c, err := newClient(l, tg)
	if err != nil {
		return result{}, err
	}
	if err := c.setUp(ctx, tg.token); err != nil {
		return result{}, err
	}
	fmt.Fprintf(log, "admin set up on %s; %d clients for %s ...\n", tg.addr, o.clients, o.duration)
	var sent, heard *sniffer
	if o.nodes == 2 {
		if sent, err = startSniffer(l.FW[0], "eth0", lanAddr(0)); err != nil {
			return result{}, err
		}
		defer sent.close()
		if heard, err = startSniffer(l.Client, "eth0", lanAddr(0)); err != nil {
			return result{}, err
		}
		defer heard.close()
	}
	procs := findProcs(filepath.Join(dir, lab.FWName(0)+"-stick", "rampart.yaml"))
	before, began := procs.snap(), time.Now()
	res := c.load(ctx, o.clients, o.duration)
	res.cpu = procs.since(before, time.Since(began))
	res.advbase = o.advbase
	if sent != nil {
		times := sent.stop()
		res.jitter, res.adverts, res.jitterOK = jitterPct(times, o.advbase)
		res.maxDeviation = maxDeviation(times, o.advbase)
		times = heard.stop()
		res.heardJitter, res.heardAdverts, _ = jitterPct(times, o.advbase)
		res.heardMax = maxDeviation(times, o.advbase)
	}
	return res, nil
}

// startDaemons runs fw-a (and fw-b) from fresh sticks and waits until
// fw-a's UI listens and, in HA, fw-a is master.
func startDaemons(ctx context.Context, l *lab.Lab, bin, dir string, o options) (target, error) {
	var tg target
	nodes := o.nodes
	for i := range nodes {
		cfg, err := nodeConfig(i, nodes, o.advbase)
		if err != nil {
			return tg, err
		}
		stick := filepath.Join(dir, lab.FWName(i)+"-stick")
		if err := os.MkdirAll(stick, 0o700); err != nil {
			return tg, err
		}
		path := filepath.Join(stick, "rampart.yaml")
		if err := os.WriteFile(path, cfg, 0o600); err != nil {
			return tg, err
		}
		sctx, cancel := context.WithTimeout(ctx, uiWait)
		n, err := l.StartNode(sctx, i, bin, path)
		if err == nil {
			err = waitUI(sctx, n, i, nodes, &tg)
		}
		cancel()
		if err != nil {
			return tg, err
		}
	}
	tg.addr = netip.AddrPortFrom(lanAddr(0), 443)
	return tg, nil
}

// waitUI waits for node i's UI (and mastership), reading what fw-a's
// console shows into tg.
func waitUI(ctx context.Context, n *lab.Node, i, nodes int, tg *target) error {
	line, err := n.WaitLog(ctx, 0, `msg="web UI listening"`)
	if err != nil {
		return fmt.Errorf("%s: web UI: %w\n%s", n.Name, err, n.Tail(20))
	}
	if nodes == 2 {
		want := "to=master"
		if i == 1 {
			want = "to=backup"
		}
		if _, err := n.WaitLog(ctx, 0, want); err != nil {
			return fmt.Errorf("%s: %s: %w\n%s", n.Name, want, err, n.Tail(20))
		}
	}
	if i != 0 {
		return nil
	}
	if m := fingerprintRE.FindStringSubmatch(line); m != nil {
		tg.fingerprint = m[1]
	}
	m := regexp.MustCompile(`setup_token=([A-Z2-7-]+)`).FindStringSubmatch(n.Log())
	if m == nil {
		return fmt.Errorf("%s: no setup token on the console", n.Name)
	}
	tg.token = m[1]
	return nil
}

// lanAddr is node i's own LAN address: the single firewall's gateway
// address without HA, else .2 and .3 (the VIP .1 moves).
func lanAddr(i int) netip.Addr {
	return netip.AddrFrom4([4]byte{192, 168, 1, byte(2 + i)})
}

// nodeConfig renders node i's config: the HA template for a pair, else
// the template without its ha section.
func nodeConfig(i, nodes int, advbase time.Duration) ([]byte, error) {
	tmpl, err := template.New("node").Parse(nodeTemplate)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	err = tmpl.Execute(&b, map[string]any{
		"Node": string(rune('a' + i)), "Host": 2 + i, "Sync": 1 + i, "PeerSync": 2 - i, "Priority": 200 - 100*i,
		"AdvBase": config.Duration(advbase).String(),
	})
	if err != nil {
		return nil, err
	}
	data := b.Bytes()
	if nodes == 1 {
		data = dropHA(data)
	}
	if _, err := config.Parse("bench node", data); err != nil {
		return nil, err
	}
	return data, nil
}

// dropHA removes the ha section (from "ha:" to the next top-level key).
func dropHA(doc []byte) []byte {
	return regexp.MustCompile(`(?ms)^ha:\n.*?(^\S)`).ReplaceAll(doc, []byte("$1"))
}
