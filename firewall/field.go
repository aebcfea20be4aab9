package firewall

import (
	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// family is the IP version a match is limited to. Matches of different
// families can never see the same packet, which is what lets the segmenter
// interleave IPv4 and IPv6 rules freely.
type family uint8

const (
	famAny family = iota
	famV4
	famV6
)

// conflicts reports whether a packet could match something of family f and
// something of family g.
func (f family) conflicts(g family) bool { return f == famAny || g == famAny || f == g }

func (f family) String() string {
	switch f {
	case famV4:
		return "ip"
	case famV6:
		return "ip6"
	}
	return "inet"
}

// nfproto is the value `meta nfproto` loads for the family.
func (f family) nfproto() byte {
	if f == famV6 {
		return unix.NFPROTO_IPV6
	}
	return unix.NFPROTO_IPV4
}

// field is one component of a segment key. The order of the constants is
// the order of the fields in a concatenation.
type field uint8

const (
	fIIF field = iota
	fOIF
	fProto
	fSAddr4
	fSAddr6
	fDAddr4
	fDAddr6
	fSPort
	fDPort
	numFields
)

// fieldInfo describes how a field is loaded, typed and printed.
type fieldInfo struct {
	text  string // as nft prints it in a concatenation
	dtype nftables.SetDatatype
	size  int // value length in bytes, before register padding
	fam   family
	// ranged fields take intervals (addresses, ports); the others are
	// matched exactly (interface names, protocols).
	ranged bool
	// bucket is how many leading bytes name an overlap-index bucket.
	bucket int
	meta   expr.MetaKey // for meta fields
	base   expr.PayloadBase
	offset uint32 // for payload fields
}

var fields = [numFields]fieldInfo{
	fIIF:    {text: "iifname", dtype: nftables.TypeIFName, size: 16, bucket: 16, meta: expr.MetaKeyIIFNAME},
	fOIF:    {text: "oifname", dtype: nftables.TypeIFName, size: 16, bucket: 16, meta: expr.MetaKeyOIFNAME},
	fProto:  {text: "meta l4proto", dtype: nftables.TypeInetProto, size: 1, bucket: 1, meta: expr.MetaKeyL4PROTO},
	fSAddr4: {text: "ip saddr", dtype: nftables.TypeIPAddr, size: 4, fam: famV4, ranged: true, bucket: 3, base: expr.PayloadBaseNetworkHeader, offset: 12},
	fSAddr6: {text: "ip6 saddr", dtype: nftables.TypeIP6Addr, size: 16, fam: famV6, ranged: true, bucket: 8, base: expr.PayloadBaseNetworkHeader, offset: 8},
	fDAddr4: {text: "ip daddr", dtype: nftables.TypeIPAddr, size: 4, fam: famV4, ranged: true, bucket: 3, base: expr.PayloadBaseNetworkHeader, offset: 16},
	fDAddr6: {text: "ip6 daddr", dtype: nftables.TypeIP6Addr, size: 16, fam: famV6, ranged: true, bucket: 8, base: expr.PayloadBaseNetworkHeader, offset: 24},
	fSPort:  {text: "th sport", dtype: nftables.TypeInetService, size: 2, ranged: true, bucket: 1, base: expr.PayloadBaseTransportHeader, offset: 0},
	fDPort:  {text: "th dport", dtype: nftables.TypeInetService, size: 2, ranged: true, bucket: 1, base: expr.PayloadBaseTransportHeader, offset: 2},
}

// padded is the field's length in a concatenation: nft aligns every
// component to a 4-byte register.
func (i fieldInfo) padded() int { return (i.size + 3) &^ 3 }

// saddrField and daddrField pick the address field of a family.
func saddrField(f family) field {
	if f == famV6 {
		return fSAddr6
	}
	return fSAddr4
}

func daddrField(f family) field {
	if f == famV6 {
		return fDAddr6
	}
	return fDAddr4
}

// Limits of a concatenated key: nft packs at most five datatypes into a
// set's key type, and the kernel's registers hold 64 bytes
// (NFT_REG32_COUNT * 4).
const (
	maxKeyFields = 5
	maxKeyBytes  = 64
)

// shape is what a segment's rules constrain: the fields of the map key,
// plus guards that the segment's one rule checks before the lookup. Rules
// of the same shape can share one verdict map. Interfaces and the protocol
// become guards (exact values) only when the key would outgrow the limits.
type shape struct {
	dnat   bool   // ct status dnat (port-forward accepts)
	iif    string // iifname guard, "" = none
	oif    string // oifname guard
	proto  uint8  // meta l4proto guard, 0 = none
	fields uint16 // bit i set: field(i) is part of the key
}

func (s shape) has(f field) bool { return s.fields&(1<<f) != 0 }

func (s shape) with(f field) shape {
	s.fields |= 1 << f
	return s
}

func (s shape) without(f field) shape {
	s.fields &^= 1 << f
	return s
}

// fits reports whether the key stays within the concatenation limits.
func (s shape) fits() bool {
	n, size := 0, 0
	for _, f := range s.list() {
		n++
		size += fields[f].padded()
	}
	return n <= maxKeyFields && size <= maxKeyBytes
}

// list returns the shape's fields in concatenation order.
func (s shape) list() []field {
	var out []field
	for f := field(0); f < numFields; f++ {
		if s.has(f) {
			out = append(out, f)
		}
	}
	return out
}

// family is the IP version the shape is limited to by its address fields.
func (s shape) family() family {
	for _, f := range s.list() {
		if fields[f].fam != famAny {
			return fields[f].fam
		}
	}
	return famAny
}

// interval reports whether the shape's map needs interval semantics.
func (s shape) interval() bool {
	for _, f := range s.list() {
		if fields[f].ranged {
			return true
		}
	}
	return false
}

// keyType is the set key datatype for the shape's fields.
func keyType(fs []field) (nftables.SetDatatype, error) {
	if len(fs) == 1 {
		return fields[fs[0]].dtype, nil
	}
	types := make([]nftables.SetDatatype, len(fs))
	for i, f := range fs {
		types[i] = fields[f].dtype
	}
	return nftables.ConcatSetType(types...)
}
