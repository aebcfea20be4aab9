// Package gctune sets Go's garbage collector for the daemon. The default
// (GOGC=100) collects whenever the heap doubles, which for state sync's
// caches of hundreds of thousands of flows means a collection every few
// thousand events: a fifth of the CPU that replication takes. An
// appliance owns its box, so the daemon lets the heap grow to five times
// what is live (GOGC=400) and bounds it instead with a soft memory limit,
// a quarter of the RAM, past which the collector works as hard as it
// must. The environment's GOGC or GOMEMLIMIT, when set, win.
package gctune

import (
	"os"
	"runtime/debug"

	"golang.org/x/sys/unix"
)

// Percent is the GOGC the daemon runs with.
const Percent = 400

// Apply sets the collector for a daemon; it returns the memory limit set,
// 0 when the environment decides.
func Apply() int64 {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return 0
	}
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil || si.Totalram == 0 {
		return 0 // no limit known: keep the default collector
	}
	limit := int64(uint64(si.Totalram) * uint64(si.Unit) / 4)
	debug.SetMemoryLimit(limit)
	debug.SetGCPercent(Percent)
	return limit
}
