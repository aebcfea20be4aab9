package statesync

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"golang.org/x/sys/unix"

	"rampart/statesync/ctnl"
)

// fakeCreator refuses the entries its refuse function names and can
// fail a call outright.
type fakeCreator struct {
	calls  []int
	opts   []ctnl.CreateOptions
	refuse func(e *ctnl.Entry) error
	failAt int // 1-based call that fails at the socket; 0 never
}

func (f *fakeCreator) Create(entries []ctnl.Entry, opts ctnl.CreateOptions) ([]ctnl.Failure, error) {
	f.calls = append(f.calls, len(entries))
	f.opts = append(f.opts, opts)
	if len(f.calls) == f.failAt {
		return nil, errors.New("socket gone")
	}
	var fails []ctnl.Failure
	for i := range entries {
		if err := f.refuse(&entries[i]); err != nil {
			fails = append(fails, ctnl.Failure{Index: i, Err: err})
		}
	}
	return fails, nil
}

func TestCommit(t *testing.T) {
	newReceiver := func() *Receiver {
		id, _ := DeriveIdentity([]byte(testSecret), nodeB, nodeA)
		r, err := NewReceiver(ReceiverConfig{Identity: id, Tuning: Tuning{CommitBatch: 3}})
		if err != nil {
			t.Fatal(err)
		}
		var recs []Record
		for i := range 7 {
			recs = append(recs, Record{Op: OpUpdate, Entry: tcpFlow(uint16(i), 1)})
		}
		r.Cache().Apply(recs)
		return r
	}
	refuse := func(e *ctnl.Entry) error {
		switch e.Orig.SrcPort {
		case 2:
			return fmt.Errorf("kernel says: %w", unix.EEXIST)
		case 3:
			return unix.EINVAL
		case 5:
			return fmt.Errorf("%w: no original tuple", ctnl.ErrInvalidEntry)
		}
		return nil
	}

	r := newReceiver()
	fc := &fakeCreator{refuse: refuse}
	res, err := r.Commit(context.Background(), fc, ctnl.CreateOptions{Liberal: true, Replace: true})
	if err != nil {
		t.Fatal(err)
	}
	res.Started, res.Duration = res.Started.UTC().Truncate(0), 0
	want := CommitResult{Started: res.Started, Entries: 7, Committed: 4, Refused: map[string]int{"EEXIST": 1, "EINVAL": 1, "invalid": 1}}
	if d := diff(want, res); d != "" {
		t.Errorf("result (-want +got):\n%s", d)
	}
	if d := diff([]int{3, 3, 1}, fc.calls); d != "" {
		t.Errorf("batches (-want +got):\n%s", d)
	}
	for _, o := range fc.opts {
		if !o.Replace || !o.Liberal {
			t.Errorf("options %+v: want Replace and Liberal", o)
		}
	}
	if lc := r.Status().LastCommit; lc == nil || lc.Committed != 4 || lc.Refused["EEXIST"] != 1 {
		t.Errorf("status last commit: %+v", lc)
	}

	// A socket failure stops the commit and says how far it got.
	r = newReceiver()
	res, err = r.Commit(context.Background(), &fakeCreator{refuse: refuse, failAt: 2}, ctnl.CreateOptions{})
	refused := 0
	for _, n := range res.Refused {
		refused += n
	}
	if err == nil || res.Committed+refused != 3 || res.Err == "" {
		t.Errorf("commit with a failing socket: %+v, %v", res, err)
	}
	// So does a cancelled context, before the first batch.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err = r.Commit(ctx, &fakeCreator{refuse: refuse}, ctnl.CreateOptions{})
	if !errors.Is(err, context.Canceled) || res.Committed != 0 {
		t.Errorf("commit with a cancelled context: %+v, %v", res, err)
	}
}
