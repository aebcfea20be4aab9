package ctnl

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// WireVersion is the first byte of every entry encoded for the peer. A
// change of layout takes a new version; a decoder refuses versions it
// does not know rather than guess.
const WireVersion = 1

// Flag bits of the second byte of an encoded entry: which optional parts
// follow.
const (
	wireIPv6  = 1 << 0 // every address is 16 bytes, else 4
	wireReply = 1 << 1 // a reply tuple follows the original
	wireTCP   = 1 << 2 // TCP protoinfo follows
	wireSNAT  = 1 << 3 // an SNAT address and port follow
	wireDNAT  = 1 << 4 // a DNAT address and port follow
	wireFlags = wireIPv6 | wireReply | wireTCP | wireSNAT | wireDNAT

	wireHeaderLen = 20 // version, flags, id, status, timeout, mark, zone
	wireTCPLen    = 5
)

var (
	errWireVersion = errors.New("unknown wire version")
	errWireFlags   = errors.New("unknown wire flags")
	errWireShort   = errors.New("encoded entry truncated")
	errWireL4      = errors.New("L4 bytes set for a protocol without ports")
	errWireTrail   = errors.New("bytes after the encoded entry")
)

// AppendBinary appends the wire encoding of e to b. See the package
// comment for the layout.
func (e *Entry) AppendBinary(b []byte) ([]byte, error) {
	if err := e.Validate(); err != nil {
		return b, err
	}
	var flags byte
	if e.Orig.IPv6() {
		flags |= wireIPv6
	}
	if e.Reply.IsValid() {
		flags |= wireReply
	}
	if e.TCP != nil {
		flags |= wireTCP
	}
	if e.SNAT != nil {
		flags |= wireSNAT
	}
	if e.DNAT != nil {
		flags |= wireDNAT
	}
	b = append(b, WireVersion, flags)
	b = binary.BigEndian.AppendUint32(b, e.ID)
	b = binary.BigEndian.AppendUint32(b, e.Status)
	b = binary.BigEndian.AppendUint32(b, e.Timeout)
	b = binary.BigEndian.AppendUint32(b, e.Mark)
	b = binary.BigEndian.AppendUint16(b, e.Zone)
	b = appendWireTuple(b, e.Orig)
	if e.Reply.IsValid() {
		b = appendWireTuple(b, e.Reply)
	}
	if t := e.TCP; t != nil {
		b = append(b, t.State, t.WScaleOrig, t.WScaleReply, t.FlagsOrig, t.FlagsReply)
	}
	for _, n := range []*NAT{e.SNAT, e.DNAT} {
		if n != nil {
			b = append(b, n.Addr.AsSlice()...)
			b = binary.BigEndian.AppendUint16(b, n.Port)
		}
	}
	return b, nil
}

// MarshalBinary returns the wire encoding of e.
func (e *Entry) MarshalBinary() ([]byte, error) { return e.AppendBinary(nil) }

// UnmarshalBinary decodes an entry that fills b exactly.
func (e *Entry) UnmarshalBinary(b []byte) error {
	got, n, err := UnmarshalEntry(b)
	if err != nil {
		return err
	}
	if n != len(b) {
		return errWireTrail
	}
	*e = got
	return nil
}

// UnmarshalEntry decodes the entry at the front of b and returns how many
// bytes it took, for frames that carry several.
func UnmarshalEntry(b []byte) (Entry, int, error) {
	var e Entry
	if len(b) < wireHeaderLen {
		return e, 0, errWireShort
	}
	if b[0] != WireVersion {
		return e, 0, fmt.Errorf("%w %d", errWireVersion, b[0])
	}
	flags := b[1]
	if flags&^wireFlags != 0 {
		return e, 0, fmt.Errorf("%w %#x", errWireFlags, flags)
	}
	e.ID = binary.BigEndian.Uint32(b[2:])
	e.Status = binary.BigEndian.Uint32(b[6:])
	e.Timeout = binary.BigEndian.Uint32(b[10:])
	e.Mark = binary.BigEndian.Uint32(b[14:])
	e.Zone = binary.BigEndian.Uint16(b[18:])
	r := wireReader{b: b, off: wireHeaderLen, alen: 4}
	if flags&wireIPv6 != 0 {
		r.alen = 16
	}
	e.Orig = r.tuple()
	if flags&wireReply != 0 {
		e.Reply = r.tuple()
	}
	if flags&wireTCP != 0 {
		t := r.bytes(wireTCPLen)
		if t != nil {
			e.TCP = &TCPInfo{State: t[0], WScaleOrig: t[1], WScaleReply: t[2], FlagsOrig: t[3], FlagsReply: t[4]}
		}
	}
	if flags&wireSNAT != 0 {
		e.SNAT = r.nat()
	}
	if flags&wireDNAT != 0 {
		e.DNAT = r.nat()
	}
	if r.err != nil {
		return Entry{}, 0, r.err
	}
	return e, r.off, nil
}

func appendWireTuple(b []byte, t Tuple) []byte {
	b = append(b, t.Proto)
	b = append(b, t.Src.AsSlice()...)
	b = append(b, t.Dst.AsSlice()...)
	switch {
	case hasPorts(t.Proto):
		b = binary.BigEndian.AppendUint16(b, t.SrcPort)
		return binary.BigEndian.AppendUint16(b, t.DstPort)
	case isICMP(t.Proto):
		b = binary.BigEndian.AppendUint16(b, t.ICMPID)
		return append(b, t.ICMPType, t.ICMPCode)
	}
	return append(b, 0, 0, 0, 0)
}

// wireReader reads the variable part of an encoded entry; the first
// error sticks and later reads return zero values.
type wireReader struct {
	b    []byte
	off  int
	alen int
	err  error
}

func (r *wireReader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if len(r.b)-r.off < n {
		r.err = errWireShort
		return nil
	}
	p := r.b[r.off : r.off+n]
	r.off += n
	return p
}

func (r *wireReader) addr() netip.Addr {
	p := r.bytes(r.alen)
	if p == nil {
		return netip.Addr{}
	}
	a, _ := netip.AddrFromSlice(p)
	return a
}

func (r *wireReader) tuple() Tuple {
	var t Tuple
	if p := r.bytes(1); p != nil {
		t.Proto = p[0]
	}
	t.Src, t.Dst = r.addr(), r.addr()
	l4 := r.bytes(4)
	if l4 == nil {
		return t
	}
	switch {
	case hasPorts(t.Proto):
		t.SrcPort, t.DstPort = binary.BigEndian.Uint16(l4), binary.BigEndian.Uint16(l4[2:])
	case isICMP(t.Proto):
		t.ICMPID, t.ICMPType, t.ICMPCode = binary.BigEndian.Uint16(l4), l4[2], l4[3]
	case binary.BigEndian.Uint32(l4) != 0:
		r.err = errWireL4
	}
	return t
}

func (r *wireReader) nat() *NAT {
	a := r.addr()
	p := r.bytes(2)
	if p == nil {
		return nil
	}
	return &NAT{Addr: a, Port: binary.BigEndian.Uint16(p)}
}
