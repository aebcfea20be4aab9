package gctune

import (
	"runtime/debug"
	"testing"
)

func TestApply(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	oldPct := debug.SetGCPercent(100)
	oldLim := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetGCPercent(oldPct); debug.SetMemoryLimit(oldLim) })

	limit := Apply()
	if limit <= 0 {
		t.Fatalf("Apply set no memory limit")
	}
	if got := debug.SetMemoryLimit(-1); got != limit {
		t.Errorf("memory limit %d, want %d", got, limit)
	}
	if got := debug.SetGCPercent(Percent); got != Percent {
		t.Errorf("GOGC %d, want %d", got, Percent)
	}

	t.Setenv("GOGC", "50")
	if Apply() != 0 {
		t.Error("Apply overrode GOGC from the environment")
	}
}
