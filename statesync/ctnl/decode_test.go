package ctnl

import (
	"errors"
	"testing"
)

// Payloads of two IPCTNL_MSG_CT_NEW messages as the 6.18 kernel dumped
// them: a masqueraded TCP connection and an ICMPv6 echo in zone 3.
const (
	kernelDumpMasq   = `020000003400018014000180080001000a4d0102080002000a4d02021c00028005000100060000000600020090cc000006000300005000003400028014000180080001000a4d0202080002000a4d02011c000280050001000600000006000200005000000600030090cc0000080003000000019e080008000000000008000c00d3ef5aeb08000b00000000010800070000000064300004802c000180050001000300000005000200070000000500030007000000060004002300000006000500230000001c001880080001000000000008000200000000000800030000000000`
	kernelDumpICMPv6 = `0a000000540001802c0001801400030020010db80000000000000000000000011400040020010db800000000000000000000000224000280050001003a00000006000700004d000005000800800000000500090000000000540002802c0001801400030020010db80000000000000000000000021400040020010db800000000000000000000000124000280050001003a00000006000700004d00000500080081000000050009000000000006001200000300000800030000000008080008000000000908000c001b491fed08000b0000000001080007000000001d1c001880080001000000000008000200000000000800030000000000`
)

func TestParseEntryKernelBytes(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    Entry
	}{
		{
			name:    "masquerade",
			payload: kernelDumpMasq,
			want: Entry{
				ID:      0xd3ef5aeb,
				Orig:    Tuple{Src: addr("10.77.1.2"), Dst: addr("10.77.2.2"), Proto: protoTCP, SrcPort: 37068, DstPort: 80},
				Reply:   Tuple{Src: addr("10.77.2.2"), Dst: addr("10.77.2.1"), Proto: protoTCP, SrcPort: 80, DstPort: 37068},
				Status:  0x19e,
				Timeout: 100,
				TCP:     &TCPInfo{State: TCPStateEstablished, WScaleOrig: 7, WScaleReply: 7, FlagsOrig: 0x23, FlagsReply: 0x23},
				SNAT:    &NAT{Addr: addr("10.77.2.1"), Port: 37068},
			},
		},
		{
			name:    "icmpv6 zone mark",
			payload: kernelDumpICMPv6,
			want: Entry{
				ID:      0x1b491fed,
				Orig:    Tuple{Src: addr("2001:db8::1"), Dst: addr("2001:db8::2"), Proto: protoICMPv6, ICMPID: 77, ICMPType: 128},
				Reply:   Tuple{Src: addr("2001:db8::2"), Dst: addr("2001:db8::1"), Proto: protoICMPv6, ICMPID: 77, ICMPType: 129},
				Status:  StatusConfirmed,
				Timeout: 29,
				Mark:    9,
				Zone:    3,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEntry(mustHex(t, tt.payload))
			if err != nil {
				t.Fatal(err)
			}
			if d := diff(tt.want, got); d != "" {
				t.Errorf("ParseEntry (-want +got):\n%s", d)
			}
		})
	}
}

// TestParseEntrySamples renders each sample as the kernel would dump it
// and parses it back: the NAT comes out of reply tuple and status alone.
func TestParseEntrySamples(t *testing.T) {
	for name, want := range sampleEntries() {
		t.Run(name, func(t *testing.T) {
			got, err := ParseEntry(dumpPayload(want))
			if err != nil {
				t.Fatal(err)
			}
			if d := diff(want, got); d != "" {
				t.Errorf("ParseEntry (-want +got):\n%s", d)
			}
		})
	}
}

func TestDeriveNAT(t *testing.T) {
	tcp := func(src string, sp uint16, dst string, dp uint16) Tuple {
		return Tuple{Src: addr(src), Dst: addr(dst), Proto: protoTCP, SrcPort: sp, DstPort: dp}
	}
	orig := tcp("10.0.1.2", 1000, "10.0.2.2", 80)
	tests := []struct {
		name       string
		reply      Tuple
		status     uint32
		snat, dnat *NAT
	}{
		{"none", orig.Reverse(), 0, nil, nil},
		{"snat address", tcp("10.0.2.2", 80, "10.0.2.1", 1000), StatusSrcNAT, &NAT{addr("10.0.2.1"), 1000}, nil},
		{"snat port only", tcp("10.0.2.2", 80, "10.0.1.2", 2000), StatusSrcNAT, &NAT{addr("10.0.1.2"), 2000}, nil},
		{"dnat", tcp("10.0.3.3", 8080, "10.0.1.2", 1000), StatusDstNAT, nil, &NAT{addr("10.0.3.3"), 8080}},
		{"both", tcp("10.0.3.3", 8080, "10.0.2.1", 3000), StatusSrcNAT | StatusDstNAT, &NAT{addr("10.0.2.1"), 3000}, &NAT{addr("10.0.3.3"), 8080}},
		{"bit without change", orig.Reverse(), StatusSrcNAT | StatusDstNAT, nil, nil},
		{"change without bit", tcp("10.0.3.3", 8080, "10.0.2.1", 3000), StatusSrcNATDone | StatusDstNATDone, nil, nil},
		{"no reply", Tuple{}, StatusSrcNAT | StatusDstNAT, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Entry{Orig: orig, Reply: tt.reply, Status: tt.status}
			e.deriveNAT()
			if d := diff(tt.snat, e.SNAT); d != "" {
				t.Errorf("SNAT (-want +got):\n%s", d)
			}
			if d := diff(tt.dnat, e.DNAT); d != "" {
				t.Errorf("DNAT (-want +got):\n%s", d)
			}
		})
	}
}

func TestParseEntryErrors(t *testing.T) {
	good := dumpPayload(sampleEntries()["tcp4 plain"])
	v4v6 := appendNfgenmsg(nil, afINET)
	v4v6, tup := beginNest(v4v6, ctaTupleOrig)
	v4v6, ip := beginNest(v4v6, ctaTupleIP)
	v4v6 = appendAttr(v4v6, ctaIPv4Src, []byte{10, 0, 0, 1})
	v4v6 = appendAttr(v4v6, ctaIPv6Dst, make([]byte, 16))
	v4v6 = endNest(endNest(v4v6, ip), tup)
	shortAddr := appendNfgenmsg(nil, afINET)
	shortAddr, tup = beginNest(shortAddr, ctaTupleOrig)
	shortAddr, ip = beginNest(shortAddr, ctaTupleIP)
	shortAddr = appendAttr(shortAddr, ctaIPv4Src, []byte{10, 0, 0})
	shortAddr = endNest(endNest(shortAddr, ip), tup)
	tests := []struct {
		name    string
		payload []byte
		want    error
	}{
		{"empty", nil, errShortPayload},
		{"nfgenmsg only", good[:4], errNoOrig},
		{"cut in an attribute", good[:len(good)-3], errAttrTruncated},
		{"mixed family", v4v6, errMixedFamily},
		{"short address", shortAddr, errAttrTruncated},
		{"short status", appendAttr(good[:4], ctaStatus, []byte{1, 2}), errAttrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseEntry(tt.payload)
			if !errors.Is(err, tt.want) {
				t.Errorf("ParseEntry: got %v, want %v", err, tt.want)
			}
		})
	}
}
