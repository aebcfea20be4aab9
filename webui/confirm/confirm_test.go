package confirm

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type payload struct{ Old, New string }

func propose(t *testing.T, e *Engine[payload], id string, mark uint64) Pending[payload] {
	t.Helper()
	p, err := e.Propose(t0, Proposal[payload]{ID: id, Actor: "admin", Mark: mark, Payload: payload{"v1", "v2"}})
	if err != nil {
		t.Fatalf("Propose: %v", err)
	}
	return p
}

func TestDeadlineAndDue(t *testing.T) {
	e := New[payload](0)
	p := propose(t, e, "c1", 10)
	if got, want := p.Deadline, t0.Add(DefaultTimeout); !got.Equal(want) {
		t.Fatalf("deadline %v, want %v", got, want)
	}
	if _, due := e.Due(t0.Add(DefaultTimeout - time.Nanosecond)); due {
		t.Error("due before the deadline")
	}
	got, due := e.Due(t0.Add(DefaultTimeout))
	if !due || got.ID != "c1" || got.Payload.Old != "v1" {
		t.Fatalf("Due at the deadline: %+v %v; want c1 with its payload", got, due)
	}
	// Still pending until the revert is done: a failed revert is retried.
	if _, err := e.Propose(t0.Add(DefaultTimeout), Proposal[payload]{ID: "c2"}); !errors.Is(err, ErrBusy) {
		t.Errorf("propose while a revert is due: %v, want ErrBusy", err)
	}
	if _, err := e.Check(t0.Add(DefaultTimeout), "c1", 11); !errors.Is(err, ErrExpired) {
		t.Errorf("confirm at the deadline: %v, want ErrExpired", err)
	}
	if _, err := e.Done("c1"); err != nil {
		t.Fatal(err)
	}
	if _, due := e.Due(t0.Add(time.Hour)); due {
		t.Error("due after Done")
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		id   string
		mark uint64
		at   time.Duration
		want error
	}{
		{"later connection", "c1", 11, time.Second, nil},
		{"the proposing request's connection", "c1", 10, time.Second, ErrSameConnection},
		{"an older connection", "c1", 3, time.Second, ErrSameConnection},
		{"other change", "c0", 11, time.Second, ErrStale},
		{"one tick before the deadline", "c1", 11, 30*time.Second - 1, nil},
		{"at the deadline", "c1", 11, 30 * time.Second, ErrExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := New[payload](30 * time.Second)
			propose(t, e, "c1", 10)
			_, err := e.Check(t0.Add(tc.at), tc.id, tc.mark)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Errorf("Check: %v, want %v", err, tc.want)
			}
			if _, ok := e.Pending(); !ok {
				t.Error("Check removed the pending change")
			}
		})
	}
}

func TestOneAtATime(t *testing.T) {
	e := New[payload](time.Minute)
	if _, err := e.Check(t0, "x", 1); !errors.Is(err, ErrNone) {
		t.Errorf("Check with nothing pending: %v, want ErrNone", err)
	}
	if _, err := e.Done("x"); !errors.Is(err, ErrNone) {
		t.Errorf("Done with nothing pending: %v, want ErrNone", err)
	}
	propose(t, e, "c1", 1)
	if _, err := e.Propose(t0, Proposal[payload]{ID: "c2"}); !errors.Is(err, ErrBusy) {
		t.Errorf("second proposal: %v, want ErrBusy", err)
	}
	if _, err := e.Done("c2"); !errors.Is(err, ErrStale) {
		t.Errorf("Done of another id: %v, want ErrStale", err)
	}
	done, err := e.Done("c1")
	if err != nil {
		t.Fatal(err)
	}
	want := Pending[payload]{
		Proposal: Proposal[payload]{ID: "c1", Actor: "admin", Mark: 1, Payload: payload{"v1", "v2"}},
		Proposed: t0, Deadline: t0.Add(time.Minute),
	}
	if diff := cmp.Diff(want, done); diff != "" {
		t.Errorf("Done (-want +got):\n%s", diff)
	}
	if _, err := e.Propose(t0, Proposal[payload]{ID: "c2", Timeout: time.Second}); err != nil {
		t.Errorf("propose after Done: %v", err)
	}
	p, _ := e.Pending()
	if got := p.Left(t0.Add(500 * time.Millisecond)); got != 500*time.Millisecond {
		t.Errorf("Left = %v, want 500ms (the proposal's own timeout)", got)
	}
	if got := p.Left(t0.Add(time.Hour)); got != 0 {
		t.Errorf("Left after the deadline = %v, want 0", got)
	}
	if _, err := New[payload](0).Propose(t0, Proposal[payload]{}); err == nil {
		t.Error("a proposal without an id was accepted")
	}
}
