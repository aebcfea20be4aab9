// Command failover measures how long traffic through the VIPs stops when
// the master dies (`make bench-failover`, root only). A 1 kHz UDP probe
// stream runs from the client to the server through the LAN and WAN VIPs
// while the master's links are cut all at once, the sync link first; the
// gap is the longest time without a reply, the median of -trials trials.
// In the same run and the same lab it measures:
//
//   - gap_ms: Rampart at a 20ms advbase (carrier-loss window 30ms);
//   - keepalived_gap_ms: keepalived (VRRPv3, unicast over the same
//     heartbeat link, dont_track_primary, the same advert interval);
//   - gap_ms_default: Rampart with its default settings (advbase 1s);
//   - gap_ms_nogarp: the same, with the client dropping gratuitous ARP for
//     its gateway (an nftables arp rule in its namespace);
//   - planned_lost: probes lost in a planned switchover: maintenance mode
//     on the master, its links cut the moment it reports the handover
//     complete (the worst of -planned trials);
//   - false_transitions: state changes of either node in -hog while every
//     core is saturated by a CPU hog started in the master's namespace.
//
// The last line is
//
//	RESULT adv_ms=20 gap_ms=… keepalived_gap_ms=… ratio=… gap_ms_default=… gap_ms_nogarp=… planned_lost=… false_transitions=…
//
// with ratio = gap_ms / keepalived_gap_ms. Targets: ratio ≤ 0.8,
// gap_ms_default ≤ 300, gap_ms_nogarp ≤ 1.5 × gap_ms_default,
// planned_lost = 0, false_transitions = 0.
//
// It is a tool, not firmware: nothing in the appliance imports it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"rampart/internal/netns"
	"rampart/lab"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "hog" {
		os.Exit(hogMain(os.Args[2:]))
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type options struct {
	bin     string
	trials  int
	planned int
	hog     time.Duration
	advBase time.Duration
	window  time.Duration
	only    string
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench-failover", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.bin, "rampart", "bin/rampart", "the rampart binary (built from ./cmd/rampart if missing)")
	fs.IntVar(&o.trials, "trials", 5, "trials per gap figure (the median is reported)")
	fs.IntVar(&o.planned, "planned", 3, "planned switchovers (the worst is reported)")
	fs.DurationVar(&o.hog, "hog", 60*time.Second, "how long the CPU hog runs")
	fs.DurationVar(&o.advBase, "advbase", 20*time.Millisecond, "advert interval of the fast figures, for both implementations")
	fs.DurationVar(&o.window, "window", 30*time.Millisecond, "Rampart's carrier-loss window at that advbase")
	fs.StringVar(&o.only, "only", "", "run only the scenarios whose names contain this (for development; no RESULT line)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := preflight(ctx, &o); err != nil {
		fmt.Fprintln(stderr, "bench-failover:", err)
		return 1
	}
	b := &bench{o: o, log: stderr}
	res, err := b.all(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "bench-failover:", err)
		return 1
	}
	if o.only != "" {
		return 0
	}
	res.print(stdout, o)
	return 0
}

func preflight(ctx context.Context, o *options) error {
	if os.Geteuid() != 0 {
		return errors.New("needs root (network namespaces)")
	}
	if _, err := exec.LookPath("keepalived"); err != nil {
		return errors.New("keepalived is not installed (Debian package keepalived; make deps)")
	}
	if _, err := os.Stat(o.bin); err == nil {
		abs, err := filepath.Abs(o.bin)
		o.bin = abs
		return err
	}
	dir, err := os.MkdirTemp("", "rampart-bench-bin-")
	if err != nil {
		return err
	}
	o.bin = filepath.Join(dir, "rampart")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", o.bin, "./cmd/rampart")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/rampart: %v\n%s", err, out)
	}
	return nil
}

type bench struct {
	o   options
	log io.Writer
}

type results struct {
	gap, keepalived, gapDefault, gapNoGARP []time.Duration
	plannedLost                            []uint64
	falseTransitions                       int
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, time.Now().Format("15:04:05 ")+format+"\n", args...)
}

