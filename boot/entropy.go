package boot

import (
	"errors"
	"runtime"

	"golang.org/x/sys/unix"
)

// seedEntropy waits in getrandom(2) until the kernel's random number
// generator is seeded, and then reports the uptime. It runs from the
// first moment of boot for its side effect: a reader blocked in
// getrandom makes Linux (6.1) gather timer jitter, one bit per jiffy, so
// seeding takes about a second of wall time, mostly idle. Started here it
// overlaps the module loading and the wait for the USB bus; left to the
// first reader, the web UI's keys and setup token, the second comes on
// top of the boot. A CPU with RDRAND (any box from the last ten years)
// seeds at once, and this returns at once. No entropy is made up: this
// only reads.
func seedEntropy(done func(err error)) {
	// The kernel spins in the reader's thread between jiffies: at the
	// lowest priority the spinning takes no CPU from the module loading
	// beside it. The thread is never unlocked, so it ends with this
	// goroutine rather than go back to the runtime niced.
	runtime.LockOSThread()
	_ = unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), 19)
	var b [1]byte
	var err error
	// A signal interrupts the wait; PID 1's are few, so this is bounded.
	for range 100 {
		if _, err = unix.Getrandom(b[:], 0); !errors.Is(err, unix.EINTR) {
			break
		}
	}
	done(err)
}
