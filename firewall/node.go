package firewall

import (
	"strconv"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// node is one match or statement of a rule. It renders itself in nft
// syntax and encodes itself into the expressions nft would generate for
// that text, implicit dependencies included, so that a ruleset loaded from
// String() with `nft -f` and the one Apply sends are the same.
type node interface {
	text() string
	encode(e *ruleEncoder)
}

// ruleEncoder turns nodes into expressions. It tracks the dependencies
// already checked (meta nfproto, meta l4proto) so that each is emitted once
// per rule, as nft does.
type ruleEncoder struct {
	exprs  []expr.Any
	fam    family // nfproto checked; famAny: not yet
	proto  uint8  // l4proto checked; 0: not yet
	anons  []anonRef
	nextID func() uint32
}

// anonSet is an anonymous constant set that a rule carries inline.
type anonSet struct {
	keyType  nftables.SetDatatype
	interval bool
	isMap    bool
	elems    []elem
}

type anonRef struct {
	set *anonSet
	id  uint32
}

const reg1 = unix.NFT_REG_1

func (e *ruleEncoder) add(x ...expr.Any) { e.exprs = append(e.exprs, x...) }

func (e *ruleEncoder) needFamily(f family) {
	if f == famAny || e.fam == f {
		return
	}
	e.fam = f
	e.add(&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: reg1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: []byte{f.nfproto()}})
}

func (e *ruleEncoder) needProto(p uint8) {
	if p == 0 || e.proto == p {
		return
	}
	e.proto = p
	e.add(&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: reg1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: []byte{p}})
}

// lookupAnon registers an anonymous set for the batch and returns the
// lookup that uses it.
func (e *ruleEncoder) lookupAnon(s *anonSet, dreg bool) *expr.Lookup {
	id := e.nextID()
	e.anons = append(e.anons, anonRef{set: s, id: id})
	name := "__set%d"
	if s.isMap {
		name = "__map%d"
	}
	return &expr.Lookup{SourceRegister: reg1, SetName: name, SetID: id, IsDestRegSet: dreg}
}

// matchSpans matches the value in reg1 against spans the way nft compiles
// `X value`, `X prefix`, `X lo-hi` and `X { ... }`.
func (e *ruleEncoder) matchSpans(dtype nftables.SetDatatype, spans []span, addr bool) {
	if len(spans) > 1 {
		e.add(e.lookupAnon(&anonSet{keyType: dtype, interval: true, elems: spanElems(spans)}, false))
		return
	}
	s := spans[0]
	p := -1
	if addr {
		p = s.prefixLen()
	}
	switch {
	case string(s.lo) == string(s.hi):
		e.add(&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: s.lo})
	case p >= 0:
		mask := make([]byte, len(s.lo))
		for i := 0; i < p; i++ {
			mask[i/8] |= 0x80 >> (i % 8)
		}
		e.add(&expr.Bitwise{SourceRegister: reg1, DestRegister: reg1, Len: uint32(len(mask)), Mask: mask, Xor: make([]byte, len(mask))},
			&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: s.lo})
	default:
		e.add(&expr.Cmp{Op: expr.CmpOpGte, Register: reg1, Data: s.lo},
			&expr.Cmp{Op: expr.CmpOpLte, Register: reg1, Data: s.hi})
	}
}

func spanElems(spans []span) []elem {
	out := make([]elem, len(spans))
	for i, s := range spans {
		out[i] = elem{key: s.lo, end: s.hi}
	}
	return out
}

// ctStateNode is the stateful core: one lookup sends established and
// related traffic on and drops what conntrack calls invalid.
type ctStateNode struct{}

func (ctStateNode) text() string {
	return "ct state vmap { invalid : drop, established : accept, related : accept }"
}

func (ctStateNode) encode(e *ruleEncoder) {
	st := func(bit uint32) []byte { return binaryutil.NativeEndian.PutUint32(bit) }
	m := &anonSet{keyType: nftables.TypeCTState, isMap: true, elems: []elem{
		{key: st(expr.CtStateBitINVALID), verdict: vDrop},
		{key: st(expr.CtStateBitESTABLISHED), verdict: vAccept},
		{key: st(expr.CtStateBitRELATED), verdict: vAccept},
	}}
	e.add(&expr.Ct{Key: expr.CtKeySTATE, Register: reg1}, e.lookupAnon(m, true))
}

