package ctnl

import (
	"errors"
	"fmt"
	"net/netip"
)

var (
	errShortPayload = errors.New("payload shorter than struct nfgenmsg")
	errNoOrig       = errors.New("no original tuple")
	errMixedFamily  = errors.New("tuple mixes address families")
)

// ParseEntry decodes the payload of a ctnetlink conntrack message (struct
// nfgenmsg, then attributes) as a dump or an event carries it. NAT is
// derived from the reply tuple and the status bits (see Entry.SNAT).
func ParseEntry(payload []byte) (Entry, error) {
	var e Entry
	if err := e.parse(payload); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// parse decodes into a zero e, in place.
func (e *Entry) parse(payload []byte) error {
	if len(payload) < nfgenmsgLen {
		return errShortPayload
	}
	err := walkAttrs(payload[nfgenmsgLen:], e.parseAttr)
	if err != nil {
		return err
	}
	if !e.Orig.IsValid() {
		return errNoOrig
	}
	if err := e.Validate(); err != nil {
		return err
	}
	e.deriveNAT()
	return nil
}

func (e *Entry) parseAttr(typ uint16, data []byte) error {
	var err error
	switch typ {
	case ctaTupleOrig:
		e.Orig, err = parseTuple(data)
	case ctaTupleReply:
		e.Reply, err = parseTuple(data)
	case ctaStatus:
		e.Status, err = readBE32(data)
	case ctaTimeout:
		e.Timeout, err = readBE32(data)
	case ctaMark:
		e.Mark, err = readBE32(data)
	case ctaID:
		e.ID, err = readBE32(data)
	case ctaZone:
		e.Zone, err = readBE16(data)
	case ctaProtoinfo:
		e.TCP, err = parseProtoinfo(data)
	}
	if err != nil {
		return fmt.Errorf("attribute %d: %w", typ, err)
	}
	return nil
}

// l4Fields collects a tuple's L4 attributes, which may come in any order
// around CTA_PROTO_NUM; only those that fit the protocol are kept.
type l4Fields struct {
	proto              uint8
	sport, dport, id   uint16
	icmpType, icmpCode uint8
}

func parseTuple(b []byte) (Tuple, error) {
	var t Tuple
	var l4 l4Fields
	err := walkAttrs(b, func(typ uint16, data []byte) error {
		switch typ {
		case ctaTupleIP:
			return walkAttrs(data, t.parseIP)
		case ctaTupleProto:
			return walkAttrs(data, l4.parse)
		}
		return nil
	})
	if err != nil {
		return Tuple{}, err
	}
	if t.Src.IsValid() != t.Dst.IsValid() || (t.Src.IsValid() && t.Src.Is4() != t.Dst.Is4()) {
		return Tuple{}, errMixedFamily
	}
	if !t.Src.IsValid() {
		// A tuple without addresses is no tuple: keep it zero, as absent.
		return Tuple{}, nil
	}
	t.Proto = l4.proto
	switch {
	case hasPorts(l4.proto):
		t.SrcPort, t.DstPort = l4.sport, l4.dport
	case isICMP(l4.proto):
		t.ICMPID, t.ICMPType, t.ICMPCode = l4.id, l4.icmpType, l4.icmpCode
	}
	return t, nil
}

func (t *Tuple) parseIP(typ uint16, data []byte) error {
	var want int
	var dst *netip.Addr
	switch typ {
	case ctaIPv4Src:
		want, dst = 4, &t.Src
	case ctaIPv4Dst:
		want, dst = 4, &t.Dst
	case ctaIPv6Src:
		want, dst = 16, &t.Src
	case ctaIPv6Dst:
		want, dst = 16, &t.Dst
	default:
		return nil
	}
	if len(data) < want {
		return errAttrTruncated
	}
	a, _ := netip.AddrFromSlice(data[:want])
	*dst = a
	return nil
}

func (l *l4Fields) parse(typ uint16, data []byte) error {
	var err error
	switch typ {
	case ctaProtoNum:
		l.proto, err = readU8(data)
	case ctaProtoSrcPort:
		l.sport, err = readBE16(data)
	case ctaProtoDstPort:
		l.dport, err = readBE16(data)
	case ctaProtoICMPID, ctaProtoICMPv6ID:
		l.id, err = readBE16(data)
	case ctaProtoICMPType, ctaProtoICMPv6Type:
		l.icmpType, err = readU8(data)
	case ctaProtoICMPCode, ctaProtoICMPv6Code:
		l.icmpCode, err = readU8(data)
	}
	return err
}

// parseProtoinfo returns the TCP protoinfo, or nil for other protocols.
func parseProtoinfo(b []byte) (*TCPInfo, error) {
	var info *TCPInfo
	err := walkAttrs(b, func(typ uint16, data []byte) error {
		if typ != ctaProtoinfoTCP {
			return nil
		}
		info = &TCPInfo{}
		return walkAttrs(data, info.parse)
	})
	if err != nil {
		return nil, err
	}
	return info, nil
}

func (i *TCPInfo) parse(typ uint16, data []byte) error {
	var err error
	switch typ {
	case ctaProtoinfoTCPState:
		i.State, err = readU8(data)
	case ctaProtoinfoTCPWScaleOrig:
		i.WScaleOrig, err = readU8(data)
	case ctaProtoinfoTCPWScaleReply:
		i.WScaleReply, err = readU8(data)
	case ctaProtoinfoTCPFlagsOrig:
		i.FlagsOrig, err = readU8(data)
	case ctaProtoinfoTCPFlagsReply:
		i.FlagsReply, err = readU8(data)
	}
	return err
}
