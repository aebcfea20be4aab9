package sim

import (
	"flag"
	"fmt"
	"testing"
	"time"
)

var (
	flagSeed     = flag.Uint64("sim.seed", 0, "run only this seed (as printed by a failure)")
	flagRunSteps = flag.Int("sim.runsteps", 50_000, "steps per run")
	flagSteps    = flag.Int("sim.steps", 0, "TestSimLong: total steps over all runs; 0 skips it")
	flagBase     = flag.Uint64("sim.base", 0, "TestSimLong: first seed; 0 picks one from the clock")
)

// simTotal is what `make test` runs: at least a million steps.
const simTotal = 1_200_000

// TestSim runs fixed seeds, so that a change which breaks an invariant
// fails the same way for everyone.
func TestSim(t *testing.T) {
	if *flagSeed != 0 {
		runSeeds(t, *flagSeed, 1, *flagRunSteps)
		return
	}
	total := simTotal
	if testing.Short() {
		total = simTotal / 10
	}
	runSeeds(t, 1, total / *flagRunSteps, *flagRunSteps)
}

// TestSimLong is `make sim`: new seeds every time, as many steps as asked.
//
//	go test ./carp/sim -run TestSimLong -sim.steps=10000000 -timeout 60m
func TestSimLong(t *testing.T) {
	if *flagSteps == 0 {
		t.Skip("set -sim.steps")
	}
	base := *flagBase
	if base == 0 {
		base = uint64(time.Now().UnixNano())
	}
	t.Logf("first seed %#x", base)
	runSeeds(t, base, (*flagSteps+*flagRunSteps-1) / *flagRunSteps, *flagRunSteps)
}

func runSeeds(t *testing.T, base uint64, runs, steps int) {
	for i := range runs {
		seed := base + uint64(i)
		t.Run(fmt.Sprintf("seed=%#x", seed), func(t *testing.T) {
			t.Parallel()
			stats, err := Chaos(seed, steps)
			if err != nil {
				t.Fatalf("%v\nreplay: go test ./carp/sim -run 'TestSim$' -sim.seed=%#x -sim.runsteps=%d", err, seed, steps)
			}
			if stats.Steps < steps {
				t.Fatalf("ran %d steps of %d", stats.Steps, steps)
			}
			t.Log(stats)
		})
	}
}