// loopbackNode matches the loopback device by index; it is 1 in every
// network namespace (LOOPBACK_IFINDEX).
type loopbackNode struct{}

func (loopbackNode) text() string { return `iif "lo"` }

func (loopbackNode) encode(e *ruleEncoder) {
	e.add(&expr.Meta{Key: expr.MetaKeyIIF, Register: reg1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: binaryutil.NativeEndian.PutUint32(1)})
}

// ifnameNode matches interfaces by name, so a device that is missing
// does not fail the load.
type ifnameNode struct {
	out   bool
	names []string
}

func (n ifnameNode) text() string {
	q := make([]string, len(n.names))
	for i, s := range n.names {
		q[i] = strconv.Quote(s)
	}
	kw := "iifname "
	if n.out {
		kw = "oifname "
	}
	return kw + joinSet(q)
}

func (n ifnameNode) encode(e *ruleEncoder) {
	key := expr.MetaKeyIIFNAME
	if n.out {
		key = expr.MetaKeyOIFNAME
	}
	e.add(&expr.Meta{Key: key, Register: reg1})
	if len(n.names) == 1 {
		e.add(&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: ifnameValue(n.names[0])})
		return
	}
	s := &anonSet{keyType: nftables.TypeIFName}
	for _, name := range n.names {
		s.elems = append(s.elems, elem{key: ifnameValue(name)})
	}
	e.add(e.lookupAnon(s, false))
}

// addrNode matches a source or destination address against literal
// ranges or a named set (an alias).
type addrNode struct {
	fam   family
	dst   bool
	spans []span
	set   string
}

func (n addrNode) field() field {
	if n.dst {
		return daddrField(n.fam)
	}
	return saddrField(n.fam)
}

func (n addrNode) text() string {
	f := n.field()
	if n.set != "" {
		return fields[f].text + " @" + n.set
	}
	vals := make([]string, len(n.spans))
	for i, s := range n.spans {
		vals[i] = formatSpan(f, s)
	}
	return fields[f].text + " " + joinSet(vals)
}

func (n addrNode) encode(e *ruleEncoder) {
	fi := fields[n.field()]
	e.needFamily(n.fam)
	load := func(size int) {
		e.add(&expr.Payload{DestRegister: reg1, Base: fi.base, Offset: fi.offset, Len: uint32(size)})
	}
	if n.set != "" {
		load(fi.size)
		e.add(&expr.Lookup{SourceRegister: reg1, SetName: n.set})
		return
	}
	// nft compares a byte-aligned prefix on its leading bytes only.
	if len(n.spans) == 1 {
		if p := n.spans[0].prefixLen(); p > 0 && p%8 == 0 && p < fi.size*8 {
			load(p / 8)
			e.add(&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: n.spans[0].lo[:p/8]})
			return
		}
	}
	load(fi.size)
	e.matchSpans(fi.dtype, n.spans, true)
}

// protoNode matches the transport protocol alone.
type protoNode struct{ proto uint8 }

func (n protoNode) text() string { return "meta l4proto " + protoName(n.proto) }

func (n protoNode) encode(e *ruleEncoder) {
	e.proto = 0 // an explicit match is always emitted, as nft does
	e.needProto(n.proto)
}

// portNode matches a TCP or UDP port against literal ranges or a named
// set (a port alias).
type portNode struct {
	proto uint8
	dst   bool
	spans []span
	set   string
}

func (n portNode) text() string {
	kw := " sport "
	if n.dst {
		kw = " dport "
	}
	kw = protoName(n.proto) + kw
	if n.set != "" {
		return kw + "@" + n.set
	}
	vals := make([]string, len(n.spans))
	for i, s := range n.spans {
		vals[i] = formatSpan(fDPort, s)
	}
	return kw + joinSet(vals)
}

func (n portNode) encode(e *ruleEncoder) {
	f := fields[fSPort]
	if n.dst {
		f = fields[fDPort]
	}
	e.needProto(n.proto)
	e.add(&expr.Payload{DestRegister: reg1, Base: f.base, Offset: f.offset, Len: 2})
	if n.set != "" {
		e.add(&expr.Lookup{SourceRegister: reg1, SetName: n.set})
		return
	}
	e.matchSpans(f.dtype, n.spans, false)
}

// icmpNode matches ICMP or ICMPv6 types.
type icmpNode struct {
	v6    bool
	types []uint8
}

