package main

import (
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var s []time.Duration
	for i := 1; i <= 100; i++ {
		s = append(s, time.Duration(i)*time.Millisecond)
	}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {0, time.Millisecond}} {
		if got := percentile(s, tc.p); got != tc.want {
			t.Errorf("percentile(1..100 ms, %v) = %v, want %v", tc.p, got, tc.want)
		}
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("percentile(nil) = %v, want 0", got)
	}
}

func TestJitterPct(t *testing.T) {
	base := time.Unix(1000, 0)
	period := 100 * time.Millisecond
	var times []time.Time
	at := base
	for i := range 101 {
		times = append(times, at)
		at = at.Add(period)
		if i == 50 {
			at = at.Add(4 * time.Millisecond) // one late advert
		}
	}
	pct, n, ok := jitterPct(times, period)
	if !ok || n != 100 {
		t.Fatalf("jitterPct: ok %v n %d, want ok with 100 intervals", ok, n)
	}
	// 100 deviations: 99 of 0 and one of 4 ms; the p99 (rank 99) is 0.
	if pct != 0 {
		t.Errorf("one late advert in 100: p99 %.2f%%, want 0", pct)
	}
	times[10] = times[10].Add(5 * time.Millisecond)
	times[20] = times[20].Add(5 * time.Millisecond)
	if pct, _, _ := jitterPct(times, period); pct != 5 {
		t.Errorf("several 5 ms deviations: p99 %.2f%%, want 5", pct)
	}
	if _, _, ok := jitterPct(times[:1], period); ok {
		t.Error("jitterPct of one advert: ok")
	}
}
