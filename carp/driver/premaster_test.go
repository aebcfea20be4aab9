package driver

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rampart/carp"
)

// TestFakeBeforeMaster: the pre-master hook runs before the VIPs are
// added, with a bounded context, and a failing hook does not stop the
// takeover.
func TestFakeBeforeMaster(t *testing.T) {
	p := newFakePair(t)
	d, err := New(Options{
		Config: testConfig(t, "a", 200), Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil)),
		BeforeMaster: func(ctx context.Context) error {
			if _, ok := ctx.Deadline(); !ok {
				t.Error("the pre-master hook's ctx has no deadline")
			}
			p.log.add("a commit")
			return errors.New("commit failed")
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	td := &testDriver{Driver: d, trs: make(chan Transition, 64)}
	d.OnTransition(func(g uint8, from, to carp.State, why carp.Why) {
		td.trs <- Transition{Group: g, From: from, To: to, Reason: why}
	})
	paths := []*path{{sock: p.hb[0], dev: "eth2", heartbeat: true}, {sock: p.lan[0], dev: "eth0", multicast: true}}
	if err := d.start(p.kern[0], paths, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	td.waitState(t, carp.Master)
	if diff := cmp.Diff([]string{"a commit", "a up"}, p.log.list()); diff != "" {
		t.Errorf("order of the takeover (-want +got):\n%s", diff)
	}
}
