package appliance

import (
	"testing"
	"time"
)

func TestRestartHoldLeft(t *testing.T) {
	for _, tt := range []struct {
		restarts string
		ran      time.Duration
		want     time.Duration
	}{
		{"", 0, 0},            // not under PID 1
		{"0", 0, 0},           // first start
		{"x", 0, 0},           // garbage: no hold
		{"1", 0, restartHold}, // a restart: the whole hold
		{"3", 20 * time.Second, restartHold - 20*time.Second}, // a reload restarted the driver
		{"1", 2 * restartHold, 0},                             // long after: none
	} {
		if got := restartHoldLeft(tt.restarts, tt.ran); got != tt.want {
			t.Errorf("restartHoldLeft(%q, %v) = %v, want %v", tt.restarts, tt.ran, got, tt.want)
		}
	}
}
