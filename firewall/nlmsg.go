package firewall

import (
	"encoding/binary"
	"fmt"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// This file encodes nf_tables messages. The library builds the same
// messages, but one attribute list per element and one message per call;
// a 100,000-element set needs a single pass into large buffers, elements
// split across messages so that no attribute outgrows its 16-bit length.

// attrs appends netlink attributes to one buffer.
type attrs struct{ b []byte }

func (a *attrs) put(typ uint16, data []byte) {
	a.b = binary.NativeEndian.AppendUint16(a.b, uint16(4+len(data)))
	a.b = binary.NativeEndian.AppendUint16(a.b, typ)
	a.b = append(a.b, data...)
	for len(a.b)%4 != 0 {
		a.b = append(a.b, 0)
	}
}

func (a *attrs) str(typ uint16, s string) { a.put(typ, append([]byte(s), 0)) }

func (a *attrs) u32(typ uint16, v uint32) { a.put(typ, binary.BigEndian.AppendUint32(nil, v)) }

// open starts a nested attribute; close ends it.
func (a *attrs) open(typ uint16) int {
	off := len(a.b)
	a.b = binary.NativeEndian.AppendUint16(a.b, 0)
	a.b = binary.NativeEndian.AppendUint16(a.b, typ|unix.NLA_F_NESTED)
	return off
}

func (a *attrs) close(off int) {
	binary.NativeEndian.PutUint16(a.b[off:], uint16(len(a.b)-off))
}

// maxElemChunk keeps a message's element list inside one attribute.
const maxElemChunk = 60000

// batch is one nf_tables transaction under construction.
type batch struct {
	msgs   []netlink.Message
	what   []string // what each message does, for errors
	nextID uint32
}

func (b *batch) id() uint32 {
	b.nextID++
	return b.nextID
}

func (b *batch) add(typ uint16, flags netlink.HeaderFlags, a *attrs, what string) {
	data := make([]byte, 4, 4+len(a.b))
	data[0] = unix.NFPROTO_INET // nfgenmsg: family, version 0, res_id 0
	data = append(data, a.b...)
	b.msgs = append(b.msgs, netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | int(typ)), Flags: netlink.Request | flags},
		Data:   data,
	})
	b.what = append(b.what, what)
}

// addTable without create only makes sure the table exists, so that the
// delete after it cannot fail on a first apply.
func (b *batch) addTable(name string, create bool) {
	a := &attrs{}
	a.str(unix.NFTA_TABLE_NAME, name)
	a.u32(unix.NFTA_TABLE_FLAGS, 0)
	var fl netlink.HeaderFlags
	if create {
		fl = netlink.Create
	}
	b.add(unix.NFT_MSG_NEWTABLE, fl, a, "add table "+name)
}

func (b *batch) delTable(name string) {
	a := &attrs{}
	a.str(unix.NFTA_TABLE_NAME, name)
	b.add(unix.NFT_MSG_DELTABLE, 0, a, "delete table "+name)
}

func (b *batch) addChain(t string, c *chain) {
	a := &attrs{}
	a.str(unix.NFTA_CHAIN_TABLE, t)
	a.str(unix.NFTA_CHAIN_NAME, c.name)
	if h := c.hook; h != nil {
		a.str(unix.NFTA_CHAIN_TYPE, string(h.typ))
		a.u32(unix.NFTA_CHAIN_POLICY, verdictCode(h.policy))
		off := a.open(unix.NFTA_CHAIN_HOOK)
		a.u32(unix.NFTA_HOOK_HOOKNUM, uint32(h.num))
		a.u32(unix.NFTA_HOOK_PRIORITY, uint32(h.prio))
		a.close(off)
	}
	b.add(unix.NFT_MSG_NEWCHAIN, netlink.Create, a, "add chain "+c.name)
}

