package ctnl

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var addr = netip.MustParseAddr

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dumpPayload renders e the way the kernel dumps it: the reply tuple as
// it is, no NAT attributes, TCP flags with mask 0. It is the inverse of
// ParseEntry for the tests and the fuzz target.
func dumpPayload(e Entry) []byte {
	b := appendNfgenmsg(nil, family(e.Orig))
	b = appendTuple(b, ctaTupleOrig, e.Orig)
	if e.Reply.IsValid() {
		b = appendTuple(b, ctaTupleReply, e.Reply)
	}
	b = appendBE32(b, ctaStatus, e.Status)
	b = appendBE32(b, ctaTimeout, e.Timeout)
	b = appendBE32(b, ctaMark, e.Mark)
	b = appendBE32(b, ctaID, e.ID)
	if e.Zone != 0 {
		b = appendBE16(b, ctaZone, e.Zone)
	}
	if i := e.TCP; i != nil {
		var pi, tcp int
		b, pi = beginNest(b, ctaProtoinfo)
		b, tcp = beginNest(b, ctaProtoinfoTCP)
		b = appendU8(b, ctaProtoinfoTCPState, i.State)
		b = appendU8(b, ctaProtoinfoTCPWScaleOrig, i.WScaleOrig)
		b = appendU8(b, ctaProtoinfoTCPWScaleReply, i.WScaleReply)
		b = appendAttr(b, ctaProtoinfoTCPFlagsOrig, []byte{i.FlagsOrig, 0})
		b = appendAttr(b, ctaProtoinfoTCPFlagsReply, []byte{i.FlagsReply, 0})
		b = endNest(b, tcp)
		b = endNest(b, pi)
	}
	return b
}

// renderAttrs prints an attribute tree compactly: "type=hex" for a leaf,
// "type{...}" for a nested attribute, so that encoder tests can state
// the message they expect in a readable line.
func renderAttrs(b []byte) string {
	var parts []string
	for len(b) >= nlaHdrLen {
		l := int(binary.NativeEndian.Uint16(b))
		typ := binary.NativeEndian.Uint16(b[2:])
		if l < nlaHdrLen || l > len(b) {
			return strings.Join(append(parts, "!truncated"), " ")
		}
		data := b[nlaHdrLen:l]
		if typ&nlaFNested != 0 {
			parts = append(parts, fmt.Sprintf("%d{%s}", typ&nlaTypeMask, renderAttrs(data)))
		} else {
			parts = append(parts, fmt.Sprintf("%d=%x", typ, data))
		}
		b = b[min(align4(l), len(b)):]
	}
	return strings.Join(parts, " ")
}

