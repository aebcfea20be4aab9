package boot

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// Modprobe is /sbin/modprobe, which the kernel runs for request_module
// (for example "modprobe -q -- nft-expr-ct" when a rule needs nft_ct).
// It loads the named module or alias with its dependencies and returns
// the exit status. Options other than -q are accepted and ignored.
func Modprobe(args []string, stderr io.Writer) int {
	quiet := false
	var names []string
	for i, a := range args {
		if a == "--" {
			names = append(names, args[i+1:]...)
			break
		}
		if strings.HasPrefix(a, "-") {
			if a == "-q" || a == "--quiet" {
				quiet = true
			}
			continue
		}
		names = append(names, a)
	}
	if len(names) == 0 {
		fmt.Fprintln(stderr, "usage: modprobe [-q] [--] module")
		return 2
	}
	dir, err := ModuleDir()
	if err != nil {
		return report(stderr, quiet, err)
	}
	l, err := NewLoader(dir)
	if err != nil {
		return report(stderr, quiet, err)
	}
	// modprobe loads the first name; the rest are its parameters.
	err = l.Load(names[0])
	debugKmsg(names[0], err)
	if err != nil {
		return report(stderr, quiet, err)
	}
	return 0
}

// debugKmsg logs each request to the kernel log under rampart.debug:
// every request costs an exec of this binary, which is worth seeing.
func debugKmsg(name string, err error) {
	if _, ok := cmdlineFlag(readCmdline(), DebugFlag); !ok {
		return
	}
	f, ferr := os.OpenFile("/dev/kmsg", os.O_WRONLY, 0)
	if ferr != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "rampart modprobe: %s: err=%v\n", name, err)
}

func report(w io.Writer, quiet bool, err error) int {
	if !quiet {
		fmt.Fprintln(w, "modprobe:", err)
	}
	return 1
}
