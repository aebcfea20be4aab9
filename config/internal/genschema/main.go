// Command genschema writes config/schema.json from the Go types, for
// `go generate ./config`.
package main

import (
	"flag"
	"fmt"
	"os"

	"rampart/config"
)

func main() {
	out := flag.String("o", "schema.json", "file to write")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "genschema:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	b, err := config.JSONSchema()
	if err != nil {
		return err
	}
	return os.WriteFile(out, b, 0o644)
}
