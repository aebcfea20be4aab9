package boot

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// Early start. PID 1 starts the appliance as soon as the modules are in,
// before the config stick has settled: `rampart run --args-fd 3`. The
// child starts its Go runtime and its web UI process meanwhile and then
// waits on fd 3 for the arguments and environment of the real start,
// which PID 1 sends once it has mounted the stick and read the config.
// Under emulation that moved 0.3-0.6 s of process starts off the boot's
// critical path into usb-storage's one-second settle delay
// (docs/benchmarks.md, boot). Restarts exec the final arguments directly.

// ArgsFDFlag is `rampart run`'s flag for the early start.
const ArgsFDFlag = "--args-fd"

// LateStart is what PID 1 sends an early-started appliance.
type LateStart struct {
	Args []string // the arguments after "run"
	Env  []string // KEY=VALUE, added to the environment
}

// maxLateStart bounds the message: a few paths and flags.
const maxLateStart = 64 << 10

// ReadLateStart reads the message on r, the pipe from PID 1; it fails
// when PID 1 closes the pipe without one (the boot is being stopped).
func ReadLateStart(r io.Reader) (LateStart, error) {
	var ls LateStart
	data, err := io.ReadAll(io.LimitReader(r, maxLateStart+1))
	if err != nil {
		return ls, fmt.Errorf("boot: read start arguments: %w", err)
	}
	if len(data) == 0 {
		return ls, fmt.Errorf("boot: no start arguments: PID 1 closed the pipe")
	}
	if len(data) > maxLateStart {
		return ls, fmt.Errorf("boot: start arguments over %d bytes", maxLateStart)
	}
	if err := json.Unmarshal(data, &ls); err != nil {
		return ls, fmt.Errorf("boot: start arguments: %w", err)
	}
	return ls, nil
}

// Apply adds ls.Env to the process's environment.
func (ls LateStart) Apply() error {
	for _, kv := range ls.Env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fmt.Errorf("boot: start environment: bad entry %q", kv)
		}
		if err := os.Setenv(k, v); err != nil {
			return fmt.Errorf("boot: start environment: %w", err)
		}
	}
	return nil
}

// sendLateStart writes ls to w and closes it.
func sendLateStart(w io.WriteCloser, ls LateStart) error {
	data, err := json.Marshal(ls)
	if err == nil {
		_, err = w.Write(data)
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("boot: send start arguments: %w", err)
	}
	return nil
}
