package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"rampart/appliance"
	"rampart/boot"
	"rampart/internal/gctune"
)

// runCmd is the daemon. SIGHUP reloads; SIGTERM and SIGINT stop it and
// leave the firewall in force.
func runCmd(ctx context.Context, args []string, stderr io.Writer) int {
	return runWith(ctx, args, stderr, nil)
}

// runWith runs the daemon; ui, if set, is its early-started web UI
// process.
func runWith(ctx context.Context, args []string, stderr io.Writer, ui *appliance.UIProcess) int {
	defer ui.Discard() // unless the daemon took it
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "config file (default: the embedded default config)")
	stateDir := fs.String("state-dir", "", "config store and web UI state (default: the config's directory if it is named rampart.yaml; else none and the web UI is off)")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	argsFD := fs.Int(strings.TrimPrefix(boot.ArgsFDFlag, "--"), -1, "internal, for PID 1: start now, read the real arguments from this file descriptor (boot/latestart.go)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *argsFD >= 0 {
		if ui != nil { // the real arguments asked for another early start
			fmt.Fprintln(stderr, "rampart run: "+boot.ArgsFDFlag+" given twice")
			return 2
		}
		return earlyRun(ctx, *argsFD, stderr)
	}
	logger, err := newLogger(stderr, *logFormat)
	if err != nil {
		fmt.Fprintln(stderr, "rampart run:", err)
		return 2
	}

	gctune.Apply() // state sync's caches: see internal/gctune

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reload := make(chan struct{}, 1)
	go forwardReloads(ctx, hup, reload)

	err = appliance.Run(ctx, appliance.Options{ConfigPath: *path, StateDir: *stateDir, Logger: logger, Reload: reload, Console: stderr, Version: version, UIProcess: ui})
	if err != nil {
		logger.Error("exiting", "err", err)
		return 1
	}
	return 0
}

// earlyRun is PID 1's early start of the daemon (boot/latestart.go): it
// starts the web UI process, then waits on fd for the arguments and
// environment of the real start.
func earlyRun(ctx context.Context, fd int, stderr io.Writer) int {
	ui, err := appliance.StartUIProcess(stderr)
	if err != nil { // the daemon starts one itself later
		fmt.Fprintln(stderr, "rampart run: early web UI start:", err)
	}
	f := os.NewFile(uintptr(fd), "start-arguments")
	ls, err := boot.ReadLateStart(f)
	f.Close()
	if err == nil {
		err = ls.Apply()
	}
	if err != nil {
		ui.Discard()
		fmt.Fprintln(stderr, "rampart run:", err)
		return 2
	}
	return runWith(ctx, ls.Args, stderr, ui)
}

// forwardReloads turns SIGHUPs into reload requests, folding a burst of
// signals into one pending reload.
func forwardReloads(ctx context.Context, hup <-chan os.Signal, reload chan<- struct{}) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			select {
			case reload <- struct{}{}:
			default:
			}
		}
	}
}

func newLogger(w io.Writer, format string) (*slog.Logger, error) {
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, fmt.Errorf("unknown log format %q (want text or json)", format)
}
