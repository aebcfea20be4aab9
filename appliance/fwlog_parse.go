package appliance

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"rampart/config"
	"rampart/firewall"
)

// The NFLOG wire format (include/uapi/linux/netfilter/nfnetlink_log.h):
// each logged packet is one netlink message of type NFULNL_MSG_PACKET in
// subsystem NFNL_SUBSYS_ULOG, an nfgenmsg (family, version, group) and
// then attributes, big-endian. Parsing is pure, so it is fuzzed
// (fwlog_test.go); the socket is fwlog.go's.

// nfnetlink_log message types, attributes and config values.
const (
	nfulnlMsgPacket = 0
	nfulnlMsgConfig = 1

	nfulaPacketHdr     = 1
	nfulaIfindexIndev  = 4
	nfulaIfindexOutdev = 5
	nfulaPayload       = 9
	nfulaPrefix        = 10

	nfulaCfgCmd     = 1
	nfulaCfgMode    = 2
	nfulaCfgTimeout = 4 // in 1/100 s

	nfulnlCfgCmdBind  = 1
	nfulnlCopyPacket  = 2
	nfgenmsgLen       = 4
	nfulaPacketHdrLen = 4
)

// nflogMsgType is the netlink message type of logged packets.
const nflogMsgType = netlink.HeaderType(unix.NFNL_SUBSYS_ULOG<<8 | nfulnlMsgPacket)

// loggedPacket is what one NFLOG message says.
type loggedPacket struct {
	Family     uint8 // NFPROTO_IPV4 or NFPROTO_IPV6 (unix.AF_INET, AF_INET6)
	Prefix     string
	In, Out    uint32 // interface indexes; 0 when none
	Proto      string // tcp, udp, icmp, icmpv6, or the number
	Src, Dst   netip.Addr
	SPort      uint16 // tcp and udp; ICMP type and code in Type, Code
	DPort      uint16
	ICMP       bool
	Type, Code uint8
	Len        int // the IP packet's length as its header says
}

var errShort = errors.New("truncated")

// parseNFLOG reads one NFLOG packet message body: nfgenmsg and attributes.
func parseNFLOG(b []byte) (loggedPacket, error) {
	var p loggedPacket
	if len(b) < nfgenmsgLen {
		return p, fmt.Errorf("nflog: header: %w", errShort)
	}
	p.Family = b[0]
	ad, err := netlink.NewAttributeDecoder(b[nfgenmsgLen:])
	if err != nil {
		return p, fmt.Errorf("nflog: attributes: %w", err)
	}
	ad.ByteOrder = binary.BigEndian
	var payload []byte
	for ad.Next() {
		switch ad.Type() {
		case nfulaPrefix:
			p.Prefix = ad.String()
		case nfulaIfindexIndev:
			p.In = ad.Uint32()
		case nfulaIfindexOutdev:
			p.Out = ad.Uint32()
		case nfulaPayload:
			payload = ad.Bytes()
		}
	}
	if err := ad.Err(); err != nil {
		return p, fmt.Errorf("nflog: attributes: %w", err)
	}
	if err := p.parseIP(payload); err != nil {
		return p, fmt.Errorf("nflog: packet: %w", err)
	}
	return p, nil
}

// IPv6 extension headers that parseIP steps over, and how many at most.
const maxIPv6Ext = 8

