// Command ui measures the web UI under load (`make bench-ui`, root only).
// In the namespace lab it runs an HA pair of rampart daemons, sets up the
// admin on fw-a through the UI's own forms, and then runs 50 concurrent
// HTTPS clients from the LAN client namespace for 30 s against fw-a: each
// client alternates the dashboard (session cookie) and GET /api/v1/status
// (API token), one keep-alive connection per client. Meanwhile a packet
// socket on the LAN records, with kernel timestamps, the CARP adverts
// fw-a multicasts as master, to see whether the UI load disturbs them.
//
// ui_p50_ms and ui_p99_ms are over every request. advert_jitter_pct is the
// 99th percentile of |interval − advbase| over consecutive adverts, as a
// percentage of advbase (100 ms here); "NA" when there is no HA pair
// (-nodes 1). The last line is
//
//	RESULT ui_p50_ms=… ui_p99_ms=… advert_jitter_pct=…
//
// Before it, the bench says where the CPU went over the load (cpu.go): the
// UI process, the daemon, this process, and the rest of the machine, so a
// slow UI can be told from a busy box.
//
// Targets: ui_p99_ms ≤ 50 and advert_jitter_pct ≤ 5.
//
// It is a tool, not firmware: nothing in the appliance imports it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the command-line flags.
type options struct {
	clients  int
	duration time.Duration
	nodes    int
	advbase  time.Duration
	binary   string
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench-ui", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.IntVar(&o.clients, "clients", 50, "concurrent HTTPS clients")
	fs.DurationVar(&o.duration, "duration", 30*time.Second, "load duration")
	fs.IntVar(&o.nodes, "nodes", 2, "firewalls: 2 runs an HA pair and measures advert jitter; 1 does not")
	fs.DurationVar(&o.advbase, "advbase", 100*time.Millisecond, "the pair's advert interval (whole milliseconds)")
	fs.StringVar(&o.binary, "binary", "", "rampart binary (default: build ./cmd/rampart)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if os.Geteuid() != 0 {
		fmt.Fprintln(stderr, "bench-ui: needs root (the namespace lab)")
		return 1
	}
	if o.clients < 1 || o.duration <= 0 || (o.nodes != 1 && o.nodes != 2) || o.advbase < time.Millisecond {
		fmt.Fprintln(stderr, "bench-ui: want -clients ≥ 1, -duration > 0, -nodes 1 or 2")
		return 2
	}
	res, err := bench(ctx, o, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "bench-ui:", err)
		return 1
	}
	res.print(stdout)
	return 0
}
