// Command rampart is the whole firewall appliance: the daemon, the config
// checker and the network lab, in one static binary.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"rampart/boot"
)

// version is set by the build (-ldflags "-X main.version=...").
var version = "dev"

const usage = `usage: rampart <command> [arguments]

commands:
  run   [--config FILE]     run the firewall daemon (no --config: the embedded default)
  check FILE                validate FILE and print the ruleset it compiles to
  lab   up|down|status|demo the network-namespace lab
  version                   print the version
`

func main() {
	// In the image this binary is /init, and /sbin/modprobe links to it.
	if os.Getpid() == 1 {
		boot.Main(version)
	}
	if filepath.Base(os.Args[0]) == "modprobe" {
		os.Exit(boot.Modprobe(os.Args[1:], os.Stderr))
	}
	os.Exit(rampart(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

func rampart(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "run":
		return runCmd(ctx, args[1:], stderr)
	case "ui-worker": // hidden: the web UI process that `run` starts
		return uiWorkerCmd(ctx, args[1:], stderr)
	case "check":
		return checkCmd(args[1:], stdout, stderr)
	case "lab":
		return labCmd(ctx, args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "rampart", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "rampart: unknown command %q\n%s", args[0], usage)
	return 2
}
