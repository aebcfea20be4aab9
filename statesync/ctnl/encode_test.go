package ctnl

import (
	"errors"
	"testing"
)

func TestAppendCreate(t *testing.T) {
	s := sampleEntries()
	tests := []struct {
		name  string
		entry Entry
		opts  CreateOptions
		want  string // renderAttrs of the payload after struct nfgenmsg
	}{
		{
			// Reply is the reversed original; the translations go in
			// CTA_NAT_SRC (6) and CTA_NAT_DST (13); NAT status bits are
			// dropped, CONFIRMED kept; TCP flags with mask 0xff plus
			// BE_LIBERAL (0x08) on both directions.
			name:  "dnat+masquerade liberal",
			entry: s["tcp4 dnat+masquerade"],
			opts:  CreateOptions{Liberal: true},
			want: "1{1{1=0a4d0202 2=0a4d0201} 2{1=06 2=c351 3=2329}} " +
				"2{1{1=0a4d0201 2=0a4d0202} 2{1=06 2=2329 3=c351}} " +
				"6{1=0a4d0101 2=0a4d0101 3{1=ee49 2=ee49}} " +
				"13{1=0a4d0102 2=0a4d0102 3{1=2329 2=2329}} " +
				"3=0000000e 7=00069780 " +
				"4{1{1=03 2=07 3=09 4=0bff 5=09ff}}",
		},
		{
			name:  "udp zone mark",
			entry: s["udp4 zone mark"],
			want: "1{1{1=0a000102 2=0a000202} 2{1=11 2=1388 3=0035}} " +
				"2{1{1=0a000202 2=0a000102} 2{1=11 2=0035 3=1388}} " +
				"3=00000008 7=0000001e 8=00000007 18=0005",
		},
		{
			// The reply of an echo request is an echo reply (type 0).
			name:  "icmp masquerade",
			entry: s["icmp4 masquerade"],
			want: "1{1{1=0a4d0102 2=0a4d0202} 2{1=01 4=004d 5=08 6=00}} " +
				"2{1{1=0a4d0202 2=0a4d0102} 2{1=01 4=004d 5=00 6=00}} " +
				"6{1=0a4d0201 2=0a4d0201 3{1=04d2 2=04d2}} " +
				"3=00000008 7=0000001e",
		},
		{
			name:  "icmpv6",
			entry: s["icmp6"],
			want: "1{1{3=20010db8000000000000000000000001 4=20010db8000000000000000000000002} 2{1=3a 7=004d 8=80 9=00}} " +
				"2{1{3=20010db8000000000000000000000002 4=20010db8000000000000000000000001} 2{1=3a 7=004d 8=81 9=00}} " +
				"3=00000008 7=0000001d 8=00000009 18=0003",
		},
		{
			// No timeout is sent as none: the kernel is the one to refuse.
			name:  "gre no timeout",
			entry: Entry{Orig: s["gre4 no reply"].Orig, SNAT: &NAT{Addr: addr("10.0.9.9")}},
			want: "1{1{1=0a000102 2=0a000202} 2{1=2f}} " +
				"2{1{1=0a000202 2=0a000102} 2{1=2f}} " +
				"6{1=0a000909 2=0a000909} 3=00000008",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := appendCreate(nil, &tt.entry, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := b[0]; got != family(tt.entry.Orig) {
				t.Errorf("nfgen_family = %d, want %d", got, family(tt.entry.Orig))
			}
			if d := diff(tt.want, renderAttrs(b[nfgenmsgLen:])); d != "" {
				t.Errorf("create payload (-want +got):\n%s", d)
			}
		})
	}
}