// all runs every scenario, each in a fresh lab.
func (b *bench) all(ctx context.Context) (*results, error) {
	r := &results{}
	fast := settings{HA: true, AdvBase: b.o.advBase.String(), Window: b.o.window.String()}
	steps := []struct {
		name string
		fn   func(context.Context, *pair) error
	}{
		{"rampart, fast", func(ctx context.Context, p *pair) error {
			return b.gaps(ctx, p, fast, false, &r.gap)
		}},
		{"keepalived", func(ctx context.Context, p *pair) error {
			return b.keepalivedGaps(ctx, p, &r.keepalived)
		}},
		{"rampart, defaults", func(ctx context.Context, p *pair) error {
			return b.gaps(ctx, p, settings{HA: true}, false, &r.gapDefault)
		}},
		{"rampart, defaults, client drops gratuitous ARP", func(ctx context.Context, p *pair) error {
			return b.gaps(ctx, p, settings{HA: true}, true, &r.gapNoGARP)
		}},
		{"planned switchover", func(ctx context.Context, p *pair) error {
			return b.planned(ctx, p, fast, &r.plannedLost)
		}},
		{"CPU hog", func(ctx context.Context, p *pair) error {
			return b.hogged(ctx, p, fast, &r.falseTransitions)
		}},
	}
	for _, s := range steps {
		if b.o.only != "" && !strings.Contains(s.name, b.o.only) {
			continue
		}
		b.logf("== %s", s.name)
		if err := b.inLab(ctx, s.fn); err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return r, nil
}

func (b *bench) inLab(ctx context.Context, fn func(context.Context, *pair) error) error {
	p, err := newPair(ctx, b.o.bin, b.log)
	if err != nil {
		return err
	}
	defer p.close()
	return fn(ctx, p)
}

// gaps measures the outage when fw-a's links are cut, trial by trial.
func (b *bench) gaps(ctx context.Context, p *pair, s settings, noGARP bool, out *[]time.Duration) error {
	if err := p.startDaemons(ctx, s); err != nil {
		return err
	}
	if noGARP {
		if err := dropGARP(p.l); err != nil {
			return err
		}
	}
	for i := range b.o.trials {
		gap, err := b.trial(ctx, p)
		if err != nil {
			return err
		}
		b.logf("trial %d: gap %v", i+1, gap.Round(100*time.Microsecond))
		*out = append(*out, gap)
	}
	if noGARP {
		out, _ := p.l.Client.Output("nft", "list", "table", "arp", "rampart_bench_nogarp")
		if i := strings.Index(out, "counter"); i >= 0 {
			b.logf("the client dropped gratuitous ARP: %s", strings.TrimSpace(strings.SplitN(out[i:], "\n", 2)[0]))
		}
	}
	return nil
}

func (b *bench) keepalivedGaps(ctx context.Context, p *pair, out *[]time.Duration) error {
	if err := p.startDaemons(ctx, settings{}); err != nil {
		return err
	}
	if err := p.startKeepalived(ctx, b.o.advBase); err != nil {
		return err
	}
	for i := range b.o.trials {
		gap, err := b.trial(ctx, p)
		if err != nil {
			return err
		}
		b.logf("trial %d: gap %v", i+1, gap.Round(100*time.Microsecond))
		*out = append(*out, gap)
	}
	return nil
}

// trial cuts the master off under the probe stream, waits until the
// stream has flowed through the backup for a while, reconnects the master
// and waits until it is master again.
func (b *bench) trial(ctx context.Context, p *pair) (time.Duration, error) {
	// Each trial starts from fresh neighbour entries: with the plain MAC a
	// client that ignored the last failback's gratuitous ARP would still
	// send to fw-b, which routes anyway, and the cut of fw-a would show no
	// gap at all.
	for _, ns := range []*netns.NS{p.l.Client, p.l.Server} {
		if err := ns.Run("ip", "neigh", "flush", "all"); err != nil {
			return 0, err
		}
	}
	st, err := lab.StartStream(p.l.Client, netip.AddrPortFrom(lab.ServerV4, probePort), time.Millisecond)
	if err != nil {
		return 0, err
	}
	if err := sleep(ctx, 300*time.Millisecond); err != nil {
		st.Stop()
		return 0, err
	}
	if st.Received() == 0 {
		st.Stop()
		return 0, errors.New("no probe replies before the cut")
	}
	if err := p.setMasterLinks(false); err != nil {
		st.Stop()
		return 0, err
	}
	err = p.waitHolder(ctx, 1, 30*time.Second)
	if err == nil {
		err = waitFlow(ctx, st, 300)
	}
	r := st.Stop()
	if err != nil {
		return 0, err
	}
	if err := p.setMasterLinks(true); err != nil {
		return 0, err
	}
	return r.Gap, p.settle(ctx)
}

// waitFlow waits until n more replies have come.
func waitFlow(ctx context.Context, st *lab.Stream, n int) error {
	want := st.Received() + n
	deadline := time.Now().Add(30 * time.Second)
	for st.Received() < want {
		if time.Now().After(deadline) {
			return errors.New("the probe stream did not resume after the takeover")
		}
		if err := sleep(ctx, 10*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

// dropGARP makes the client ignore gratuitous ARP for its gateway, as many
// hosts do: an ARP packet whose sender and target are both the VIP.
func dropGARP(l *lab.Lab) error {
	cmd := l.Client.Command(context.Background(), "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(`table arp rampart_bench_nogarp {
	chain input {
		type filter hook input priority filter; policy accept;
		arp saddr ip 192.168.1.1 arp daddr ip 192.168.1.1 counter drop
	}
}
`)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("nft in the client: %v: %s", err, out)
	}
	return nil
}

// planned puts the master in maintenance under the probe stream and cuts
// its links the moment it reports the handover complete.
func (b *bench) planned(ctx context.Context, p *pair, s settings, out *[]uint64) error {
	if err := p.startDaemons(ctx, s); err != nil {
		return err
	}
	for i := range b.o.planned {
		lost, err := b.plannedTrial(ctx, p, s)
		if err != nil {
			return err
		}
		b.logf("planned switchover %d: %d probes lost", i+1, lost)
		*out = append(*out, lost)
	}
	return nil
}

func (b *bench) plannedTrial(ctx context.Context, p *pair, s settings) (uint64, error) {
	st, err := lab.StartStream(p.l.Client, netip.AddrPortFrom(lab.ServerV4, probePort), time.Millisecond)
	if err != nil {
		return 0, err
	}
	mark := p.nodes[0].Mark()
	maint := s
	maint.Maintenance[0] = true
	err = sleep(ctx, 300*time.Millisecond)
	if err == nil {
		err = p.reconfigure(ctx, 0, maint)
	}
	if err == nil {
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err = p.nodes[0].WaitLog(wctx, mark, "handover complete")
		cancel()
	}
	if err == nil {
		err = p.setMasterLinks(false)
	}
	if err == nil {
		err = waitFlow(ctx, st, 500)
	}
	r := st.Stop()
	if err != nil {
		return 0, err
	}
	if err := p.reconfigure(ctx, 0, s); err != nil {
		return 0, err
	}
	if err := p.setMasterLinks(true); err != nil {
		return 0, err
	}
	return r.Lost, p.settle(ctx)
}

// hogged counts the transitions while a CPU hog saturates every core.
func (b *bench) hogged(ctx context.Context, p *pair, s settings, out *int) error {
	if err := p.startDaemons(ctx, s); err != nil {
		return err
	}
	before := p.transitions()
	h, err := startHogs(p.l.FW[0].Name, b.o.hog+30*time.Second)
	if err != nil {
		return err
	}
	b.logf("%d hogs for %v", len(h), b.o.hog)
	err = sleep(ctx, b.o.hog)
	h.stop()
	if err != nil {
		return err
	}
	*out = p.transitions() - before
	b.logf("%d transitions under the hog", *out)
	for i := range 2 {
		for _, line := range strings.Split(p.nodes[i].Log(), "\n") {
			if strings.Contains(line, "carp: transition") || strings.Contains(line, "late") || strings.Contains(line, "alarm") ||
				strings.Contains(line, "SCHED_FIFO") || strings.HasPrefix(line, "gc ") {
				b.logf("%s: %s", lab.FWName(i), line)
			}
		}
	}
	return nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (r *results) print(w io.Writer, o options) {
	row := func(name string, ds []time.Duration) {
		var all []string
		for _, d := range ds {
			all = append(all, fmt.Sprintf("%.1f", ms(d)))
		}
		fmt.Fprintf(w, "%-48s median %7.1f ms  trials %v\n", name, ms(median(ds)), all)
	}
	row(fmt.Sprintf("rampart, advbase %v", o.advBase), r.gap)
	row(fmt.Sprintf("keepalived, advert_int %v", o.advBase), r.keepalived)
	row("rampart, default settings", r.gapDefault)
	row("rampart, defaults, client drops GARP", r.gapNoGARP)
	fmt.Fprintf(w, "%-48s %v\n", "planned switchover, probes lost", r.plannedLost)
	fmt.Fprintf(w, "%-48s %d in %v\n", "false transitions under a CPU hog", r.falseTransitions, o.hog)
	gap, kad := median(r.gap), median(r.keepalived)
	fmt.Fprintf(w, "RESULT adv_ms=%d gap_ms=%.1f keepalived_gap_ms=%.1f ratio=%.2f gap_ms_default=%.1f gap_ms_nogarp=%.1f planned_lost=%d false_transitions=%d\n",
		o.advBase.Milliseconds(), ms(gap), ms(kad), ms(gap)/ms(kad), ms(median(r.gapDefault)), ms(median(r.gapNoGARP)),
		slices.Max(r.plannedLost), r.falseTransitions)
}
