package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"

	"rampart/appliance"
)

// uiWorkerCmd is the web UI process, which `rampart run` starts as its
// child with one end of a socketpair as fd 3 (appliance/webui.go). It is
// not in the usage: nobody runs it by hand.
func uiWorkerCmd(ctx context.Context, args []string, stderr io.Writer) int {
	if len(args) != 0 {
		fmt.Fprintln(stderr, "rampart ui-worker: takes no arguments; `rampart run` starts it")
		return 2
	}
	f := os.NewFile(3, "ui-socket")
	nc, err := net.FileConn(f)
	f.Close()
	if err != nil {
		fmt.Fprintln(stderr, "rampart ui-worker: fd 3 is not the daemon's socket:", err)
		return 2
	}
	// SIGINT from a terminal reaches the whole process group; stop as
	// cleanly as the daemon does.
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := appliance.RunUIWorker(ctx, nc, stderr); err != nil {
		fmt.Fprintln(stderr, "rampart ui-worker:", err)
		return 1
	}
	return 0
}