func (b *batch) delChain(t, name string) {
	a := &attrs{}
	a.str(unix.NFTA_CHAIN_TABLE, t)
	a.str(unix.NFTA_CHAIN_NAME, name)
	b.add(unix.NFT_MSG_DELCHAIN, 0, a, "delete chain "+name)
}

// flushChain deletes every rule of a chain.
func (b *batch) flushChain(t, name string) {
	a := &attrs{}
	a.str(unix.NFTA_RULE_TABLE, t)
	a.str(unix.NFTA_RULE_CHAIN, name)
	b.add(unix.NFT_MSG_DELRULE, 0, a, "flush chain "+name)
}

func verdictCode(v verdict) uint32 {
	return uint32(int32(v.kind))
}

const (
	nftSetConcat      = 0x80 // NFT_SET_CONCAT
	nftaSetExpr       = 17   // NFTA_SET_EXPR
	nftaSetDescConcat = 2    // NFTA_SET_DESC_CONCAT
	nftaSetElemKeyEnd = 10   // NFTA_SET_ELEM_KEY_END
	nftaSetFieldLen   = 1    // NFTA_SET_FIELD_LEN
	verdictData       = 0xffffff00
)

// setLayout is how a set's elements look to the kernel.
type setLayout struct {
	interval bool
	concat   bool // several fields: pipapo keeps [key, key end] pairs
	isMap    bool
}

func (l setLayout) rbtree() bool { return l.interval && !l.concat }

func (s *set) layout() setLayout {
	return setLayout{interval: s.interval, concat: len(s.fields) > 1, isMap: s.isMap}
}

func (b *batch) addSet(t string, s *set) (uint32, error) {
	kt, err := keyType(s.fields)
	if err != nil {
		return 0, fmt.Errorf("set %s: %w", s.name, err)
	}
	l := s.layout()
	var flags uint32
	if l.interval {
		flags |= unix.NFT_SET_INTERVAL
		if l.concat {
			flags |= nftSetConcat
		}
	}
	if l.isMap {
		flags |= unix.NFT_SET_MAP
	}
	id := b.id()
	a := &attrs{}
	a.str(unix.NFTA_SET_TABLE, t)
	a.str(unix.NFTA_SET_NAME, s.name)
	a.u32(unix.NFTA_SET_FLAGS, flags)
	a.u32(unix.NFTA_SET_KEY_TYPE, kt.GetNFTMagic())
	a.u32(unix.NFTA_SET_KEY_LEN, uint32(keyLen(s.fields)))
	if l.isMap {
		a.u32(unix.NFTA_SET_DATA_TYPE, verdictData)
		a.u32(unix.NFTA_SET_DATA_LEN, 0)
	}
	a.u32(unix.NFTA_SET_ID, id)
	if l.interval && l.concat {
		desc := a.open(unix.NFTA_SET_DESC)
		cc := a.open(nftaSetDescConcat)
		for _, f := range s.fields {
			e := a.open(unix.NFTA_LIST_ELEM)
			a.u32(nftaSetFieldLen, uint32(fields[f].size))
			a.close(e)
		}
		a.close(cc)
		a.close(desc)
	}
	ud := setUserdata(kt, l.isMap)
	if s.comment != "" {
		ud = userdata.AppendString(ud, userdata.NFTNL_UDATA_SET_COMMENT, s.comment)
	}
	a.put(unix.NFTA_SET_USERDATA, ud)
	if s.counter {
		e := a.open(nftaSetExpr)
		a.str(unix.NFTA_EXPR_NAME, "counter")
		a.close(a.open(unix.NFTA_EXPR_DATA))
		a.close(e)
	}
	b.add(unix.NFT_MSG_NEWSET, netlink.Create, a, "add set "+s.name)
	return id, nil
}

