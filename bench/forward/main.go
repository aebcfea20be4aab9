// Command forward measures what a 10,000-rule policy costs the firewall's
// forwarding path (`make bench-forward`, root only). In one lab, side by
// side and in the same run, it measures new TCP connections per second
// (short connections from our own load generator) and bulk TCP throughput
// with offloads off (MTU-sized packets, iperf3), each with no extra rules,
// with our compiled 10k policy, and with the same policy as 10,000 linear
// iptables-nft rules: the anchor. Each figure is the median of -reps runs
// of -duration. The last line is
//
//	RESULT base_cps=… rules10k_cps=… iptables_cps=… conn_ratio=… mtu_ratio=…
//
// with conn_ratio = rules10k_cps / base_cps and mtu_ratio the same for
// throughput. Targets: conn_ratio ≥ 0.9, mtu_ratio ≥ 0.95.
//
// It is a tool, not firmware: nothing in the appliance imports it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"rampart/lab"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "loadgen":
			os.Exit(loadgenMain(os.Args[2:]))
		case "sink":
			os.Exit(sinkMain(os.Args[2:]))
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the command-line flags.
type options struct {
	rules    int
	duration time.Duration
	reps     int
	workers  int
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench-forward", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.IntVar(&o.rules, "rules", 10000, "rules in the policy")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "length of one measurement")
	fs.IntVar(&o.reps, "reps", 3, "runs per figure (the median is reported)")
	fs.IntVar(&o.workers, "workers", 16, "parallel connections of the load generator")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := preflight(o); err != nil {
		fmt.Fprintln(stderr, "bench-forward:", err)
		return 1
	}
	l, err := lab.Up(ctx, lab.Options{Nodes: 1})
	if err != nil {
		fmt.Fprintln(stderr, "bench-forward:", err)
		return 1
	}
	b := &bench{opts: o, lab: l, out: stdout, log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	err = b.run(ctx)
	if derr := l.Down(); derr != nil {
		err = errors.Join(err, derr)
	}
	if err != nil {
		fmt.Fprintln(stderr, "bench-forward:", err)
		return 1
	}
	return 0
}

func preflight(o options) error {
	if os.Geteuid() != 0 {
		return errors.New("needs root (network namespaces)")
	}
	if o.rules < 1 || o.reps < 1 || o.workers < 1 || o.duration < time.Second {
		return errors.New("-rules, -reps and -workers must be positive and -duration at least 1s")
	}
	for _, tool := range []string{"ip", "nft", "iperf3", "ethtool", "iptables-nft-restore", "conntrack"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is missing (Debian packages iproute2 nftables iperf3 ethtool iptables conntrack)", tool)
		}
	}
	return nil
}
