package ctnl

import "net/netip"

// CreateOptions tune how entries are written into the kernel table.
type CreateOptions struct {
	// Replace makes an existing entry with the same tuple give way: one
	// without NAT is updated in place (IPCTNL_MSG_CT_NEW without
	// NLM_F_EXCL), and one with NAT, which the kernel refuses to update
	// (EOPNOTSUPP), is deleted and created again. Without Replace an
	// existing entry is reported as EEXIST.
	Replace bool
	// Liberal sets the per-entry IP_CT_TCP_FLAG_BE_LIBERAL flag on both
	// directions of TCP entries, so that the window tracking of fw2,
	// which never saw the start of the connection, accepts its segments.
	// The global sysctl is never touched.
	Liberal bool
}

// createStatusMask is the part of an entry's status that a create may
// carry. The NAT bits are set by the kernel from CTA_NAT_*; EXPECTED,
// DYING and the like are the kernel's own and make an update fail with
// EBUSY.
const createStatusMask = StatusSeenReply | StatusAssured | StatusFixedTimeout

func family(t Tuple) uint8 {
	if t.IPv6() {
		return afINET6
	}
	return afINET
}

// appendNfgenmsg appends struct nfgenmsg.
func appendNfgenmsg(b []byte, fam uint8) []byte {
	return append(b, fam, nfnetlinkV0, 0, 0) // res_id 0, big endian
}

// appendCreate appends the payload of the IPCTNL_MSG_CT_NEW that
// re-creates e the way that carries a live connection (measured, see
// the package comment): the reply is the reversed original tuple and the
// translation goes in CTA_NAT_SRC / CTA_NAT_DST, so that the kernel sets
// up a real NAT binding; the status has IPS_CONFIRMED.
func appendCreate(b []byte, e *Entry, opts CreateOptions) ([]byte, error) {
	if err := e.Validate(); err != nil {
		return b, err
	}
	b = appendNfgenmsg(b, family(e.Orig))
	b = appendTuple(b, ctaTupleOrig, e.Orig)
	b = appendTuple(b, ctaTupleReply, e.Orig.Reverse())
	if e.SNAT != nil {
		b = appendNAT(b, ctaNATSrc, e.Orig.Proto, *e.SNAT)
	}
	if e.DNAT != nil {
		b = appendNAT(b, ctaNATDst, e.Orig.Proto, *e.DNAT)
	}
	b = appendBE32(b, ctaStatus, e.Status&createStatusMask|StatusConfirmed)
	if e.Timeout != 0 {
		b = appendBE32(b, ctaTimeout, e.Timeout)
	}
	if e.Mark != 0 {
		b = appendBE32(b, ctaMark, e.Mark)
	}
	if e.Zone != 0 {
		b = appendBE16(b, ctaZone, e.Zone)
	}
	if e.TCP != nil && e.Orig.Proto == protoTCP {
		b = appendTCP(b, *e.TCP, opts.Liberal)
	}
	return b, nil
}

func appendTuple(b []byte, typ uint16, t Tuple) []byte {
	b, tuple := beginNest(b, typ)
	b, ip := beginNest(b, ctaTupleIP)
	if t.IPv6() {
		b = appendAddr(b, ctaIPv6Src, t.Src)
		b = appendAddr(b, ctaIPv6Dst, t.Dst)
	} else {
		b = appendAddr(b, ctaIPv4Src, t.Src)
		b = appendAddr(b, ctaIPv4Dst, t.Dst)
	}
	b = endNest(b, ip)
	b, proto := beginNest(b, ctaTupleProto)
	b = appendU8(b, ctaProtoNum, t.Proto)
	switch {
	case hasPorts(t.Proto):
		b = appendBE16(b, ctaProtoSrcPort, t.SrcPort)
		b = appendBE16(b, ctaProtoDstPort, t.DstPort)
	case t.Proto == protoICMP:
		b = appendBE16(b, ctaProtoICMPID, t.ICMPID)
		b = appendU8(b, ctaProtoICMPType, t.ICMPType)
		b = appendU8(b, ctaProtoICMPCode, t.ICMPCode)
	case t.Proto == protoICMPv6:
		b = appendBE16(b, ctaProtoICMPv6ID, t.ICMPID)
		b = appendU8(b, ctaProtoICMPv6Type, t.ICMPType)
		b = appendU8(b, ctaProtoICMPv6Code, t.ICMPCode)
	}
	b = endNest(b, proto)
	return endNest(b, tuple)
}