// setUserdata is what nft stores with a set for printing it: the byte
// order of the key (and of a map's data), as nft's datatype defines it.
// Without it nft prints interface names backwards.
func setUserdata(kt nftables.SetDatatype, isMap bool) []byte {
	var order uint32 // concatenations and inet_proto: none
	switch kt.Name {
	case "ifname", "ct_state":
		order = 1 // BYTEORDER_HOST_ENDIAN
	case "ipv4_addr", "ipv6_addr", "inet_service", "icmp_type", "icmpv6_type":
		order = 2 // BYTEORDER_BIG_ENDIAN
	}
	ud := userdata.AppendUint32(nil, userdata.NFTNL_UDATA_SET_KEYBYTEORDER, order)
	if isMap {
		ud = userdata.AppendUint32(ud, userdata.NFTNL_UDATA_SET_DATABYTEORDER, 0)
	}
	return ud
}

// keyLen is the key length: one field unpadded, a concatenation padded.
func keyLen(fs []field) int {
	if len(fs) == 1 {
		return fields[fs[0]].size
	}
	n := 0
	for _, f := range fs {
		n += fields[f].padded()
	}
	return n
}

func (b *batch) delSet(t, name string) {
	a := &attrs{}
	a.str(unix.NFTA_SET_TABLE, t)
	a.str(unix.NFTA_SET_NAME, name)
	b.add(unix.NFT_MSG_DELSET, 0, a, "delete set "+name)
}

// kelem is an element as the kernel stores it. An rbtree interval set
// holds a start element and an end element (the first value past the
// range) per interval.
type kelem struct {
	key, keyEnd []byte
	end         bool
	verdict     verdict
}

// kernelElems converts model elements to kernel elements. For rbtree sets
// it adds what nft adds: an end element at zero when no interval starts
// there, and no end element for an interval that runs to the maximum.
func kernelElems(l setLayout, elems []elem, lead bool) []kelem {
	out := make([]kelem, 0, len(elems)*2+1)
	if lead && needsLead(l, elems) {
		out = append(out, leadElem(elems))
	}
	for _, e := range elems {
		switch {
		case l.rbtree():
			out = append(out, kelem{key: e.key, verdict: e.verdict})
			if !isMax(e.end) {
				out = append(out, kelem{key: next(e.end), end: true})
			}
		case l.interval:
			out = append(out, kelem{key: e.key, keyEnd: e.end, verdict: e.verdict})
		default:
			out = append(out, kelem{key: e.key, verdict: e.verdict})
		}
	}
	return out
}

// needsLead reports whether an rbtree set gets nft's end element at zero:
// when it has elements and none of them starts at zero.
func needsLead(l setLayout, elems []elem) bool {
	if !l.rbtree() || len(elems) == 0 {
		return false
	}
	for _, e := range elems {
		if isZero(e.key) {
			return false
		}
	}
	return true
}

func leadElem(elems []elem) kelem {
	return kelem{key: make([]byte, len(elems[0].key)), end: true}
}

// elems adds (or deletes) elements of a set, in as many messages as their
// size needs. id is the set's batch ID when the set is new in this batch.
func (b *batch) elems(t, name string, id uint32, isMap, del bool, ks []kelem) {
	typ, fl, verb := uint16(unix.NFT_MSG_NEWSETELEM), netlink.Create, "add"
	if del {
		typ, fl, verb = unix.NFT_MSG_DELSETELEM, 0, "delete"
	}
	for len(ks) > 0 {
		a := &attrs{}
		a.str(unix.NFTA_SET_ELEM_LIST_TABLE, t)
		a.str(unix.NFTA_SET_ELEM_LIST_SET, name)
		if id != 0 {
			a.u32(unix.NFTA_SET_ELEM_LIST_SET_ID, id)
		}
		list := a.open(unix.NFTA_SET_ELEM_LIST_ELEMENTS)
		start := len(a.b)
		n := 0
		for n < len(ks) && len(a.b)-start < maxElemChunk {
			encodeElem(a, ks[n], isMap && !del)
			n++
		}
		a.close(list)
		b.add(typ, fl, a, fmt.Sprintf("%s %d elements of %s", verb, n, name))
		ks = ks[n:]
	}
}

