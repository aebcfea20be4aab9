package carp

import (
	"encoding/binary"
	"testing"
	"time"
)

// FuzzMachine feeds a machine arbitrary events at arbitrary times (clock
// steps included) and checks what must always hold: Step returns, its
// transitions start from the state it was in, VIPs are held exactly while
// master, and adverts are numbered one after the other.
func FuzzMachine(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 1, 0, 200, 2, 3, 0, 10, 5})
	f.Add([]byte{0, 0, 0, 1, 200, 200, 200, 6, 7, 8, 9, 1, 1, 1})
	f.Fuzz(runFuzzMachine)
}

func runFuzzMachine(t *testing.T, data []byte) {
	c := baseConfig()
	c.Track = []string{"wan"}
	c.PreemptDelay = time.Duration(len(data)%3) * 100 * ms
	m, err := NewMachine(c)
	if err != nil {
		t.Fatal(err)
	}
	now := t0
	var vips bool
	var seq uint64
	state := Init
	for len(data) >= 3 {
		op, arg := data[0], binary.BigEndian.Uint16(data[1:3])
		data = data[3:]
		now = now.Add(fuzzTime(op, arg))
		for _, a := range m.Step(now, fuzzEvent(m, op, arg)) {
			switch a := a.(type) {
			case StateChanged:
				if a.From == a.To || a.From != state {
					t.Fatalf("transition %v->%v while %v", a.From, a.To, state)
				}
				state = a.To
			case AddVIPs:
				vips = true
			case RemoveVIPs:
				vips = false
			case SendAdvert:
				if a.Advert.Seq != seq+1 {
					t.Fatalf("advert seq %d after %d", a.Advert.Seq, seq)
				}
				seq = a.Advert.Seq
			}
		}
		if state != m.State() {
			t.Fatalf("transitions end in %v, machine is %v", state, m.State())
		}
		if vips != (m.State() == Master) {
			t.Fatalf("state %v but VIPs held = %v", m.State(), vips)
		}
	}
}

// fuzzTime mostly moves forward a little, sometimes jumps either way.
func fuzzTime(op byte, arg uint16) time.Duration {
	switch op >> 5 {
	case 0:
		return -time.Duration(arg) * ms
	case 1:
		return time.Duration(arg) * time.Second
	}
	return time.Duration(arg%500) * ms
}

func fuzzEvent(m *Machine, op byte, arg uint16) Event {
	peer := NodeID{'a' + byte(arg%4)}
	adv := Advert{Type: Type(1 + arg%3), VHID: 1, AdvSkew: byte(arg >> 8), Demote: byte(arg>>4) & 3, AdvBaseMS: 100, Node: peer}
	switch op & 15 {
	case 0:
		return Start{}
	case 1:
		return Shutdown{}
	case 2, 3, 4, 5:
		return Timer{At: m.armed}
	case 6, 7, 8:
		return Received{Advert: adv}
	case 9:
		return Unverified{Reason: ReasonAuth}
	case 10:
		return Demote{Cause: Cause(1 + arg%5), Name: "x", By: byte(arg >> 8)}
	case 11:
		return Promote{Cause: Cause(1 + arg%5), Name: "x"}
	case 12:
		return LinkChange{Name: "wan", Up: arg%2 == 0}
	case 13:
		return HeartbeatCarrier{Up: arg%2 == 0}
	case 14:
		return Timer{At: t0.Add(time.Duration(arg) * ms)}
	}
	return Received{Advert: Advert{VHID: 2, Node: peer}}
}
