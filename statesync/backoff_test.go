package statesync

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestBackoff(t *testing.T) {
	b := Backoff{Min: 100 * time.Millisecond, Max: 10 * time.Second}
	tests := []struct {
		n    int
		r    float64
		want time.Duration
	}{
		{0, 0, 50 * time.Millisecond},
		{0, 0.999999, 99999950 * time.Nanosecond},
		{1, 0, 100 * time.Millisecond},
		{3, 0.5, 600 * time.Millisecond},
		{7, 0, 5 * time.Second},    // 12.8 s capped at 10 s
		{1000, 0, 5 * time.Second}, // no overflow
		{1000, 0.5, 7500 * time.Millisecond},
	}
	var got []time.Duration
	var want []time.Duration
	for _, tt := range tests {
		got = append(got, b.Delay(tt.n, tt.r))
		want = append(want, tt.want)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("delays (-want +got):\n%s", d)
	}
}