func encodeElem(a *attrs, k kelem, data bool) {
	e := a.open(unix.NFTA_LIST_ELEM)
	if k.end {
		a.u32(unix.NFTA_SET_ELEM_FLAGS, unix.NFT_SET_ELEM_INTERVAL_END)
	}
	o := a.open(unix.NFTA_SET_ELEM_KEY)
	a.put(unix.NFTA_DATA_VALUE, k.key)
	a.close(o)
	if k.keyEnd != nil {
		o = a.open(nftaSetElemKeyEnd)
		a.put(unix.NFTA_DATA_VALUE, k.keyEnd)
		a.close(o)
	}
	if data && !k.end {
		o = a.open(unix.NFTA_SET_ELEM_DATA)
		v := a.open(unix.NFTA_DATA_VERDICT)
		a.u32(unix.NFTA_VERDICT_CODE, verdictCode(k.verdict))
		if k.verdict.chain != "" {
			a.str(unix.NFTA_VERDICT_CHAIN, k.verdict.chain)
		}
		a.close(v)
		a.close(o)
	}
	a.close(e)
}

// addRule appends a rule to a chain, after the anonymous sets it uses.
func (b *batch) addRule(t, c string, r *rule) error {
	enc := &ruleEncoder{nextID: b.id}
	for _, n := range r.nodes {
		n.encode(enc)
	}
	for _, ref := range enc.anons {
		b.addAnonSet(t, ref)
	}
	a := &attrs{}
	a.str(unix.NFTA_RULE_TABLE, t)
	a.str(unix.NFTA_RULE_CHAIN, c)
	list := a.open(unix.NFTA_RULE_EXPRESSIONS)
	for _, x := range enc.exprs {
		data, err := expr.Marshal(unix.NFPROTO_INET, x)
		if err != nil {
			return fmt.Errorf("chain %s: rule %q: %w", c, r.text, err)
		}
		a.put(unix.NFTA_LIST_ELEM|unix.NLA_F_NESTED, data)
	}
	a.close(list)
	if r.comment != "" {
		a.put(unix.NFTA_RULE_USERDATA, userdata.AppendString(nil, userdata.TypeComment, r.comment))
	}
	b.add(unix.NFT_MSG_NEWRULE, netlink.Create|netlink.Append, a, fmt.Sprintf("add rule to %s: %s", c, r.text))
	return nil
}

func (b *batch) addAnonSet(t string, ref anonRef) {
	s := ref.set
	l := setLayout{interval: s.interval, isMap: s.isMap}
	ks := kernelElems(l, s.elems, true)
	flags := uint32(unix.NFT_SET_ANONYMOUS | unix.NFT_SET_CONSTANT)
	name := "__set%d"
	if l.interval {
		flags |= unix.NFT_SET_INTERVAL
	}
	if l.isMap {
		flags |= unix.NFT_SET_MAP
		name = "__map%d"
	}
	a := &attrs{}
	a.str(unix.NFTA_SET_TABLE, t)
	a.str(unix.NFTA_SET_NAME, name)
	a.u32(unix.NFTA_SET_FLAGS, flags)
	a.u32(unix.NFTA_SET_KEY_TYPE, s.keyType.GetNFTMagic())
	a.u32(unix.NFTA_SET_KEY_LEN, s.keyType.Bytes)
	if l.isMap {
		a.u32(unix.NFTA_SET_DATA_TYPE, verdictData)
		a.u32(unix.NFTA_SET_DATA_LEN, 0)
	}
	a.u32(unix.NFTA_SET_ID, ref.id)
	desc := a.open(unix.NFTA_SET_DESC)
	a.u32(unix.NFTA_SET_DESC_SIZE, uint32(len(ks)))
	a.close(desc)
	a.put(unix.NFTA_SET_USERDATA, setUserdata(s.keyType, l.isMap))
	b.add(unix.NFT_MSG_NEWSET, netlink.Create, a, "add anonymous set")
	b.elems(t, name, ref.id, l.isMap, false, ks)
}
