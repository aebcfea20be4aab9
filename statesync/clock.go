package statesync

import "time"

// Clock is the time source of the package: the daemon passes the system
// clock, tests a fake one. Now must carry a monotonic reading (as
// time.Now does), since lags and ages are differences of two readings.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine after d and returns a
	// function that cancels the call, reporting whether it did.
	AfterFunc(d time.Duration, f func()) (stop func() bool)
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// AfterFunc wraps time.AfterFunc.
func (SystemClock) AfterFunc(d time.Duration, f func()) func() bool {
	return time.AfterFunc(d, f).Stop
}

// after returns a channel that receives once, d from now on clk, and the
// function that cancels it.
func after(clk Clock, d time.Duration) (<-chan struct{}, func() bool) {
	c := make(chan struct{}, 1)
	stop := clk.AfterFunc(d, func() { c <- struct{}{} })
	return c, stop
}
