package statesync

import (
	"bufio"
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"rampart/statesync/ctnl"
)

// diff is cmp.Diff with netip.Addr compared by value.
func diff(want, got any) string {
	return cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b }))
}

var addr = netip.MustParseAddr

// tcpFlow returns an established TCP entry from 10.1.0.2:port to
// 10.2.0.2:80, with mark as a version the tests can follow.
func tcpFlow(port uint16, mark uint32) ctnl.Entry {
	o := ctnl.Tuple{Src: addr("10.1.0.2"), Dst: addr("10.2.0.2"), Proto: 6, SrcPort: port, DstPort: 80}
	return ctnl.Entry{
		Orig: o, Reply: o.Reverse(), Mark: mark, Timeout: 432000,
		Status: ctnl.StatusConfirmed | ctnl.StatusSeenReply | ctnl.StatusAssured,
		TCP:    &ctnl.TCPInfo{State: ctnl.TCPStateEstablished, WScaleOrig: 7, WScaleReply: 7, FlagsOrig: ctnl.TCPFlagWindowScale, FlagsReply: ctnl.TCPFlagWindowScale},
	}
}

// masqFlow is a UDP flow masqueraded behind 192.0.2.1.
func masqFlow(port uint16) ctnl.Entry {
	o := ctnl.Tuple{Src: addr("10.1.0.3"), Dst: addr("198.51.100.7"), Proto: 17, SrcPort: port, DstPort: 53}
	r := ctnl.Tuple{Src: o.Dst, Dst: addr("192.0.2.1"), Proto: 17, SrcPort: 53, DstPort: port + 1000}
	return ctnl.Entry{Orig: o, Reply: r, Timeout: 30, Zone: 4,
		Status: ctnl.StatusConfirmed | ctnl.StatusSrcNAT | ctnl.StatusSrcNATDone | ctnl.StatusDstNATDone,
		SNAT:   &ctnl.NAT{Addr: addr("192.0.2.1"), Port: port + 1000}}
}

func sampleFrames() map[string]Frame {
	v6 := ctnl.Tuple{Src: addr("fd00::2"), Dst: addr("fd00:1::2"), Proto: 58, ICMPID: 9, ICMPType: 128}
	return map[string]Frame{
		"hello":      {Type: TypeHello, Hello: Hello{MinVersion: 1, MaxVersion: 3, Instance: 0x0102030405060708, Keepalive: 1500 * time.Millisecond}},
		"refuse":     {Type: TypeRefuse, Code: RefuseVersion, Reason: "the peer speaks state sync protocol v2, this node v1"},
		"ack":        {Type: TypeAck, Seq: 1 << 40},
		"ping":       {Type: TypePing, Seq: 7, Lag: 1234 * time.Microsecond},
		"bulk begin": {Type: TypeBulkBegin, Seq: 8},
		"bulk end":   {Type: TypeBulkEnd, Seq: 10, Count: 70000},
		"entries": {Type: TypeEntries, Seq: 9, Lag: 3 * time.Millisecond, Records: []Record{
			{Op: OpUpdate, Entry: tcpFlow(40000, 1)},
			{Op: OpDestroy, Entry: masqFlow(5000)},
			{Op: OpUpdate, Entry: ctnl.Entry{Orig: v6, Reply: v6.Reverse(), Timeout: 30, Status: ctnl.StatusConfirmed}},
		}},
		"entries empty": {Type: TypeEntries, Seq: 11},
		"request":       {Type: TypeRequest, ID: 3, Kind: RequestConfig, Body: []byte(`{"node":"a"}`)},
		"response":      {Type: TypeResponse, ID: 3, Body: []byte(`{"applied":true}`)},
		"response fail": {Type: TypeResponse, ID: 4, Failed: true, Body: []byte("no handler")},
	}
}

func TestFrameRoundTrip(t *testing.T) {
	for name, f := range sampleFrames() {
		t.Run(name, func(t *testing.T) {
			b, err := AppendFrame([]byte("prefix"), &f)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(b, []byte("prefix")) {
				t.Fatalf("AppendFrame lost the prefix")
			}
			got, err := ParseFrame(b[len("prefix"):], nil)
			if err != nil {
				t.Fatal(err)
			}
			if d := diff(f, got); d != "" {
				t.Errorf("round trip (-want +got):\n%s", d)
			}
			// And through the stream reader.
			got2, _, err := ReadFrame(bufio.NewReader(bytes.NewReader(b[len("prefix"):])), nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if d := diff(f, got2); d != "" {
				t.Errorf("ReadFrame (-want +got):\n%s", d)
			}
		})
	}
}

func TestFrameHelloLayout(t *testing.T) {
	// The hello is the one layout every version shares: pin its bytes.
	f := Frame{Type: TypeHello, Hello: Hello{MinVersion: 1, MaxVersion: 2, Instance: 0xaabbccddeeff0011, Keepalive: time.Second}}
	b, err := AppendFrame(nil, &f)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0, 0, 0, 21, 1, 'R', 'S', 'Y', 'N', 0, 1, 0, 2, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0, 0x11, 0, 0, 0x03, 0xe8}
	if d := cmp.Diff(want, b); d != "" {
		t.Errorf("hello bytes (-want +got):\n%s", d)
	}
}

