package lab

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

const commandUsage = `usage: rampart lab <command> [flags]

commands:
  up     [--nodes 1|2] [--prefix P]   build the lab namespaces and print the prefix
  down   [--prefix P]                 remove one lab run, or every lab run
  status [--prefix P]                 show namespaces, links, addresses and processes
`

// Command implements `rampart lab up|down|status` and returns the exit
// status. Namespaces outlive the command: `down` removes them.
func Command(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, commandUsage)
		return 2
	}
	fs := flag.NewFlagSet("lab "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	prefix := fs.String("prefix", "", "lab run prefix (rp...)")
	nodes := 1
	if args[0] == "up" {
		fs.IntVar(&nodes, "nodes", 1, "firewall nodes: 1, or 2 for HA")
	}
	switch args[0] {
	case "up", "down", "status":
	case "help", "-h", "--help":
		fmt.Fprint(stdout, commandUsage)
		return 0
	default:
		fmt.Fprintf(stderr, "rampart lab: unknown command %q\n%s", args[0], commandUsage)
		return 2
	}
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "rampart lab %s: unexpected arguments %q\n", args[0], fs.Args())
		return 2
	}
	var err error
	switch args[0] {
	case "up":
		err = upCmd(ctx, *prefix, nodes, stdout)
	case "down":
		err = downCmd(*prefix, stdout)
	case "status":
		var reports []Report
		if reports, err = Status(*prefix); err == nil {
			Print(stdout, reports)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "rampart lab %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

func upCmd(ctx context.Context, prefix string, nodes int, stdout io.Writer) error {
	l, err := Up(ctx, Options{Prefix: prefix, Nodes: nodes})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "lab %s is up: namespaces %s\n", l.Prefix, strings.Join(l.names(), " "))
	fmt.Fprintf(stdout, "start a firewall: ip netns exec %s rampart run --config FILE\n", l.Name(FWName(0)))
	fmt.Fprintf(stdout, "remove it:        rampart lab down --prefix %s\n", l.Prefix)
	return nil
}

func downCmd(prefix string, stdout io.Writer) error {
	prefixes := []string{prefix}
	if prefix == "" {
		var err error
		if prefixes, err = Prefixes(); err != nil {
			return err
		}
	}
	var errs []error
	for _, p := range prefixes {
		if err := Sweep(p); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(stdout, "lab %s removed\n", p)
	}
	if len(prefixes) == 0 {
		fmt.Fprintln(stdout, "no lab to remove")
	}
	return errors.Join(errs...)
}

func (l *Lab) names() []string {
	var out []string
	for _, ns := range l.all() {
		out = append(out, ns.Name)
	}
	return out
}
