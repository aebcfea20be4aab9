// Package traffic keeps the last hour of interface byte counters in
// memory, so the dashboard can graph rates without a time-series
// database. It is bounded (one ring per interface, interfaces not seen
// for a window are dropped) and pure: the caller samples and passes the
// time.
package traffic

import (
	"math"
	"time"

	"rampart/webui/chart"
)

// Defaults: a sample every 15 s over an hour is 240 points per line.
const (
	DefaultInterval = 15 * time.Second
	DefaultWindow   = time.Hour
)

type sample struct {
	t      time.Time
	rx, tx uint64
}

// History holds counter samples per interface. It is not safe for
// concurrent use; the caller locks.
type History struct {
	interval, window time.Duration
	size             int
	rings            map[string]*ring
}

type ring struct {
	buf  []sample
	next int
	n    int
}

// New returns a History keeping window at one sample per interval; zero
// values take the defaults.
func New(interval, window time.Duration) *History {
	if interval <= 0 {
		interval = DefaultInterval
	}
	if window <= 0 {
		window = DefaultWindow
	}
	return &History{interval: interval, window: window, size: int(window/interval) + 2, rings: map[string]*ring{}}
}

// Interval is the sampling period the caller should keep.
func (h *History) Interval() time.Duration { return h.interval }

// Record adds one sample of name's counters, and forgets interfaces whose
// last sample is older than the window.
func (h *History) Record(now time.Time, name string, rx, tx uint64) {
	r := h.rings[name]
	if r == nil {
		r = &ring{buf: make([]sample, h.size)}
		h.rings[name] = r
	}
	r.buf[r.next] = sample{now, rx, tx}
	r.next = (r.next + 1) % len(r.buf)
	r.n = min(r.n+1, len(r.buf))
	for n, other := range h.rings {
		if last, ok := other.last(); ok && now.Sub(last.t) > h.window {
			delete(h.rings, n)
		}
	}
}

func (r *ring) last() (sample, bool) {
	if r.n == 0 {
		return sample{}, false
	}
	return r.buf[(r.next-1+len(r.buf))%len(r.buf)], true
}

func (r *ring) samples() []sample {
	out := make([]sample, 0, r.n)
	for i := range r.n {
		out = append(out, r.buf[(r.next-r.n+i+len(r.buf))%len(r.buf)])
	}
	return out
}

// Rates returns name's receive and transmit rates in bytes per second,
// one point per pair of samples at the later one's time. A counter that
// went backwards (a reset) or a pause over three intervals is a gap.
func (h *History) Rates(name string) (rx, tx []chart.Point) {
	r := h.rings[name]
	if r == nil {
		return nil, nil
	}
	ss := r.samples()
	for i := 1; i < len(ss); i++ {
		a, b := ss[i-1], ss[i]
		dt := b.t.Sub(a.t)
		if dt <= 0 || dt > 3*h.interval || b.rx < a.rx || b.tx < a.tx {
			rx = append(rx, chart.Point{T: b.t, V: math.NaN()})
			tx = append(tx, chart.Point{T: b.t, V: math.NaN()})
			continue
		}
		rx = append(rx, chart.Point{T: b.t, V: float64(b.rx-a.rx) / dt.Seconds()})
		tx = append(tx, chart.Point{T: b.t, V: float64(b.tx-a.tx) / dt.Seconds()})
	}
	return rx, tx
}