func TestParseFrameErrors(t *testing.T) {
	e := tcpFlow(1, 0)
	entry, err := e.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	seqHdr := []byte{0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0}
	frame := func(typ byte, body ...[]byte) []byte {
		b := bytes.Join(body, nil)
		n := len(b) + 1
		return append([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n), typ}, b...)
	}
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, errFrameShort},
		{"length past the end", []byte{0, 0, 0, 9, 3, 0}, errFrameShort},
		{"bytes after", append(frame(byte(TypeAck), make([]byte, 8)), 0), errFrameTrail},
		{"too long", []byte{0, 0x10, 0, 1, 3}, errFrameLong},
		{"unknown type", frame(99), errFrameType},
		{"hello magic", frame(byte(TypeHello), []byte("XSYN"), make([]byte, 16)), errFrameMagic},
		{"hello short", frame(byte(TypeHello), []byte("RSYN"), make([]byte, 15)), errFrameShort},
		{"ack short", frame(byte(TypeAck), make([]byte, 7)), errFrameShort},
		{"refuse empty", frame(byte(TypeRefuse)), errFrameShort},
		{"refuse not utf-8", frame(byte(TypeRefuse), []byte{1, 0xff}), errFrameReason},
		{"sequenced short", frame(byte(TypePing), make([]byte, 11)), errFrameShort},
		{"ping with body", frame(byte(TypePing), seqHdr, []byte{0}), errFrameTrail},
		{"bulk end short", frame(byte(TypeBulkEnd), seqHdr, []byte{0, 0, 1}), errFrameShort},
		{"record op", frame(byte(TypeEntries), seqHdr, []byte{3}, entry), errFrameOp},
		{"record truncated", frame(byte(TypeEntries), seqHdr, []byte{1}, entry[:len(entry)-1]), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFrame(tt.in, nil)
			var fe *FrameError
			if !errors.As(err, &fe) {
				t.Fatalf("ParseFrame: got %v, want a *FrameError", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("ParseFrame: got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestAppendFrameErrors(t *testing.T) {
	bad := tcpFlow(1, 0)
	bad.Reply.Src = addr("fd00::1") // mixed families
	tests := map[string]Frame{
		"unknown type":   {Type: 42},
		"record op":      {Type: TypeEntries, Records: []Record{{Op: 9, Entry: tcpFlow(1, 0)}}},
		"invalid entry":  {Type: TypeEntries, Records: []Record{{Op: OpUpdate, Entry: bad}}},
		"reason too big": {Type: TypeRefuse, Reason: strings.Repeat("x", maxReasonLen+1)},
	}
	for name, f := range tests {
		b, err := AppendFrame([]byte{7}, &f)
		if err == nil {
			t.Errorf("%s: AppendFrame succeeded", name)
		}
		if !bytes.Equal(b, []byte{7}) {
			t.Errorf("%s: AppendFrame left %x, want the input back", name, b)
		}
	}
}

func TestMaxFrameEntries(t *testing.T) {
	// The largest record times the most records per frame must fit.
	e := ctnl.Entry{
		Orig:  ctnl.Tuple{Src: addr("fd00::1"), Dst: addr("fd00::2"), Proto: 6, SrcPort: 1, DstPort: 2},
		Reply: ctnl.Tuple{Src: addr("fd00::3"), Dst: addr("fd00::4"), Proto: 6, SrcPort: 2, DstPort: 1},
		TCP:   &ctnl.TCPInfo{}, SNAT: &ctnl.NAT{Addr: addr("fd00::4"), Port: 1}, DNAT: &ctnl.NAT{Addr: addr("fd00::3"), Port: 2},
	}
	b, err := e.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if len(b)+1 != maxRecordLen {
		t.Errorf("largest record is %d bytes, maxRecordLen says %d", len(b)+1, maxRecordLen)
	}
	recs := make([]Record, maxFrameEntries)
	for i := range recs {
		recs[i] = Record{Op: OpUpdate, Entry: e}
	}
	if _, err := AppendFrame(nil, &Frame{Type: TypeEntries, Records: recs}); err != nil {
		t.Errorf("a frame of %d largest records: %v", maxFrameEntries, err)
	}
}

// TestEntriesBuiltInPlace: the sender's open frame, records appended
// after room for the header, encodes as AppendFrame does.
func TestEntriesBuiltInPlace(t *testing.T) {
	f := Frame{Type: TypeEntries, Seq: 77, Lag: 1500 * time.Microsecond,
		Records: []Record{{Op: OpUpdate, Entry: tcpFlow(1, 2)}, {Op: OpDestroy, Entry: masqFlow(3)}}}
	want, err := AppendFrame(nil, &f)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, entriesHeaderLen)
	for _, r := range f.Records {
		if b, err = appendRecord(b, r.Op, &r.Entry); err != nil {
			t.Fatal(err)
		}
	}
	bad := tcpFlow(1, 0)
	bad.Reply.Src = addr("fd00::1")
	if b2, err := appendRecord(b, OpUpdate, &bad); err == nil || len(b2) != len(b) {
		t.Errorf("appendRecord of an invalid entry: %v, %d bytes added", err, len(b2)-len(b))
	}
	if err := putEntriesHeader(b, f.Seq, f.Lag); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, b) {
		t.Errorf("built in place:\n%x\nwant\n%x", b, want)
	}
}
