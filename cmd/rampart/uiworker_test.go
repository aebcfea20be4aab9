package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// ui-worker is for `rampart run` to start, so the usage does not offer
// it, and run by hand it refuses rather than wait on a socket it lacks.
func TestUIWorkerHidden(t *testing.T) {
	var out, errOut bytes.Buffer
	rampart(context.Background(), []string{"help"}, &out, &errOut)
	if strings.Contains(out.String(), "ui-worker") {
		t.Errorf("usage shows ui-worker:\n%s", out.String())
	}
	errOut.Reset()
	if code := rampart(context.Background(), []string{"ui-worker", "x"}, &out, &errOut); code != 2 {
		t.Errorf("ui-worker with an argument: exit %d, want 2; stderr %s", code, errOut.String())
	}
}
