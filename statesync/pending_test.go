package statesync

import (
	"testing"
	"time"
)

func TestPending(t *testing.T) {
	t0 := time.Unix(1000, 0)
	p := newPending()
	const limit = 3
	a1, a2 := tcpFlow(1, 1), tcpFlow(1, 2)
	a2.TCP = nil // an update without protoinfo
	b := tcpFlow(2, 1)
	c := masqFlow(3)
	d := tcpFlow(4, 1)

	var got []addResult
	got = append(got, p.add(OpUpdate, &a1, t0, limit))
	got = append(got, p.add(OpUpdate, &b, t0.Add(time.Millisecond), limit))
	got = append(got, p.add(OpUpdate, &a2, t0.Add(2*time.Millisecond), limit))
	got = append(got, p.add(OpDestroy, &c, t0.Add(3*time.Millisecond), limit))
	got = append(got, p.add(OpUpdate, &d, t0.Add(4*time.Millisecond), limit)) // over the bound
	got = append(got, p.add(OpDestroy, &b, t0.Add(5*time.Millisecond), limit))
	if d := diff([]addResult{added, added, coalesced, added, refused, coalesced}, got); d != "" {
		t.Errorf("add results (-want +got):\n%s", d)
	}
	if since, _ := p.oldest(); !since.Equal(t0) {
		t.Errorf("oldest = %v, want %v", since, t0)
	}

	recs, since := p.take(2, nil)
	wantA := a2
	wantA.TCP = a1.TCP // kept from the older change
	want := []Record{{Op: OpUpdate, Entry: wantA}, {Op: OpDestroy, Entry: b}}
	if d := diff(want, recs); d != "" {
		t.Errorf("first take (-want +got):\n%s", d)
	}
	if !since.Equal(t0) {
		t.Errorf("first take since %v, want %v", since, t0)
	}
	recs, since = p.take(10, nil)
	if d := diff([]Record{{Op: OpDestroy, Entry: c}}, recs); d != "" {
		t.Errorf("second take (-want +got):\n%s", d)
	}
	if !since.Equal(t0.Add(3 * time.Millisecond)) {
		t.Errorf("second take since %v", since)
	}
	if p.len() != 0 {
		t.Errorf("len after taking all = %d", p.len())
	}
	// A destroyed flow that comes back is a new connection: no merge.
	p.add(OpDestroy, &a1, t0, limit)
	p.add(OpUpdate, &a2, t0, limit)
	recs, _ = p.take(10, nil)
	if d := diff([]Record{{Op: OpUpdate, Entry: a2}}, recs); d != "" {
		t.Errorf("destroy then update (-want +got):\n%s", d)
	}
	p.add(OpUpdate, &d, t0, limit)
	if n := p.reset(); n != 1 || p.len() != 0 {
		t.Errorf("reset = %d, len %d", n, p.len())
	}
}

func TestPendingKeyHasZone(t *testing.T) {
	p := newPending()
	const limit = 10
	a := tcpFlow(1, 1)
	b := a
	b.Zone = 7
	p.add(OpUpdate, &a, time.Time{}, limit)
	if r := p.add(OpUpdate, &b, time.Time{}, limit); r != added {
		t.Errorf("same tuple in another zone: %v, want added", r)
	}
}
