package carp

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func testKey(b byte) *Key {
	var k Key
	for i := range k {
		k[i] = b + byte(i)
	}
	return &k
}

func testAdvert() Advert {
	return Advert{
		Type:      TypeAdvert,
		VHID:      7,
		AdvSkew:   55,
		Demote:    50,
		AdvBaseMS: 1000,
		KeyID:     3,
		Node:      nodeID("fw-a"),
		Epoch:     0x0102030405060708,
		Seq:       0x1112131415161718,
		Digest:    Digest{0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf},
	}
}

func nodeID(name string) NodeID {
	id, err := ParseNodeID(name)
	if err != nil {
		panic(err) // test helper with constant names
	}
	return id
}

// TestLayout pins the wire format to the offsets in the package comment.
func TestLayout(t *testing.T) {
	a := testAdvert()
	b := a.Marshal(testKey(1))
	want := strings.Join([]string{
		"71",   // version 7, type 1
		"07",   // vhid
		"37",   // advskew 55
		"32",   // demote 50
		"03e8", // advbase 1000ms
		"03",   // key id
		"00",   // reserved
		hex.EncodeToString([]byte("fw-a")) + strings.Repeat("00", 12), // node id
		"0102030405060708",                 // epoch
		"1112131415161718",                 // seq
		"d0d1d2d3d4d5d6d7d8d9dadbdcdddedf", // digest
	}, "")
	if diff := cmp.Diff(want, hex.EncodeToString(b[:signedLen])); diff != "" {
		t.Errorf("signed part (-want +got):\n%s", diff)
	}
	if len(b) != Len || Len != 88 {
		t.Errorf("len = %d, Len = %d, want 88", len(b), Len)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, a := range []Advert{
		testAdvert(),
		{Type: TypeBowOut, VHID: 255, AdvBaseMS: 1, Node: nodeID("0123456789abcdef")},
		{Type: TypeAdvert, VHID: 1, AdvSkew: 255, Demote: 255, AdvBaseMS: MaxAdvBase, KeyID: 255, Node: nodeID("b"), Epoch: ^uint64(0), Seq: ^uint64(0)},
	} {
		b := a.Marshal(testKey(9))
		got, err := Parse(b)
		if err != nil {
			t.Fatalf("Parse(Marshal(%+v)): %v", a, err)
		}
		if diff := cmp.Diff(a, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
		if !Verify(b, testKey(9)) {
			t.Errorf("Verify of a fresh advert failed")
		}
	}
}

func TestParseRejects(t *testing.T) {
	good := testAdvert().Marshal(testKey(1))
	with := func(i int, v byte) []byte {
		b := bytes.Clone(good)
		b[i] = v
		return b
	}
	tests := []struct {
		name string
		in   []byte
		want Reason
	}{
		{"nil", nil, ReasonShort},
		{"one byte short", good[:Len-1], ReasonShort},
		{"one byte long", append(bytes.Clone(good), 0), ReasonLong},
		{"OpenBSD CARP", with(0, 0x21), ReasonVersion},
		{"VRRPv3", with(0, 0x31), ReasonVersion},
		{"type 0", with(0, 0x70), ReasonType},
		{"type 4", with(0, 0x74), ReasonType},
		{"vhid 0", with(offVHID, 0), ReasonField},
		{"advbase 0", func() []byte {
			b := bytes.Clone(good)
			b[offAdvBase], b[offAdvBase+1] = 0, 0
			return b
		}(), ReasonField},
		{"reserved set", with(offReserved, 1), ReasonField},
		{"empty node id", func() []byte {
			b := bytes.Clone(good)
			clear(b[offNode : offNode+NodeIDLen])
			return b
		}(), ReasonField},
		{"NUL inside node id", with(offNode+1, 0), ReasonField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.in)
			if diff := cmp.Diff(tt.want.String(), ReasonOf(err).String()); diff != "" {
				t.Errorf("Parse reason (-want +got):\n%s", diff)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	key := testKey(1)
	good := testAdvert().Marshal(key)
	if Verify(good, testKey(2)) {
		t.Error("Verify accepted the wrong key")
	}
	for i := range good {
		b := bytes.Clone(good)
		b[i] ^= 0x01
		if Verify(b, key) {
			t.Errorf("Verify accepted a flipped bit in byte %d", i)
		}
	}
	if Verify(good[:Len-1], key) {
		t.Error("Verify accepted a short packet")
	}
}

// crashers are inputs the fuzzer found to break Parse or Open; each stays
// here for good. Seeds of the same shapes start the list.
var crashers = []struct {
	name string
	in   string // hex
}{
	{"empty", ""},
	{"version nibble only", "70"},
	{"all ones", strings.Repeat("ff", Len)},
	{"all zeros", strings.Repeat("00", Len)},
	{"good header, no mac", "7107373203e80300" + strings.Repeat("61", 16) + strings.Repeat("00", 32)},
}

func TestCrashers(t *testing.T) {
	ring := testRing(t, []uint8{7}, Secret{ID: 3, Bytes: []byte("correct horse battery")})
	for _, c := range crashers {
		t.Run(c.name, func(t *testing.T) {
			b, err := hex.DecodeString(c.in)
			if err != nil {
				t.Fatal(err)
			}
			roundTrip(t, b)
			ring.Open(b)
		})
	}
}

// roundTrip is the fuzz property: whatever Parse accepts, Marshal gives
// back the same signed bytes, and those parse to the same advert.
func roundTrip(t *testing.T, b []byte) {
	t.Helper()
	a, err := Parse(b)
	if err != nil {
		if _, ok := err.(Reason); !ok {
			t.Fatalf("Parse returned a %T, not a Reason: %v", err, err)
		}
		return
	}
	out := a.Marshal(testKey(5))
	if !bytes.Equal(out[:signedLen], b[:signedLen]) {
		t.Fatalf("Marshal(Parse(b)) differs:\n got %x\nwant %x", out[:signedLen], b[:signedLen])
	}
	again, err := Parse(out)
	if err != nil {
		t.Fatalf("Parse(Marshal(Parse(b))): %v", err)
	}
	if diff := cmp.Diff(a, again); diff != "" {
		t.Fatalf("second parse (-first +second):\n%s", diff)
	}
	if !Verify(out, testKey(5)) {
		t.Fatal("Verify(Marshal) failed")
	}
}

func FuzzParse(f *testing.F) {
	for _, c := range crashers {
		b, _ := hex.DecodeString(c.in)
		f.Add(b)
	}
	f.Add(testAdvert().Marshal(testKey(1)))
	ring, err := NewKeyring([]uint8{7}, Secret{ID: 3, Bytes: []byte("correct horse battery")})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		roundTrip(t, b)
		ring.Open(b)
	})
}

func BenchmarkMarshal(b *testing.B) {
	a, k := testAdvert(), testKey(1)
	buf := make([]byte, 0, Len)
	for b.Loop() {
		buf = a.Append(buf[:0], k)
	}
}

func BenchmarkOpen(b *testing.B) {
	ring, _ := NewKeyring([]uint8{7}, Secret{ID: 3, Bytes: []byte("pass")})
	a := testAdvert()
	pkt, _ := ring.Seal(a)
	for b.Loop() {
		ring.Open(pkt)
	}
}