// appendAddr appends an address attribute without allocating.
func appendAddr(b []byte, typ uint16, a netip.Addr) []byte {
	if a.Is4() {
		v := a.As4()
		return append(appendHdr(b, typ, 4), v[:]...)
	}
	v := a.As16()
	return append(appendHdr(b, typ, 16), v[:]...)
}

// appendNAT appends a one-address, one-port NAT range. The port range is
// left out for protocols without ports or identifiers, where the kernel
// has nothing to pin.
func appendNAT(b []byte, typ uint16, proto uint8, n NAT) []byte {
	b, nat := beginNest(b, typ)
	if n.Addr.Is6() {
		b = appendAddr(b, ctaNATv6MinIP, n.Addr)
		b = appendAddr(b, ctaNATv6MaxIP, n.Addr)
	} else {
		b = appendAddr(b, ctaNATv4MinIP, n.Addr)
		b = appendAddr(b, ctaNATv4MaxIP, n.Addr)
	}
	if hasPorts(proto) || isICMP(proto) {
		b, pr := beginNest(b, ctaNATProto)
		b = appendBE16(b, ctaProtoNATPortMin, n.Port)
		b = appendBE16(b, ctaProtoNATPortMax, n.Port)
		b = endNest(b, pr)
		return endNest(b, nat)
	}
	return endNest(b, nat)
}

// appendTCP appends the TCP protoinfo with flag masks 0xff: with the mask
// 0 that a dump reports, the kernel would drop the flags and with them
// the window scale.
func appendTCP(b []byte, i TCPInfo, liberal bool) []byte {
	fo, fr := i.FlagsOrig, i.FlagsReply
	if liberal {
		fo |= TCPFlagBeLiberal
		fr |= TCPFlagBeLiberal
	}
	b, pi := beginNest(b, ctaProtoinfo)
	b, tcp := beginNest(b, ctaProtoinfoTCP)
	b = appendU8(b, ctaProtoinfoTCPState, i.State)
	b = appendU8(b, ctaProtoinfoTCPWScaleOrig, i.WScaleOrig)
	b = appendU8(b, ctaProtoinfoTCPWScaleReply, i.WScaleReply)
	b = append(appendHdr(b, ctaProtoinfoTCPFlagsOrig, 2), fo, tcpFlagsMaskAll, 0, 0)
	b = append(appendHdr(b, ctaProtoinfoTCPFlagsReply, 2), fr, tcpFlagsMaskAll, 0, 0)
	b = endNest(b, tcp)
	return endNest(b, pi)
}

// appendDelete appends the payload of an IPCTNL_MSG_CT_DELETE for the
// entry whose original tuple is t in zone.
func appendDelete(b []byte, t Tuple, zone uint16) []byte {
	b = appendNfgenmsg(b, family(t))
	b = appendTuple(b, ctaTupleOrig, t)
	if zone != 0 {
		b = appendBE16(b, ctaZone, zone)
	}
	return b
}

// allFamilies is the payload of a dump or flush over IPv4 and IPv6: the
// kernel filters on nfgen_family only when it is not AF_UNSPEC.
func allFamilies() []byte { return appendNfgenmsg(nil, afUnspec) }

// msgType is the netlink message type of a ctnetlink message.
func msgType(msg uint8) uint16 { return nfnlSubsysCtnetlink<<8 | uint16(msg) }
