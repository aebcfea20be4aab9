package appliance

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rampart/webui"
)

func testLogger(r *logRing) *slog.Logger {
	return slog.New(&logHandler{next: slog.NewTextHandler(io.Discard, nil), ring: r})
}

func TestLogRingKeepsLinesInOrder(t *testing.T) {
	r := newLogRing()
	log := testLogger(r).With("node", "a")
	log.Info("ready", "hostname", "fw one")
	log.WithGroup("ui").Warn("setup", "setup_token", "SECRET-TOKEN")
	lines := r.since(0, 10)
	var got []string
	for _, l := range lines {
		got = append(got, l.Text)
	}
	want := []string{
		`INFO ready node=a hostname="fw one"`,
		`WARN setup node=a ui.setup_token=SECRET-TOKEN`,
	}
	// The token is shown on the console, never kept: only at top level
	// is the key exactly setup_token.
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
	log.Warn("setup", "setup_token", "SECRET-TOKEN")
	if l := r.since(2, 10); len(l) != 1 || strings.Contains(l[0].Text, "SECRET") || l[0].Seq != 3 {
		t.Errorf("setup token line kept as %+v, want seq 3 without the token", l)
	}
	if l := r.since(1, 1); len(l) != 1 || l[0].Seq != 2 {
		t.Errorf("since(1, 1) = %+v, want just seq 2", l)
	}
}

func TestLogRingIsBounded(t *testing.T) {
	r := newLogRing()
	log := testLogger(r)
	for i := range logRingSize + 10 {
		log.Info("line", "i", i)
	}
	lines := r.since(0, 2*logRingSize)
	if len(lines) != logRingSize || lines[0].Seq != 11 || lines[len(lines)-1].Seq != logRingSize+10 {
		t.Fatalf("kept %d lines, seq %d..%d; want %d lines, 11..%d",
			len(lines), lines[0].Seq, lines[len(lines)-1].Seq, logRingSize, logRingSize+10)
	}
}

func TestLogRingRecordsCarpTransitions(t *testing.T) {
	r := newLogRing()
	log := testLogger(r)
	log.Log(context.Background(), slog.LevelInfo, carpTransitionMsg, "group", uint8(7), "from", "backup", "to", "master", "why", "master_down")
	for range transitionRingSize + 5 {
		log.Info(carpTransitionMsg, "group", 1, "from", "master", "to", "backup", "why", "maintenance")
	}
	trs := r.recentTransitions()
	if len(trs) != transitionRingSize {
		t.Fatalf("kept %d transitions, want %d", len(trs), transitionRingSize)
	}
	r2 := newLogRing()
	testLogger(r2).Info(carpTransitionMsg, "group", uint8(7), "from", "backup", "to", "master", "why", "master_down")
	got := r2.recentTransitions()[0]
	got.Time = got.Time.UTC().Truncate(0)
	want := webui.Transition{Time: got.Time, VHID: 7, From: "backup", To: "master", Why: "master_down"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("transition (-want +got):\n%s", diff)
	}
	if l := r2.since(0, 1); l[0].Kind != "transition" {
		t.Errorf("kind %q, want transition", l[0].Kind)
	}
}
