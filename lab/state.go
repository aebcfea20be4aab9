package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"rampart/internal/netns"
)

// StateDir records every lab run by its prefix. It lives on /run, so a
// reboot (which also drops every namespace) clears it too.
const StateDir = "/run/rampart-lab"

// runState is what a run records about itself.
type runState struct {
	Prefix  string    `json:"prefix"`
	Nodes   int       `json:"nodes"`
	Created time.Time `json:"created"`
	PID     int       `json:"pid"` // the process that ran Up
}

func statePath(prefix string) string { return filepath.Join(StateDir, prefix+".json") }

func writeState(s runState) error {
	if err := os.MkdirAll(StateDir, 0o755); err != nil {
		return fmt.Errorf("lab: state dir: %w", err)
	}
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("lab: state: %w", err)
	}
	if err := os.WriteFile(statePath(s.Prefix), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("lab: state: %w", err)
	}
	return nil
}

// readState returns the recorded state of prefix, or a zero state with
// only the prefix set when none is recorded.
func readState(prefix string) runState {
	s := runState{Prefix: prefix}
	if b, err := os.ReadFile(statePath(prefix)); err == nil {
		_ = json.Unmarshal(b, &s) // a torn file still names the run
		s.Prefix = prefix
	}
	return s
}

// Prefixes lists the lab runs on this machine: those recorded in StateDir
// and those recognizable by their switch namespace (<prefix>-sw), which no
// other user of netns makes.
func Prefixes() ([]string, error) {
	seen := map[string]bool{}
	entries, err := os.ReadDir(StateDir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("lab: list runs: %w", err)
	}
	for _, e := range entries {
		if p, ok := strings.CutSuffix(e.Name(), ".json"); ok && checkPrefix(p) == nil {
			seen[p] = true
		}
	}
	names, err := netns.List(netns.PrefixBase)
	if err != nil {
		return nil, fmt.Errorf("lab: list runs: %w", err)
	}
	for _, n := range names {
		if p, ok := strings.CutSuffix(n, "-sw"); ok && checkPrefix(p) == nil {
			seen[p] = true
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out, nil
}

// Sweep removes the lab run prefix: it kills every process inside its
// namespaces, deletes them and forgets the run. An empty prefix sweeps
// every lab run on the machine (see Prefixes), and nothing else.
func Sweep(prefix string) error {
	prefixes := []string{prefix}
	if prefix == "" {
		var err error
		if prefixes, err = Prefixes(); err != nil {
			return err
		}
	}
	var errs []error
	for _, p := range prefixes {
		if err := checkPrefix(p); err != nil {
			errs = append(errs, err)
			continue
		}
		// The trailing dash keeps rp12 from sweeping rp123's namespaces.
		if err := netns.Sweep(p + "-"); err != nil {
			errs = append(errs, fmt.Errorf("lab: sweep %s: %w", p, err))
			continue
		}
		if err := os.Remove(statePath(p)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("lab: sweep %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}
