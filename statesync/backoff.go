package statesync

import "time"

// Backoff spaces reconnection attempts: exponential from Min, capped at
// Max, with "equal jitter" (half the delay fixed, half random) so that
// two nodes that lost the link together do not retry in lockstep and a
// retry never comes sooner than half the nominal delay.
type Backoff struct {
	Min, Max time.Duration
}

// Delay returns the wait before attempt n (0 for the first retry). r is
// a random number in [0, 1).
func (b Backoff) Delay(n int, r float64) time.Duration {
	d := b.Min
	for i := 0; i < n && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	half := d / 2
	return half + time.Duration(r*float64(d-half))
}
