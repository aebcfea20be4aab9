package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"rampart/config"
	"rampart/firewall"
	"rampart/internal/netns"
	"rampart/lab"
)

// bench is one run: a lab, its servers, and the figures so far.
type bench struct {
	opts options
	lab  *lab.Lab
	out  io.Writer
	log  *slog.Logger
	exe  string

	cps  map[string][]float64
	mbps map[string][]float64
}

// scenario is one ruleset in the firewall namespace.
type scenario struct {
	key  string
	desc string
	load func(ctx context.Context) error
	cps  bool // measure connections per second too
}

func (b *bench) run(ctx context.Context) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	b.exe = exe
	b.cps, b.mbps = map[string][]float64{}, map[string][]float64{}
	scenarios, err := b.scenarios()
	if err != nil {
		return err
	}
	stopServers, err := b.setup(ctx)
	if err != nil {
		return err
	}
	defer stopServers()
	fmt.Fprintf(b.out, "bench-forward: lab %s, %d rules, %s per measurement, median of %d, offloads off, %d load workers, load average %s\n",
		b.lab.Prefix, b.opts.rules, b.opts.duration, b.opts.reps, b.opts.workers, loadavg())
	for rep := 1; rep <= b.opts.reps; rep++ {
		// Rotate the order, so that a slow spell on a shared machine does
		// not always hit the same scenario.
		for k := range scenarios {
			s := scenarios[(k+rep-1)%len(scenarios)]
			if err := b.measure(ctx, rep, s); err != nil {
				return fmt.Errorf("%s: %w", s.key, err)
			}
		}
	}
	b.report(scenarios)
	return nil
}

// loadavg is the machine's 1-minute load average, printed with the
// figures: on a busy machine they are worth less.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

// setup addresses the firewall, turns offloads off and starts the sink and
// iperf3 in the server namespace. The returned func stops them.
func (b *bench) setup(ctx context.Context) (func(), error) {
	l := b.lab
	if err := l.AddressFirewall(ctx); err != nil {
		return nil, err
	}
	// Room for the load generator's ports; its resets leave no TIME_WAIT.
	if err := lab.SetSysctls(l.Client, map[string]string{"net/ipv4/ip_local_port_range": "1024 65535"}); err != nil {
		return nil, err
	}
	if err := offloadsOff(ctx, l.Prefix, []*netns.NS{l.Switch, l.Client, l.Server, l.FW[0]}); err != nil {
		return nil, err
	}
	sink, err := startServer(ctx, l.Server, "ready", b.exe, "sink", "-listen", fmt.Sprintf("%s:%d", lab.ServerV4, sinkPort))
	if err != nil {
		return nil, err
	}
	iperf, err := startServer(ctx, l.Server, "listening", "iperf3", "-s", "--forceflush", "-B", lab.ServerV4.String(), "-p", strconv.Itoa(iperfPort))
	if err != nil {
		stop(sink)
		return nil, err
	}
	return func() { stop(sink); stop(iperf) }, nil
}

func stop(cmd *exec.Cmd) {
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}

// scenarios compiles the two policies once; loading them is per run.
func (b *bench) scenarios() ([]scenario, error) {
	base, err := b.compile(0)
	if err != nil {
		return nil, err
	}
	rules, err := b.compile(b.opts.rules)
	if err != nil {
		return nil, err
	}
	n := b.opts.rules
	return []scenario{
		{"base", "our compiler, no extra rules", b.loadRampart(base), true},
		{"rules10k", fmt.Sprintf("our compiler, %d rules", n), b.loadRampart(rules), true},
		{"iptables", fmt.Sprintf("%d linear iptables-nft rules, conntrack accept first", n), b.loadIptables(iptablesRules(n, true)), true},
		{"iptables_walk", fmt.Sprintf("%d linear iptables-nft rules, stateless: every packet walks them", n), b.loadIptables(iptablesRules(n, false)), false},
	}, nil
}

func (b *bench) compile(n int) (*firewall.Ruleset, error) {
	cfg, err := policy(n)
	if err != nil {
		return nil, err
	}
	return compile(cfg)
}

func compile(cfg *config.Config) (*firewall.Ruleset, error) {
	rs, err := firewall.Compile(cfg)
	if err != nil {
		return nil, fmt.Errorf("compile: %w", err)
	}
	return rs, nil
}

