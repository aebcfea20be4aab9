package statesync

import (
	"testing"
	"time"
)

// TestBuilt: built frames fill in order, a full one moves to ready, a
// frame starts only with room in the window, and take returns the
// oldest first.
func TestBuilt(t *testing.T) {
	var b built
	t0 := time.Unix(1000, 0)
	add := func(port uint16, room int) (bool, bool) {
		e := tcpFlow(port, 1)
		ok, wake, err := b.add(OpUpdate, &e, t0.Add(time.Duration(port)*time.Millisecond), 2, room)
		if err != nil {
			t.Fatal(err)
		}
		return ok, wake
	}
	if ok, _ := add(1, 0); ok {
		t.Error("a frame started without room in the window")
	}
	for i, want := range []struct{ ok, wake bool }{
		{true, true},   // 1: first record of a frame
		{true, true},   // 2: the frame is full
		{true, true},   // 3: the full frame moves to ready, a new one starts
		{true, true},   // 4: full again
		{false, false}, // 5: a third frame does not fit a room of 2
	} {
		if ok, wake := add(uint16(i+1), 2); ok != want.ok || wake != want.wake {
			t.Errorf("record %d: ok %v wake %v, want %v %v", i+1, ok, wake, want.ok, want.wake)
		}
	}
	if b.n != 4 || b.frames() != 2 || !b.full(2) {
		t.Errorf("%d records in %d frames, full %v; want 4 in 2, full", b.n, b.frames(), b.full(2))
	}
	if since, _ := b.oldest(); !since.Equal(t0.Add(time.Millisecond)) {
		t.Errorf("oldest %v", since)
	}
	var ports []uint16
	for {
		f, ok := b.take()
		if !ok {
			break
		}
		fr, err := ParseFrame(putHeader(t, f.buf), nil)
		if err != nil || len(fr.Records) != f.n {
			t.Fatalf("built frame: %d records, %v; want %d", len(fr.Records), err, f.n)
		}
		for _, r := range fr.Records {
			ports = append(ports, r.Entry.Orig.SrcPort)
		}
		b.recycle(f.buf)
	}
	if d := diff([]uint16{1, 2, 3, 4}, ports); d != "" {
		t.Errorf("order (-want +got):\n%s", d)
	}
	if b.n != 0 || b.frames() != 0 {
		t.Errorf("after taking all: %d records, %d frames", b.n, b.frames())
	}
	add(9, 1)
	b.reset()
	if b.n != 0 || b.frames() != 0 {
		t.Errorf("after reset: %d records, %d frames", b.n, b.frames())
	}
}

func putHeader(t *testing.T, b []byte) []byte {
	if err := putEntriesHeader(b, 1, 0); err != nil {
		t.Fatal(err)
	}
	return b
}