// parseIP reads the network and transport headers of a logged packet.
func (p *loggedPacket) parseIP(b []byte) error {
	var proto uint8
	var rest []byte
	switch {
	case p.Family == unix.AF_INET && len(b) >= 20 && b[0]>>4 == 4:
		ihl := int(b[0]&0x0f) * 4
		if ihl < 20 || len(b) < ihl {
			return errShort
		}
		p.Len = int(binary.BigEndian.Uint16(b[2:4]))
		proto = b[9]
		p.Src = netip.AddrFrom4([4]byte(b[12:16]))
		p.Dst = netip.AddrFrom4([4]byte(b[16:20]))
		if binary.BigEndian.Uint16(b[6:8])&0x1fff != 0 { // a later fragment: no transport header
			p.Proto = protoName(proto)
			return nil
		}
		rest = b[ihl:]
	case p.Family == unix.AF_INET6 && len(b) >= 40 && b[0]>>4 == 6:
		p.Len = 40 + int(binary.BigEndian.Uint16(b[4:6]))
		proto = b[6]
		p.Src = netip.AddrFrom16([16]byte(b[8:24]))
		p.Dst = netip.AddrFrom16([16]byte(b[24:40]))
		rest = b[40:]
		for range maxIPv6Ext {
			switch proto {
			case unix.IPPROTO_HOPOPTS, unix.IPPROTO_ROUTING, unix.IPPROTO_DSTOPTS:
				if len(rest) < 8 || len(rest) < (int(rest[1])+1)*8 {
					return errShort
				}
				proto, rest = rest[0], rest[(int(rest[1])+1)*8:]
				continue
			case unix.IPPROTO_FRAGMENT:
				if len(rest) < 8 {
					return errShort
				}
				if binary.BigEndian.Uint16(rest[2:4])&0xfff8 != 0 { // a later fragment
					p.Proto = protoName(rest[0])
					return nil
				}
				proto, rest = rest[0], rest[8:]
				continue
			}
			break
		}
	default:
		return errors.New("not an IPv4 or IPv6 packet")
	}
	p.Proto = protoName(proto)
	switch proto {
	case unix.IPPROTO_TCP, unix.IPPROTO_UDP:
		if len(rest) >= 4 {
			p.SPort, p.DPort = binary.BigEndian.Uint16(rest[0:2]), binary.BigEndian.Uint16(rest[2:4])
		}
	case unix.IPPROTO_ICMP, unix.IPPROTO_ICMPV6:
		if len(rest) >= 2 {
			p.ICMP, p.Type, p.Code = true, rest[0], rest[1]
		}
	}
	return nil
}

// ruleOf reads which config item a prefix names: "rampart rule 3: " is
// rules[3], "rampart pf 1: " nat.port_forwards[1].
func ruleOf(prefix string) (kind string, index int, ok bool) {
	rest, found := strings.CutPrefix(prefix, firewall.LogPrefix)
	if !found {
		return "", 0, false
	}
	kind, num, found := strings.Cut(strings.TrimSuffix(strings.TrimSpace(rest), ":"), " ")
	if !found || (kind != "rule" && kind != "pf") {
		return "", 0, false
	}
	index, err := strconv.Atoi(num)
	if err != nil || index < 0 {
		return "", 0, false
	}
	return kind, index, true
}

// describe is the live log's line for p: the rule as the rules page
// numbers it (from 1) with its comment and verdict, the interfaces as
// roles, and the flow. cfg may be nil or newer than the rule that logged
// (an edit in between); the line then says less, never something wrong
// about the packet.
func describe(p loggedPacket, cfg *config.Config, ifName func(uint32) string) string {
	var b strings.Builder
	kind, i, ok := ruleOf(p.Prefix)
	switch {
	case ok && kind == "rule":
		fmt.Fprintf(&b, "rule %d", i+1)
		if cfg != nil && i < len(cfg.Rules) {
			r := cfg.Rules[i]
			if r.Comment != "" {
				fmt.Fprintf(&b, " (%s)", r.Comment)
			}
			fmt.Fprintf(&b, " %s", r.Action)
		}
	case ok:
		fmt.Fprintf(&b, "port forward %d", i+1)
		if cfg != nil && i < len(cfg.NAT.PortForwards) && cfg.NAT.PortForwards[i].Comment != "" {
			fmt.Fprintf(&b, " (%s)", cfg.NAT.PortForwards[i].Comment)
		}
		b.WriteString(" accept")
	default:
		fmt.Fprintf(&b, "prefix %q", p.Prefix)
	}
	b.WriteByte(':')
	for _, dev := range []struct {
		key   string
		index uint32
	}{{"in", p.In}, {"out", p.Out}} {
		if dev.index != 0 {
			fmt.Fprintf(&b, " %s=%s", dev.key, roleOf(cfg, ifName(dev.index)))
		}
	}
	fmt.Fprintf(&b, " %s %s → %s", p.Proto, endpoint(p.Src, p.SPort, p.Proto), endpoint(p.Dst, p.DPort, p.Proto))
	if p.ICMP {
		fmt.Fprintf(&b, " type %d code %d", p.Type, p.Code)
	}
	if p.Len > 0 {
		fmt.Fprintf(&b, " len %d", p.Len)
	}
	return b.String()
}

func endpoint(a netip.Addr, port uint16, proto string) string {
	if proto == "tcp" || proto == "udp" {
		return netip.AddrPortFrom(a, port).String()
	}
	return a.String()
}

// roleOf names a device by its role, "wan (eth1)", when the config has one.
func roleOf(cfg *config.Config, dev string) string {
	if cfg != nil {
		for role, i := range cfg.Interfaces {
			if i != nil && i.Device == dev {
				return role + " (" + dev + ")"
			}
		}
	}
	return dev
}