// loadRampart replaces whatever is loaded with rs, through a fresh
// Firewall so that nothing it remembers from an earlier load applies.
func (b *bench) loadRampart(rs *firewall.Ruleset) func(context.Context) error {
	return func(ctx context.Context) error {
		if err := b.flush(ctx); err != nil {
			return err
		}
		fw, err := firewall.New(firewall.Options{NetNSFd: b.lab.FW[0].Fd(), Logger: b.log})
		if err != nil {
			return err
		}
		defer fw.Close()
		return fw.Apply(rs)
	}
}

func (b *bench) loadIptables(rules string) func(context.Context) error {
	return func(ctx context.Context) error {
		if err := b.flush(ctx); err != nil {
			return err
		}
		cmd := b.lab.FW[0].Command(ctx, "iptables-nft-restore")
		cmd.Stdin = strings.NewReader(rules)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("iptables-nft-restore: %v: %s", err, out)
		}
		return nil
	}
}

// flush empties the firewall namespace's ruleset (ours and iptables-nft's
// tables alike); the namespace is the bench's own.
func (b *bench) flush(ctx context.Context) error {
	if out, err := b.lab.FW[0].Command(ctx, "nft", "flush", "ruleset").CombinedOutput(); err != nil {
		return fmt.Errorf("nft flush ruleset: %v: %s", err, out)
	}
	return nil
}

// measure loads s and takes its figures, starting from an empty
// connection table so that earlier runs' entries cost nothing.
func (b *bench) measure(ctx context.Context, rep int, s scenario) error {
	if err := s.load(ctx); err != nil {
		return err
	}
	fw := b.lab.FW[0]
	_ = fw.Command(ctx, "conntrack", "-F").Run() // fails harmlessly on an empty table
	line := fmt.Sprintf("run %d %-14s", rep, s.key)
	if s.cps {
		cps, err := measureCPS(ctx, b.lab.Client, b.exe, b.opts.duration, b.opts.workers)
		if err != nil {
			return err
		}
		b.cps[s.key] = append(b.cps[s.key], cps)
		line += fmt.Sprintf(" %9.0f conn/s", cps)
		_ = fw.Command(ctx, "conntrack", "-F").Run()
	} else {
		line += fmt.Sprintf(" %9s       ", "-")
	}
	mbps, err := measureMbps(ctx, b.lab.Client, b.opts.duration)
	if err != nil {
		return err
	}
	b.mbps[s.key] = append(b.mbps[s.key], mbps)
	fmt.Fprintf(b.out, "%s %9.0f Mbit/s\n", line, mbps)
	return ctx.Err()
}

// report prints the medians, the ratios and, last, the RESULT line.
func (b *bench) report(scenarios []scenario) {
	fmt.Fprintf(b.out, "\nmedians (%d runs of %s each; load average now %s):\n", b.opts.reps, b.opts.duration, loadavg())
	for _, s := range scenarios {
		cps := "        -"
		if s.cps {
			cps = fmt.Sprintf("%9.0f", median(b.cps[s.key]))
		}
		fmt.Fprintf(b.out, "  %-14s %s conn/s %9.0f Mbit/s  %s\n", s.key, cps, median(b.mbps[s.key]), s.desc)
	}
	base, r10k, ipt := median(b.cps["base"]), median(b.cps["rules10k"]), median(b.cps["iptables"])
	mBase, mR10k, mIpt, mWalk := median(b.mbps["base"]), median(b.mbps["rules10k"]), median(b.mbps["iptables"]), median(b.mbps["iptables_walk"])
	fmt.Fprintf(b.out, "\nratios against base (target: conn ≥ 0.9, mtu ≥ 0.95):\n")
	fmt.Fprintf(b.out, "  ours:     conn %.3f  mtu %.3f\n", ratio(r10k, base), ratio(mR10k, mBase))
	fmt.Fprintf(b.out, "  iptables: conn %.3f  mtu %.3f  (established packets skip the rules)\n", ratio(ipt, base), ratio(mIpt, mBase))
	fmt.Fprintf(b.out, "  iptables, every packet walks the rules: mtu %.3f\n", ratio(mWalk, mBase))
	fmt.Fprintf(b.out, "RESULT base_cps=%.0f rules10k_cps=%.0f iptables_cps=%.0f conn_ratio=%.3f mtu_ratio=%.3f\n",
		base, r10k, ipt, ratio(r10k, base), ratio(mR10k, mBase))
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
