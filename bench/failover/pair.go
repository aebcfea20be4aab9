package main

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"text/template"
	"time"

	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"rampart/lab"
)

//go:embed node.yaml.tmpl
var nodeTmpl string

//go:embed keepalived.conf.tmpl
var keepalivedTmpl string

const probePort = 7000

var vipLAN = netip.MustParseAddr("192.168.1.1")

// settings fill node.yaml.tmpl. Empty AdvBase or Window: the defaults.
type settings struct {
	HA          bool
	AdvBase     string
	Window      string
	Maintenance [2]bool
}

// pair is a two-node lab with a daemon per node, and keepalived for the
// comparison.
type pair struct {
	l     *lab.Lab
	dir   string
	bin   string
	log   io.Writer
	s     settings
	nodes [2]*lab.Node
	kad   [2]*exec.Cmd
	rt    [2]*rtnetlink.Conn // fw-a, fw-b
	sw    *rtnetlink.Conn
	cuts  []linkRef // fw-a's sync end, then its switch ports
	srv   *lab.Server
}

type linkRef struct {
	c   *rtnetlink.Conn
	idx uint32
}

func newPair(ctx context.Context, bin string, log io.Writer) (*pair, error) {
	l, err := lab.Up(ctx, lab.Options{Nodes: 2})
	if err != nil {
		return nil, err
	}
	p := &pair{l: l, bin: bin, log: log}
	if err := p.setup(ctx); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

func (p *pair) setup(ctx context.Context) error {
	var err error
	if p.dir, err = os.MkdirTemp("", "rampart-bench-failover-"); err != nil {
		return err
	}
	for i := range 2 {
		if p.rt[i], err = rtnetlink.Dial(&netlink.Config{NetNS: p.l.FW[i].Fd()}); err != nil {
			return fmt.Errorf("rtnetlink in %s: %w", p.l.FW[i].Name, err)
		}
	}
	if p.sw, err = rtnetlink.Dial(&netlink.Config{NetNS: p.l.Switch.Fd()}); err != nil {
		return err
	}
	for _, c := range []struct {
		c    *rtnetlink.Conn
		name string
	}{{p.rt[0], lab.DevSync}, {p.sw, "lan-fwa"}, {p.sw, "wan-fwa"}} {
		idx, err := linkIndex(c.c, c.name)
		if err != nil {
			return err
		}
		p.cuts = append(p.cuts, linkRef{c.c, idx})
	}
	p.srv, err = lab.ServeUDP(p.l.Server, fmt.Sprintf("[::]:%d", probePort))
	return err
}

func linkIndex(c *rtnetlink.Conn, name string) (uint32, error) {
	links, err := c.Link.List()
	if err != nil {
		return 0, err
	}
	for _, l := range links {
		if l.Attributes != nil && l.Attributes.Name == name {
			return l.Index, nil
		}
	}
	return 0, fmt.Errorf("no link %s", name)
}

func (p *pair) close() {
	p.stopDaemons()
	if p.srv != nil {
		p.srv.Close()
	}
	for _, c := range append(p.rt[:], p.sw) {
		if c != nil {
			c.Close()
		}
	}
	if err := p.l.Down(); err != nil {
		fmt.Fprintln(p.log, "lab down:", err)
	}
	if p.dir != "" {
		os.RemoveAll(p.dir)
	}
}

func (p *pair) cfgPath(i int) string { return filepath.Join(p.dir, lab.FWName(i)+".yaml") }

func (p *pair) writeConfigs(s settings) error {
	p.s = s
	t := template.Must(template.New("node").Parse(nodeTmpl))
	for i := range 2 {
		var b bytes.Buffer
		err := t.Execute(&b, map[string]any{
			"Node": string(rune('a' + i)), "Host": 2 + i, "Sync": 1 + i, "PeerSync": 2 - i, "ProbePort": probePort,
			"HA": s.HA, "AdvBase": s.AdvBase, "Window": s.Window, "Maintenance": s.Maintenance[i], "Priority": 200 - 100*i,
		})
		if err != nil {
			return err
		}
		if err := os.WriteFile(p.cfgPath(i), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// startDaemons starts fw-a, waits for it to hold the VIPs (HA) or to be
// ready, then starts fw-b.
func (p *pair) startDaemons(ctx context.Context, s settings) error {
	if err := p.writeConfigs(s); err != nil {
		return err
	}
	for i := range 2 {
		n, err := p.l.StartNode(ctx, i, p.bin, p.cfgPath(i))
		if err != nil {
			return err
		}
		p.nodes[i] = n
		if s.HA && i == 0 {
			if err := p.waitHolders(ctx, [2]bool{true, false}, 10*time.Second); err != nil {
				return err
			}
		}
	}
	if !s.HA {
		return nil // keepalived comes next
	}
	return p.settle(ctx)
}

func (p *pair) stopDaemons() {
	for i := range 2 {
		if p.kad[i] != nil {
			_ = p.kad[i].Process.Signal(syscall.SIGTERM)
			_ = p.kad[i].Wait()
			p.kad[i] = nil
		}
		if p.nodes[i] != nil {
			_ = p.nodes[i].Stop()
			p.nodes[i] = nil
		}
	}
}

// startKeepalived runs keepalived in both nodes (the daemons run the
// firewall alone) and waits until fw-a holds the VIPs.
func (p *pair) startKeepalived(ctx context.Context, advertInt time.Duration) error {
	t := template.Must(template.New("kad").Parse(keepalivedTmpl))
	for i := range 2 {
		var b bytes.Buffer
		if err := t.Execute(&b, map[string]any{"Node": string(rune('a' + i)), "Sync": 1 + i, "PeerSync": 2 - i,
			"Priority": 200 - 100*i, "AdvertInt": fmt.Sprintf("%g", advertInt.Seconds())}); err != nil {
			return err
		}
		conf := filepath.Join(p.dir, fmt.Sprintf("keepalived-%d.conf", i))
		if err := os.WriteFile(conf, b.Bytes(), 0o644); err != nil {
			return err
		}
		logf, err := os.Create(filepath.Join(p.dir, fmt.Sprintf("keepalived-%d.log", i)))
		if err != nil {
			return err
		}
		pid := func(s string) string { return filepath.Join(p.dir, fmt.Sprintf("%s-%d.pid", s, i)) }
		cmd := exec.Command("ip", "netns", "exec", p.l.FW[i].Name, "keepalived", "--dont-fork", "--log-console",
			"--vrrp", "-f", conf, "-p", pid("keepalived"), "-r", pid("vrrp"))
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			logf.Close()
			return fmt.Errorf("keepalived: %w", err)
		}
		p.kad[i] = cmd
		if i == 1 {
			if err := p.settle(ctx); err != nil {
				a, _ := os.ReadFile(filepath.Join(p.dir, "keepalived-0.log"))
				b, _ := os.ReadFile(logf.Name())
				return fmt.Errorf("keepalived: %w\nfw-a:\n%s\nfw-b:\n%s", err, a, b)
			}
		}
		if i == 0 {
			if err := p.waitHolders(ctx, [2]bool{true, false}, 10*time.Second); err != nil {
				out, _ := os.ReadFile(logf.Name())
				return fmt.Errorf("keepalived: %w\n%s", err, out)
			}
		}
	}
	return nil
}

// settle waits until fw-a alone holds the VIPs, then a little more: the
// kernel's link events of the last change must be past, and the pair
// calm.
func (p *pair) settle(ctx context.Context) error {
	if err := p.waitHolders(ctx, [2]bool{true, false}, 30*time.Second); err != nil {
		return err
	}
	return sleep(ctx, 1500*time.Millisecond)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// holders says which node holds the LAN VIP.
func (p *pair) holders() ([2]bool, error) {
	var out [2]bool
	for i := range 2 {
		msgs, err := p.rt[i].Address.List()
		if err != nil {
			return out, err
		}
		out[i] = slices.ContainsFunc(msgs, func(m rtnetlink.AddressMessage) bool {
			a, ok := netip.AddrFromSlice(m.Attributes.Address)
			return ok && a.Unmap() == vipLAN
		})
	}
	return out, nil
}

// waitHolders polls every millisecond until the holders are want.
func (p *pair) waitHolders(ctx context.Context, want [2]bool, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		got, err := p.holders()
		if err != nil {
			return err
		}
		if got == want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("VIP holders (fw-a, fw-b) are %v after %v, want %v", got, timeout, want)
		}
		if err := sleep(ctx, time.Millisecond); err != nil {
			return err
		}
	}
}

// waitHolder polls until node i holds the VIP, whoever else does.
func (p *pair) waitHolder(ctx context.Context, i int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		got, err := p.holders()
		if err != nil {
			return err
		}
		if got[i] {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s does not hold the VIP after %v", lab.FWName(i), timeout)
		}
		if err := sleep(ctx, time.Millisecond); err != nil {
			return err
		}
	}
}

// setMasterLinks cuts fw-a off (the sync link first, then its LAN and WAN
// switch ports, back to back) or reconnects it.
func (p *pair) setMasterLinks(up bool) error {
	var flags uint32
	if up {
		flags = unix.IFF_UP
	}
	for _, l := range p.cuts {
		if err := l.c.Link.Set(&rtnetlink.LinkMessage{Index: l.idx, Flags: flags, Change: unix.IFF_UP}); err != nil {
			return fmt.Errorf("set link %d up=%v: %w", l.idx, up, err)
		}
	}
	return nil
}

// reconfigure rewrites the configs and reloads node i.
func (p *pair) reconfigure(ctx context.Context, i int, s settings) error {
	if err := p.writeConfigs(s); err != nil {
		return err
	}
	mark := p.nodes[i].Mark()
	if err := p.nodes[i].Signal(syscall.SIGHUP); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := p.nodes[i].WaitLog(wctx, mark, "msg=reloaded")
	return err
}

// transitions counts the state changes each daemon has logged.
func (p *pair) transitions() int {
	n := 0
	for i := range 2 {
		if p.nodes[i] != nil {
			n += strings.Count(p.nodes[i].Log(), "carp: transition")
		}
	}
	return n
}
