package ctnl

import (
	"errors"
	"testing"
)

func TestWireRoundTrip(t *testing.T) {
	for name, want := range sampleEntries() {
		t.Run(name, func(t *testing.T) {
			b, err := want.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var got Entry
			if err := got.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			if d := diff(want, got); d != "" {
				t.Errorf("round trip (-want +got):\n%s", d)
			}
		})
	}
}

// TestWireGolden pins the layout: a change here breaks peers that run the
// previous version, and takes a new WireVersion.
func TestWireGolden(t *testing.T) {
	tests := []struct {
		name  string
		entry string
		want  string
	}{
		{"udp4 zone mark", "udp4 zone mark", `
			01 02 00000000 00000008 0000001e 00000007 0005
			11 0a000102 0a000202 1388 0035
			11 0a000202 0a000102 0035 1388`},
		{"tcp4 dnat+masquerade", "tcp4 dnat+masquerade", `
			01 1e 00000000 000001be 00069780 00000000 0000
			06 0a4d0202 0a4d0201 c351 2329
			06 0a4d0102 0a4d0101 2329 ee49
			03 07 09 03 01
			0a4d0101 ee49
			0a4d0102 2329`},
		{"icmp6", "icmp6", `
			01 03 00000000 00000008 0000001d 00000009 0003
			3a 20010db8000000000000000000000001 20010db8000000000000000000000002 004d 80 00
			3a 20010db8000000000000000000000002 20010db8000000000000000000000001 004d 81 00`},
	}
	s := sampleEntries()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := s[tt.entry]
			got, err := e.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if d := diff(mustHex(t, tt.want), got); d != "" {
				t.Errorf("encoding (-want +got):\n%s", d)
			}
		})
	}
}

func TestWireSeveral(t *testing.T) {
	s := sampleEntries()
	want := []Entry{s["tcp6 dnat"], s["icmp4"], s["gre4 no reply"]}
	var b []byte
	for _, e := range want {
		var err error
		if b, err = e.AppendBinary(b); err != nil {
			t.Fatal(err)
		}
	}
	var got []Entry
	for len(b) > 0 {
		e, n, err := UnmarshalEntry(b)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e)
		b = b[n:]
	}
	if d := diff(want, got); d != "" {
		t.Errorf("entries (-want +got):\n%s", d)
	}
}

func TestWireErrors(t *testing.T) {
	e := sampleEntries()["tcp4 masquerade"]
	good, err := e.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	with := func(i int, v byte) []byte {
		b := append([]byte(nil), good...)
		b[i] = v
		return b
	}
	gre := sampleEntries()["gre4 no reply"]
	greBytes, _ := gre.MarshalBinary()
	greBytes[len(greBytes)-1] = 1 // an L4 byte for a protocol without ports
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, errWireShort},
		{"header only", good[:wireHeaderLen], errWireShort},
		{"cut", good[:len(good)-1], errWireShort},
		{"version", with(0, 2), errWireVersion},
		{"flags", with(1, 0x80), errWireFlags},
		{"trailing", append(append([]byte(nil), good...), 0), errWireTrail},
		{"l4 for gre", greBytes, errWireL4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got Entry
			if err := got.UnmarshalBinary(tt.b); !errors.Is(err, tt.want) {
				t.Errorf("UnmarshalBinary: got %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := (&Entry{}).MarshalBinary(); !errors.Is(err, ErrInvalidEntry) {
		t.Errorf("MarshalBinary of an empty entry: got %v, want ErrInvalidEntry", err)
	}
}
