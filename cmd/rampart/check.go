package main

import (
	"flag"
	"fmt"
	"io"

	"rampart/config"
	"rampart/firewall"
)

// checkCmd validates a config and prints its ruleset, as `nft -c` or
// `nginx -t` do: exit 0 when valid, 1 with every error on stderr when not.
func checkCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quiet := fs.Bool("q", false, "validate only; print nothing when the file is valid")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: rampart check [-q] FILE")
		return 2
	}
	cfg, err := config.Load(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	rs, err := firewall.Compile(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", fs.Arg(0), err)
		return 1
	}
	if !*quiet {
		fmt.Fprint(stdout, rs.String())
	}
	return 0
}