// sampleEntries covers every shape the codecs know: both families, TCP,
// UDP, ICMP, zone and mark, SNAT, DNAT and both.
func sampleEntries() map[string]Entry {
	est := &TCPInfo{State: TCPStateEstablished, WScaleOrig: 7, WScaleReply: 9, FlagsOrig: TCPFlagWindowScale | TCPFlagSACKPerm, FlagsReply: TCPFlagWindowScale}
	return map[string]Entry{
		"tcp4 plain": {
			ID: 1, Orig: Tuple{Src: addr("10.0.1.2"), Dst: addr("10.0.2.2"), Proto: protoTCP, SrcPort: 40000, DstPort: 80},
			Reply:  Tuple{Src: addr("10.0.2.2"), Dst: addr("10.0.1.2"), Proto: protoTCP, SrcPort: 80, DstPort: 40000},
			Status: StatusSeenReply | StatusAssured | StatusConfirmed, Timeout: 432000, Mark: 0x42, TCP: est,
		},
		"udp4 zone mark": {
			Orig:   Tuple{Src: addr("10.0.1.2"), Dst: addr("10.0.2.2"), Proto: protoUDP, SrcPort: 5000, DstPort: 53},
			Reply:  Tuple{Src: addr("10.0.2.2"), Dst: addr("10.0.1.2"), Proto: protoUDP, SrcPort: 53, DstPort: 5000},
			Status: StatusConfirmed, Timeout: 30, Mark: 7, Zone: 5,
		},
		"icmp4": {
			Orig:   Tuple{Src: addr("10.0.1.2"), Dst: addr("10.0.2.2"), Proto: protoICMP, ICMPID: 77, ICMPType: 8},
			Reply:  Tuple{Src: addr("10.0.2.2"), Dst: addr("10.0.1.2"), Proto: protoICMP, ICMPID: 77, ICMPType: 0},
			Status: StatusConfirmed, Timeout: 30,
		},
		"tcp4 masquerade": {
			Orig:   Tuple{Src: addr("10.77.1.2"), Dst: addr("10.77.2.2"), Proto: protoTCP, SrcPort: 37068, DstPort: 80},
			Reply:  Tuple{Src: addr("10.77.2.2"), Dst: addr("10.77.2.1"), Proto: protoTCP, SrcPort: 80, DstPort: 37068},
			Status: 0x19e, Timeout: 432000, TCP: est,
			SNAT: &NAT{Addr: addr("10.77.2.1"), Port: 37068},
		},
		"tcp4 dnat": {
			Orig:   Tuple{Src: addr("10.77.2.2"), Dst: addr("10.77.2.1"), Proto: protoTCP, SrcPort: 50000, DstPort: 9000},
			Reply:  Tuple{Src: addr("10.77.1.2"), Dst: addr("10.77.2.2"), Proto: protoTCP, SrcPort: 22, DstPort: 50000},
			Status: StatusSeenReply | StatusAssured | StatusConfirmed | StatusDstNAT | StatusSrcNATDone | StatusDstNATDone, Timeout: 432000, TCP: est,
			DNAT: &NAT{Addr: addr("10.77.1.2"), Port: 22},
		},
		"tcp4 dnat+masquerade": {
			Orig:   Tuple{Src: addr("10.77.2.2"), Dst: addr("10.77.2.1"), Proto: protoTCP, SrcPort: 50001, DstPort: 9001},
			Reply:  Tuple{Src: addr("10.77.1.2"), Dst: addr("10.77.1.1"), Proto: protoTCP, SrcPort: 9001, DstPort: 61001},
			Status: StatusSeenReply | StatusAssured | StatusConfirmed | StatusSrcNAT | StatusDstNAT | StatusSrcNATDone | StatusDstNATDone, Timeout: 432000, TCP: est,
			SNAT: &NAT{Addr: addr("10.77.1.1"), Port: 61001},
			DNAT: &NAT{Addr: addr("10.77.1.2"), Port: 9001},
		},
		"icmp4 masquerade": {
			Orig:   Tuple{Src: addr("10.77.1.2"), Dst: addr("10.77.2.2"), Proto: protoICMP, ICMPID: 77, ICMPType: 8},
			Reply:  Tuple{Src: addr("10.77.2.2"), Dst: addr("10.77.2.1"), Proto: protoICMP, ICMPID: 1234, ICMPType: 0},
			Status: StatusConfirmed | StatusSrcNAT | StatusSrcNATDone | StatusDstNATDone, Timeout: 30,
			SNAT: &NAT{Addr: addr("10.77.2.1"), Port: 1234},
		},
		"udp6 snat": {
			Orig:   Tuple{Src: addr("fd00:1::2"), Dst: addr("fd00:2::2"), Proto: protoUDP, SrcPort: 5353, DstPort: 53},
			Reply:  Tuple{Src: addr("fd00:2::2"), Dst: addr("fd00:2::1"), Proto: protoUDP, SrcPort: 53, DstPort: 1053},
			Status: StatusConfirmed | StatusSrcNAT | StatusSrcNATDone | StatusDstNATDone, Timeout: 30, Zone: 9,
			SNAT: &NAT{Addr: addr("fd00:2::1"), Port: 1053},
		},
		"tcp6 dnat": {
			Orig:   Tuple{Src: addr("fd00:2::2"), Dst: addr("fd00:2::1"), Proto: protoTCP, SrcPort: 40000, DstPort: 443},
			Reply:  Tuple{Src: addr("fd00:1::3"), Dst: addr("fd00:2::2"), Proto: protoTCP, SrcPort: 8443, DstPort: 40000},
			Status: StatusSeenReply | StatusAssured | StatusConfirmed | StatusDstNAT | StatusSrcNATDone | StatusDstNATDone, Timeout: 432000, Mark: 1, TCP: est,
			DNAT: &NAT{Addr: addr("fd00:1::3"), Port: 8443},
		},
		"icmp6": {
			Orig:   Tuple{Src: addr("2001:db8::1"), Dst: addr("2001:db8::2"), Proto: protoICMPv6, ICMPID: 77, ICMPType: 128},
			Reply:  Tuple{Src: addr("2001:db8::2"), Dst: addr("2001:db8::1"), Proto: protoICMPv6, ICMPID: 77, ICMPType: 129},
			Status: StatusConfirmed, Timeout: 29, Zone: 3, Mark: 9,
		},
		"gre4 no reply": {
			Orig:   Tuple{Src: addr("10.0.1.2"), Dst: addr("10.0.2.2"), Proto: 47},
			Status: StatusConfirmed, Timeout: 600,
		},
	}
}

// diff is cmp.Diff with netip.Addr compared by value.
func diff(want, got any) string {
	return cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b }))
}