func TestAppendCreateInvalid(t *testing.T) {
	tests := map[string]Entry{
		"empty":      {},
		"mixed":      {Orig: Tuple{Src: addr("10.0.0.1"), Dst: addr("fd00::1")}},
		"nat family": {Orig: Tuple{Src: addr("10.0.0.1"), Dst: addr("10.0.0.2")}, DNAT: &NAT{Addr: addr("fd00::1")}},
		"nat empty":  {Orig: Tuple{Src: addr("10.0.0.1"), Dst: addr("10.0.0.2")}, SNAT: &NAT{}},
	}
	for name, e := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := appendCreate(nil, &e, CreateOptions{}); !errors.Is(err, ErrInvalidEntry) {
				t.Errorf("appendCreate: got %v, want ErrInvalidEntry", err)
			}
		})
	}
}

func TestAppendDelete(t *testing.T) {
	e := sampleEntries()["udp6 snat"]
	b := appendDelete(nil, e.Orig, e.Zone)
	want := "1{1{3=fd000001000000000000000000000002 4=fd000002000000000000000000000002} 2{1=11 2=14e9 3=0035}} 18=0009"
	if b[0] != afINET6 {
		t.Errorf("nfgen_family = %d, want %d", b[0], afINET6)
	}
	if d := diff(want, renderAttrs(b[nfgenmsgLen:])); d != "" {
		t.Errorf("delete payload (-want +got):\n%s", d)
	}
}

func TestReverse(t *testing.T) {
	tests := []struct {
		name    string
		in, out Tuple
	}{
		{"udp", Tuple{Src: addr("1.1.1.1"), Dst: addr("2.2.2.2"), Proto: protoUDP, SrcPort: 1, DstPort: 2},
			Tuple{Src: addr("2.2.2.2"), Dst: addr("1.1.1.1"), Proto: protoUDP, SrcPort: 2, DstPort: 1}},
		{"echo", Tuple{Src: addr("1.1.1.1"), Dst: addr("2.2.2.2"), Proto: protoICMP, ICMPID: 9, ICMPType: 8},
			Tuple{Src: addr("2.2.2.2"), Dst: addr("1.1.1.1"), Proto: protoICMP, ICMPID: 9, ICMPType: 0}},
		{"timestamp reply", Tuple{Src: addr("1.1.1.1"), Dst: addr("2.2.2.2"), Proto: protoICMP, ICMPType: 14},
			Tuple{Src: addr("2.2.2.2"), Dst: addr("1.1.1.1"), Proto: protoICMP, ICMPType: 13}},
		{"icmpv6 echo", Tuple{Src: addr("::1"), Dst: addr("::2"), Proto: protoICMPv6, ICMPType: 128},
			Tuple{Src: addr("::2"), Dst: addr("::1"), Proto: protoICMPv6, ICMPType: 129}},
		{"icmp type 8 under icmpv6 stays", Tuple{Src: addr("::1"), Dst: addr("::2"), Proto: protoICMPv6, ICMPType: 8},
			Tuple{Src: addr("::2"), Dst: addr("::1"), Proto: protoICMPv6, ICMPType: 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := diff(tt.out, tt.in.Reverse()); d != "" {
				t.Errorf("Reverse (-want +got):\n%s", d)
			}
		})
	}
}

func TestBatchEnd(t *testing.T) {
	reqs := make([]request, 10)
	for i := range reqs {
		reqs[i].payload = make([]byte, 100) // 116 bytes a message
	}
	tests := []struct {
		name           string
		size, bytes    int
		start, wantEnd int
	}{
		{name: "by count", size: 4, bytes: 1 << 20, start: 0, wantEnd: 4},
		{name: "by bytes", size: 100, bytes: 3 * 116, start: 2, wantEnd: 5},
		{name: "tail", size: 4, bytes: 1 << 20, start: 8, wantEnd: 10},
		{name: "one over the limit still goes", size: 4, bytes: 10, start: 3, wantEnd: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Conn{batchSize: tt.size, batchBytes: tt.bytes}
			if got := c.batchEnd(reqs, tt.start); got != tt.wantEnd {
				t.Errorf("batchEnd(%d) = %d, want %d", tt.start, got, tt.wantEnd)
			}
		})
	}
}
