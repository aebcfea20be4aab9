package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"time"
)

// percentile returns the p-th percentile (0-100) of sorted by the
// nearest-rank method; 0 for no samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// jitterPct is the p99 of |interval − period| over consecutive times, as
// a percentage of period. ok is false with fewer than two times.
func jitterPct(times []time.Time, period time.Duration) (pct float64, n int, ok bool) {
	if len(times) < 2 || period <= 0 {
		return 0, 0, false
	}
	devs := make([]time.Duration, 0, len(times)-1)
	for i := 1; i < len(times); i++ {
		d := times[i].Sub(times[i-1]) - period
		devs = append(devs, max(d, -d))
	}
	slices.Sort(devs)
	return 100 * float64(percentile(devs, 99)) / float64(period), len(devs), true
}

// result is what the benchmark reports.
type result struct {
	requests     int
	errors       int
	p50, p99     time.Duration
	dash, api    []time.Duration // sorted, for the breakdown
	adverts      int
	jitter       float64
	jitterOK     bool
	duration     time.Duration
	advbase      time.Duration
	clients      int
	maxDeviation time.Duration
	// The same adverts as the LAN client heard them: in this one-box lab
	// the receive path shares the saturated CPUs, so this shows the box,
	// not the sender.
	heardAdverts int
	heardJitter  float64
	heardMax     time.Duration
	cpu          cpuUse
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }

func (r result) print(w io.Writer) {
	fmt.Fprintf(w, "\nweb UI: %d clients for %s: %d requests (%.0f/s), %d errors\n",
		r.clients, r.duration, r.requests, float64(r.requests)/r.duration.Seconds(), r.errors)
	fmt.Fprintf(w, "  dashboard      p50 %s ms  p99 %s ms  (%d)\n", ms(percentile(r.dash, 50)), ms(percentile(r.dash, 99)), len(r.dash))
	fmt.Fprintf(w, "  /api/v1/status p50 %s ms  p99 %s ms  (%d)\n", ms(percentile(r.api, 50)), ms(percentile(r.api, 99)), len(r.api))
	jitter := "NA"
	if r.jitterOK {
		jitter = fmt.Sprintf("%.2f", r.jitter)
		fmt.Fprintf(w, "carp adverts meanwhile, as fw-a sent them: %d intervals at advbase %s, p99 deviation %.2f%%, worst %s ms\n",
			r.adverts, r.advbase, r.jitter, ms(r.maxDeviation))
		fmt.Fprintf(w, "  as the LAN client heard them:  %d intervals, p99 deviation %.2f%%, worst %s ms\n",
			r.heardAdverts, r.heardJitter, ms(r.heardMax))
	} else {
		fmt.Fprintln(w, "carp adverts: not measured (no HA pair)")
	}
	r.cpu.print(w, r.requests)
	fmt.Fprintf(w, "RESULT ui_p50_ms=%s ui_p99_ms=%s advert_jitter_pct=%s\n", ms(r.p50), ms(r.p99), jitter)
}