func (n icmpNode) text() string {
	vals := make([]string, len(n.types))
	for i, t := range n.types {
		vals[i] = icmpTypeName(n.v6, t)
	}
	kw := "icmp type "
	if n.v6 {
		kw = "icmpv6 type "
	}
	return kw + joinSet(vals)
}

func (n icmpNode) encode(e *ruleEncoder) {
	fam, proto, dtype := famV4, uint8(protoICMP), nftables.TypeICMPType
	if n.v6 {
		fam, proto, dtype = famV6, protoICMPv6, nftables.TypeICMP6Type
	}
	e.needFamily(fam)
	e.needProto(proto)
	e.add(&expr.Payload{DestRegister: reg1, Base: expr.PayloadBaseTransportHeader, Offset: 0, Len: 1})
	if len(n.types) == 1 {
		e.add(&expr.Cmp{Op: expr.CmpOpEq, Register: reg1, Data: []byte{n.types[0]}})
		return
	}
	s := &anonSet{keyType: dtype}
	for _, t := range n.types {
		s.elems = append(s.elems, elem{key: []byte{t}})
	}
	e.add(e.lookupAnon(s, false))
}

// dnatNode matches connections whose destination was translated, so that
// a port forward's accept cannot be reached by addressing the internal
// host directly.
type dnatNode struct{}

func (dnatNode) text() string { return "ct status dnat" }

func (dnatNode) encode(e *ruleEncoder) {
	e.add(&expr.Ct{Key: expr.CtKeySTATUS, Register: reg1},
		&expr.Bitwise{SourceRegister: reg1, DestRegister: reg1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(ipsDstNAT), Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: reg1, Data: make([]byte, 4)})
}

// vmapNode is a segment: one lookup of a concatenated key in a verdict map.
// Fields with a mask are loaded ANDed with it: the map holds network
// addresses of that prefix length.
type vmapNode struct {
	fields   []field
	interval bool
	masks    []int // prefix length per field, 0 = none
	set      string
}

func (n vmapNode) mask(i int) []byte {
	if n.masks == nil || n.masks[i] == 0 {
		return nil
	}
	m := make([]byte, fields[n.fields[i]].size)
	for b := 0; b < n.masks[i]; b++ {
		m[b/8] |= 0x80 >> (b % 8)
	}
	return m
}

func (n vmapNode) text() string {
	parts := make([]string, len(n.fields))
	for i, f := range n.fields {
		parts[i] = fields[f].text
		if m := n.mask(i); m != nil {
			parts[i] += " & " + formatValue(f, m)
		}
	}
	return strings.Join(parts, " . ") + " vmap @" + n.set
}

// concatReg is the register nft names for a component that starts off
// 32-bit words into the key: a 128-bit register when aligned to one, else
// a 32-bit register (nft's netlink_put_register).
func concatReg(off int) uint32 {
	if off%4 == 0 {
		return reg1 + uint32(off/4)
	}
	return unix.NFT_REG32_00 + uint32(off)
}

func (n vmapNode) encode(e *ruleEncoder) {
	for _, f := range n.fields {
		e.needFamily(fields[f].fam)
	}
	off := 0
	for i, f := range n.fields {
		fi := fields[f]
		r := concatReg(off)
		if fi.meta != 0 {
			e.add(&expr.Meta{Key: fi.meta, Register: r})
		} else {
			e.add(&expr.Payload{DestRegister: r, Base: fi.base, Offset: fi.offset, Len: uint32(fi.size)})
		}
		if m := n.mask(i); m != nil {
			e.add(&expr.Bitwise{SourceRegister: r, DestRegister: r, Len: uint32(len(m)), Mask: m, Xor: make([]byte, len(m))})
		}
		// nft converts host-order integers for interval concatenations.
		if f == fProto && n.interval && len(n.fields) > 1 {
			e.add(&expr.Byteorder{SourceRegister: r, DestRegister: r, Op: expr.ByteorderHton, Len: 1, Size: 2})
		}
		off += fi.padded() / 4
	}
	e.add(&expr.Lookup{SourceRegister: reg1, SetName: n.set, IsDestRegSet: true})
}

// ipsDstNAT is IPS_DST_NAT from linux/netfilter/nf_conntrack_common.h.
const ipsDstNAT = 1 << 5
