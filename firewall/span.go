package firewall

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"rampart/config"
)

// span is an inclusive range of big-endian values of one field, as nft
// stores interval elements. An exact value has lo == hi.
type span struct{ lo, hi []byte }

func exact(b []byte) span { return span{lo: b, hi: b} }

// prefixSpan is the range of addresses a prefix covers; host bits are
// ignored, as nft ignores them.
func prefixSpan(p netip.Prefix) span {
	p = p.Masked()
	lo := p.Addr().AsSlice()
	hi := slices.Clone(lo)
	for i := p.Bits(); i < len(hi)*8; i++ {
		hi[i/8] |= 0x80 >> (i % 8)
	}
	return span{lo: lo, hi: hi}
}

func portValue(p uint16) []byte { return binary.BigEndian.AppendUint16(nil, p) }

func portSpan(r config.PortRange) span {
	return span{lo: portValue(r.From), hi: portValue(r.To)}
}

// ifnameValue is an interface name as the kernel compares it: IFNAMSIZ
// bytes, zero padded.
func ifnameValue(name string) []byte {
	b := make([]byte, 16)
	copy(b, name)
	return b
}

// isMax reports whether every bit of b is set.
func isMax(b []byte) bool {
	for _, c := range b {
		if c != 0xff {
			return false
		}
	}
	return true
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// next returns b+1 as a big-endian number; it wraps to zero after the
// maximum, which callers rule out with isMax.
func next(b []byte) []byte {
	n := slices.Clone(b)
	for i := len(n) - 1; i >= 0; i-- {
		n[i]++
		if n[i] != 0 {
			break
		}
	}
	return n
}

// prefixLen returns the length of the CIDR block s covers, or -1 if s is
// not one.
func (s span) prefixLen() int {
	bits := len(s.lo) * 8
	p := bits
	for p > 0 {
		i := p - 1
		bit := byte(0x80 >> (i % 8))
		if s.lo[i/8]&bit != 0 || s.hi[i/8]&bit == 0 {
			break
		}
		p--
	}
	for i := 0; i < p; i++ {
		bit := byte(0x80 >> (i % 8))
		if s.lo[i/8]&bit != s.hi[i/8]&bit {
			return -1
		}
	}
	return p
}

// normalize sorts spans and merges overlapping ones, so that no two
// elements of an interval set overlap (the kernel refuses that). With
// adjacent set, touching ranges merge too: fewer elements, same match.
func normalize(in []span, adjacent bool) []span {
	if len(in) == 0 {
		return nil
	}
	s := slices.Clone(in)
	slices.SortFunc(s, func(a, b span) int { return bytes.Compare(a.lo, b.lo) })
	out := s[:1]
	for _, x := range s[1:] {
		last := &out[len(out)-1]
		touch := bytes.Compare(x.lo, last.hi) <= 0
		if !touch && adjacent && !isMax(last.hi) {
			touch = bytes.Equal(x.lo, next(last.hi))
		}
		if !touch {
			out = append(out, x)
			continue
		}
		if bytes.Compare(x.hi, last.hi) > 0 {
			last.hi = x.hi
		}
	}
	return out
}

// formatValue prints one value of a field as nft does.
func formatValue(f field, b []byte) string {
	switch f {
	case fIIF, fOIF:
		return strconv.Quote(string(bytes.TrimRight(b, "\x00")))
	case fProto:
		return protoName(b[0])
	case fSPort, fDPort:
		return strconv.Itoa(int(binary.BigEndian.Uint16(b)))
	}
	a, _ := netip.AddrFromSlice(b)
	return a.String()
}

// formatSpan prints a range as nft does: a value, a prefix or lo-hi.
func formatSpan(f field, s span) string {
	if bytes.Equal(s.lo, s.hi) {
		return formatValue(f, s.lo)
	}
	if fields[f].fam != famAny {
		if p := s.prefixLen(); p >= 0 {
			return formatValue(f, s.lo) + "/" + strconv.Itoa(p)
		}
	}
	return formatValue(f, s.lo) + "-" + formatValue(f, s.hi)
}

// Transport protocol numbers (IANA).
const (
	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58
	protoVRRP   = 112 // CARP shares VRRP's protocol number
)

func protoName(p byte) string {
	switch p {
	case protoICMP:
		return "icmp"
	case protoTCP:
		return "tcp"
	case protoUDP:
		return "udp"
	case protoICMPv6:
		return "ipv6-icmp"
	case protoVRRP:
		return "vrrp"
	}
	return strconv.Itoa(int(p))
}

func protoNumber(p config.Protocol) (uint8, error) {
	switch p {
	case config.AnyProto:
		return 0, nil
	case config.TCP:
		return protoTCP, nil
	case config.UDP:
		return protoUDP, nil
	case config.ICMP:
		return protoICMP, nil
	case config.ICMPv6:
		return protoICMPv6, nil
	}
	return 0, fmt.Errorf("unknown protocol %q", p)
}

// joinSet prints values as an anonymous nft set, or bare if there is one.
func joinSet(vals []string) string {
	if len(vals) == 1 {
		return vals[0]
	}
	return "{ " + strings.Join(vals, ", ") + " }"
}
