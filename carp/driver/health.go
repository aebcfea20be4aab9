package driver

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"rampart/carp"
	"rampart/config"
)

// Health check hysteresis: a check demotes after healthFall failures in a
// row and promotes after healthRise successes in a row, so that one lost
// probe does not move the VIPs and one lucky probe does not move them
// back.
const (
	healthFall = 2
	healthRise = 2
)

// healthCheck runs one configured check until ctx ends and reports its
// verdicts through set (demote true / false).
type healthCheck struct {
	cfg config.HealthCheck
	set func(demote bool)
	// failing is the current verdict. At boot a check starts failing, so
	// that a node never wins an election on a service it has not checked
	// yet, and its first success promotes at once (fresh). A check added by
	// a reload starts passing, so that adding one to a live master does
	// not fail it over.
	failing bool
	fresh   bool
	streak  int
}

func (h *healthCheck) run(ctx context.Context) {
	interval := time.Duration(h.cfg.Interval)
	if interval <= 0 {
		interval = time.Duration(config.DefaultHealthInterval)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		h.record(probe(ctx, h.cfg) == nil)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// record applies one result with the hysteresis above.
func (h *healthCheck) record(ok bool) {
	fresh := h.fresh
	h.fresh = false
	if ok != h.failing {
		h.streak = 0 // the verdict stands
		return
	}
	h.streak++
	need := healthFall
	switch {
	case h.failing && fresh:
		need = 1
	case h.failing:
		need = healthRise
	}
	if h.streak < need {
		return
	}
	h.failing, h.streak = !ok, 0
	h.set(h.failing)
}

// probe runs one check within its timeout.
func probe(ctx context.Context, hc config.HealthCheck) error {
	timeout := time.Duration(hc.Timeout)
	if timeout <= 0 {
		timeout = time.Duration(config.DefaultHealthTimeout)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch hc.Type {
	case "tcp":
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", hc.Target)
		if err == nil {
			c.Close()
		}
		return err
	case "http":
		return probeHTTP(ctx, hc.Target)
	case "ping":
		return probePing(ctx, hc.Target)
	case "command":
		cmd := exec.CommandContext(ctx, "/bin/sh", "-c", hc.Target)
		if err := startOrdinary(cmd); err != nil {
			return err
		}
		return cmd.Wait()
	}
	return fmt.Errorf("carp driver: health check %s: unknown type %q", hc.Name, hc.Type)
}

func probeHTTP(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return nil
}

// probePing sends one ICMP echo request and waits for the reply.
func probePing(ctx context.Context, target string) error {
	dst, err := netip.ParseAddr(target)
	if err != nil {
		return fmt.Errorf("ping target %q: %w", target, err)
	}
	network, typ, reply, proto := "ip4:icmp", icmp.Type(ipv4.ICMPTypeEcho), icmp.Type(ipv4.ICMPTypeEchoReply), 1
	if dst.Is6() && !dst.Is4In6() {
		network, typ, reply, proto = "ip6:ipv6-icmp", ipv6.ICMPTypeEchoRequest, ipv6.ICMPTypeEchoReply, 58
	}
	c, err := icmp.ListenPacket(network, "")
	if err != nil {
		return err
	}
	defer c.Close()
	id := os.Getpid() & 0xffff
	msg, err := (&icmp.Message{Type: typ, Body: &icmp.Echo{ID: id, Seq: 1, Data: []byte("rampart")}}).Marshal(nil)
	if err != nil {
		return err
	}
	if _, err := c.WriteTo(msg, &net.IPAddr{IP: dst.AsSlice()}); err != nil {
		return err
	}
	deadline, _ := ctx.Deadline()
	_ = c.SetReadDeadline(deadline)
	buf := make([]byte, 1500)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return err
		}
		m, err := icmp.ParseMessage(proto, buf[:n])
		if err != nil || m.Type != reply {
			continue
		}
		if e, ok := m.Body.(*icmp.Echo); ok && e.ID == id && from.String() == dst.String() {
			return nil
		}
	}
}

func (d *Driver) startHealth(checks []config.HealthCheck, boot bool) {
	if len(checks) == 0 {
		return
	}
	d.healthMu.Lock()
	defer d.healthMu.Unlock()
	ctx, stop := context.WithCancel(context.Background())
	d.healthStop = stop
	for _, hc := range checks {
		h := &healthCheck{cfg: hc, failing: boot, fresh: boot}
		h.set = func(demote bool) {
			if demote {
				d.log.Warn("carp: health check failing: demoting", "check", hc.Name, "by", hc.Demote)
				d.Demote(carp.CauseHealth, hc.Name, hc.Demote)
				return
			}
			d.log.Info("carp: health check passing", "check", hc.Name)
			d.Promote(carp.CauseHealth, hc.Name)
		}
		d.healthWG.Add(1)
		go func() {
			defer d.healthWG.Done()
			h.run(ctx)
		}()
	}
}

func (d *Driver) stopHealth() {
	d.healthMu.Lock()
	stop := d.healthStop
	d.healthStop = nil
	d.healthMu.Unlock()
	if stop != nil {
		stop()
		d.healthWG.Wait()
	}
}
