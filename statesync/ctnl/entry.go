package ctnl

import (
	"errors"
	"fmt"
	"net/netip"
)

// Tuple is one direction of a connection as conntrack keys it.
type Tuple struct {
	Src, Dst netip.Addr
	// Proto is the L4 protocol number (6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6...).
	Proto uint8
	// SrcPort and DstPort are set for protocols with ports: TCP, UDP,
	// UDP-Lite, SCTP and DCCP.
	SrcPort, DstPort uint16
	// ICMPID, ICMPType and ICMPCode are set for ICMP and ICMPv6.
	ICMPID             uint16
	ICMPType, ICMPCode uint8
}

// IsValid reports whether the tuple has addresses at all; a zero Tuple is
// how an absent reply tuple shows.
func (t Tuple) IsValid() bool { return t.Src.IsValid() }

// IPv6 reports whether the tuple is an IPv6 one.
func (t Tuple) IPv6() bool { return t.Src.Is6() }

// Reverse returns the tuple of the other direction as the kernel computes
// it without NAT: addresses and ports swapped, ICMP echo request turned
// into echo reply and so on.
func (t Tuple) Reverse() Tuple {
	r := t
	r.Src, r.Dst = t.Dst, t.Src
	r.SrcPort, r.DstPort = t.DstPort, t.SrcPort
	if typ, ok := icmpInverse(t.Proto, t.ICMPType); ok {
		r.ICMPType = typ
	}
	return r
}

// icmpInverse is the kernel's invmap for the ICMP and ICMPv6 types that
// conntrack tracks as connections (nf_conntrack_proto_icmp{,v6}.c).
func icmpInverse(proto, typ uint8) (uint8, bool) {
	var pairs [][2]uint8
	switch proto {
	case protoICMP:
		pairs = [][2]uint8{{8, 0}, {13, 14}, {15, 16}, {17, 18}}
	case protoICMPv6:
		pairs = [][2]uint8{{128, 129}, {139, 140}}
	default:
		return 0, false
	}
	for _, p := range pairs {
		switch typ {
		case p[0]:
			return p[1], true
		case p[1]:
			return p[0], true
		}
	}
	return 0, false
}

// hasPorts reports whether proto's tuples carry source and destination
// ports.
func hasPorts(proto uint8) bool {
	switch proto {
	case protoTCP, protoUDP, protoUDPLite, protoSCTP, protoDCCP:
		return true
	}
	return false
}

func isICMP(proto uint8) bool { return proto == protoICMP || proto == protoICMPv6 }

// srcID and dstID are the tuple's "ports" as NAT sees them: ICMP has a
// single identifier that NAT may rewrite in either direction.
func (t Tuple) srcID() uint16 {
	if isICMP(t.Proto) {
		return t.ICMPID
	}
	return t.SrcPort
}

func (t Tuple) dstID() uint16 {
	if isICMP(t.Proto) {
		return t.ICMPID
	}
	return t.DstPort
}

// TCPInfo is the TCP part of an entry's protoinfo. Flags are the
// per-direction IP_CT_TCP_FLAG_* bits. The kernel dumps them with a zero
// mask; the encoder always sends them with mask 0xff, because the kernel
// keeps the window scale only when both directions carry
// TCPFlagWindowScale.
type TCPInfo struct {
	State                   uint8
	WScaleOrig, WScaleReply uint8
	FlagsOrig, FlagsReply   uint8
}

// NAT is one translation of a connection: the address and port (ICMP: the
// identifier) that the far side sees instead of the original one.
type NAT struct {
	Addr netip.Addr
	Port uint16
}

// Entry is a conntrack entry with what it takes to re-create it live on
// the peer.
type Entry struct {
	// ID is the kernel's id of the entry on the box it came from. It is
	// informational: a created entry gets a new one.
	ID    uint32
	Orig  Tuple
	Reply Tuple
	// Status is the IPS_* bit set (see StatusConfirmed and friends).
	Status uint32
	// Timeout is the remaining lifetime in seconds. The kernel refuses to
	// create an entry without one.
	Timeout uint32
	Mark    uint32
	Zone    uint16
	// TCP is set for TCP entries.
	TCP *TCPInfo
	// SNAT is set when the source was translated (SNAT or masquerade):
	// the address and port the reply is sent to.
	SNAT *NAT
	// DNAT is set when the destination was translated: the address and
	// port the connection really goes to.
	DNAT *NAT
}

// ErrInvalidEntry is the reason for entries that are refused before they
// reach the kernel.
var ErrInvalidEntry = errors.New("invalid entry")

// Validate checks that the entry can be encoded: an original tuple, and
// one address family throughout (the kernel keys a tuple by one family).
func (e *Entry) Validate() error {
	if !e.Orig.Src.IsValid() {
		return fmt.Errorf("%w: no original tuple", ErrInvalidEntry)
	}
	v4 := e.Orig.Src.Is4()
	var buf [6]netip.Addr // on the stack: Validate runs once per created entry
	addrs := append(buf[:0], e.Orig.Src, e.Orig.Dst)
	if e.Reply.IsValid() {
		addrs = append(addrs, e.Reply.Src, e.Reply.Dst)
	}
	for _, n := range []*NAT{e.SNAT, e.DNAT} {
		if n != nil {
			addrs = append(addrs, n.Addr)
		}
	}
	for _, a := range addrs {
		if !a.IsValid() || a.Is4() != v4 || a.Zone() != "" {
			return fmt.Errorf("%w: address %v does not match the original source's family", ErrInvalidEntry, a)
		}
	}
	return nil
}

// deriveNAT sets SNAT and DNAT from the reply tuple and the status bits.
// A dump carries no NAT attributes: a translation shows only as a reply
// tuple that differs from the reversed original, together with
// IPS_SRC_NAT or IPS_DST_NAT. Both are required, since the kernel sets
// the bit only when it changed the tuple.
func (e *Entry) deriveNAT() {
	o, r := e.Orig, e.Reply
	if !r.IsValid() {
		return
	}
	if e.Status&StatusSrcNAT != 0 && (r.Dst != o.Src || r.dstID() != o.srcID()) {
		e.SNAT = &NAT{Addr: r.Dst, Port: r.dstID()}
	}
	if e.Status&StatusDstNAT != 0 && (r.Src != o.Dst || r.srcID() != o.dstID()) {
		e.DNAT = &NAT{Addr: r.Src, Port: r.srcID()}
	}
}
