package statesync

import (
	"net/netip"
	"sync"

	"rampart/statesync/ctnl"
)

// Cache is the receiver's copy of the peer's table, kept outside the
// kernel while this node is backup: entries in the kernel would be
// judged, aged and possibly refused by a box that sees none of their
// packets, and a failed takeover would leave them behind. It is keyed by
// original tuple and zone, as conntrack is.
//
// A bulk update replaces the content: entries not mentioned between
// BeginBulk and EndBulk are expired at its end, which also removes the
// flows whose DESTROY was lost with a connection.
type Cache struct {
	mu      sync.Mutex
	max     int
	m       map[Key]*cached
	gen     uint64 // generation of the current or last bulk update
	inBulk  bool
	bulkN   int // records applied in the current bulk
	drops   uint64
	expired uint64
}

// cached is one flow as the cache keeps it, less its key, with the
// generation of the bulk update (or the change after it) that last
// mentioned it. It holds bytes, not a ctnl.Entry: 104 bytes against 184,
// and without pointers, so that the garbage collector never looks into
// the hundreds of thousands a backup holds.
type cached struct {
	gen                       uint64
	id, status, timeout, mark uint32
	has                       uint8 // cachedReply, cachedTCP, cachedSNAT, cachedDNAT
	replyProto                uint8
	tcp                       ctnl.TCPInfo
	replyL4                   [2]uint16 // as Key's a and b
	natPort                   [2]uint16 // SNAT, DNAT
	reply                     [2][16]byte
	nat                       [2][16]byte
}

// Which optional parts of an entry a cached value holds.
const (
	cachedReply = 1 << iota
	cachedTCP
	cachedSNAT
	cachedDNAT
)

// set makes v the state of e, merged into what v held as merge does:
// an update of a TCP flow without protoinfo keeps the TCP state
// (keepsTCP).
func (v *cached) set(e *ctnl.Entry, gen uint64) {
	old := *v
	*v = cached{gen: gen, id: e.ID, status: e.Status, timeout: e.Timeout, mark: e.Mark}
	if r := &e.Reply; r.IsValid() {
		v.has |= cachedReply
		v.replyProto = r.Proto
		v.reply = [2][16]byte{r.Src.As16(), r.Dst.As16()}
		v.replyL4[0], v.replyL4[1] = l4Of(r)
	}
	switch {
	case e.TCP != nil:
		v.has |= cachedTCP
		v.tcp = *e.TCP
	case keepsTCP(e):
		v.has |= old.has & cachedTCP
		v.tcp = old.tcp
	}
	for i, n := range [2]*ctnl.NAT{e.SNAT, e.DNAT} {
		if n != nil {
			v.has |= cachedSNAT << i
			v.nat[i], v.natPort[i] = n.Addr.As16(), n.Port
		}
	}
}

// entry rebuilds the entry of flow k.
func (v *cached) entry(k Key) ctnl.Entry {
	e := ctnl.Entry{ID: v.id, Status: v.status, Timeout: v.timeout, Mark: v.mark, Zone: k.zone}
	e.Orig = tupleOf(k.proto, addrOf(k.src, k.v6), addrOf(k.dst, k.v6), k.a, k.b)
	if v.has&cachedReply != 0 {
		e.Reply = tupleOf(v.replyProto, addrOf(v.reply[0], k.v6), addrOf(v.reply[1], k.v6), v.replyL4[0], v.replyL4[1])
	}
	if v.has&cachedTCP != 0 {
		tcp := v.tcp
		e.TCP = &tcp
	}
	for i, n := range [2]**ctnl.NAT{&e.SNAT, &e.DNAT} {
		if v.has&(cachedSNAT<<i) != 0 {
			*n = &ctnl.NAT{Addr: addrOf(v.nat[i], k.v6), Port: v.natPort[i]}
		}
	}
	return e
}

// tupleOf is the inverse of As16 and l4Of.
func tupleOf(proto uint8, src, dst netip.Addr, a, b uint16) ctnl.Tuple {
	t := ctnl.Tuple{Src: src, Dst: dst, Proto: proto}
	if proto == protoICMP || proto == protoICMPv6 {
		t.ICMPID, t.ICMPType, t.ICMPCode = a, uint8(b>>8), uint8(b)
	} else {
		t.SrcPort, t.DstPort = a, b
	}
	return t
}

// addrOf is the inverse of netip.Addr.As16 for an address of the
// family given. Every address of an entry is of one family (Validate,
// and the wire encoding has one flag for all).
func addrOf(b [16]byte, v6 bool) netip.Addr {
	a := netip.AddrFrom16(b)
	if !v6 {
		a = a.Unmap()
	}
	return a
}

// NewCache returns a cache that keeps at most max flows.
func NewCache(max int) *Cache { return &Cache{max: max, m: make(map[Key]*cached)} }

// Apply applies the records of one frame in order. Changes for flows
// beyond the bound are dropped and counted.
func (c *Cache) Apply(recs []Record) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range recs {
		c.applyLocked(&recs[i])
	}
}

func (c *Cache) applyLocked(r *Record) {
	k := KeyOf(&r.Entry)
	if c.inBulk {
		c.bulkN++
	}
	if r.Op == OpDestroy {
		delete(c.m, k)
		return
	}
	if v, ok := c.m[k]; ok {
		v.set(&r.Entry, c.gen)
		return
	}
	if len(c.m) >= c.max {
		c.drops++
		return
	}
	v := new(cached)
	v.set(&r.Entry, c.gen)
	c.m[k] = v
}

// BeginBulk starts a bulk update. One that was in progress is abandoned
// without expiring anything.
func (c *Cache) BeginBulk() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.inBulk = true
	c.bulkN = 0
}

// EndBulk ends a bulk update and expires the flows it did not mention.
// It returns how many records the bulk applied and how many flows it
// expired.
func (c *Cache) EndBulk() (applied, expired int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.inBulk {
		return 0, 0
	}
	for k, v := range c.m {
		if v.gen < c.gen {
			delete(c.m, k)
			expired++
		}
	}
	c.inBulk = false
	c.expired += uint64(expired)
	return c.bulkN, expired
}

// AbortBulk abandons a bulk update, for a session that ended in the
// middle of one: what it brought stays, nothing expires.
func (c *Cache) AbortBulk() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inBulk = false
}

// Entries returns a copy of every cached flow.
func (c *Cache) Entries() []ctnl.Entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]ctnl.Entry, 0, len(c.m))
	for k, v := range c.m {
		out = append(out, v.entry(k))
	}
	return out
}

// Get returns the cached state of the flow k.
func (c *Cache) Get(k Key) (ctnl.Entry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	if !ok {
		return ctnl.Entry{}, false
	}
	return v.entry(k), true
}

// CacheStats are the cache's counters.
type CacheStats struct {
	Size    int
	InBulk  bool
	Drops   uint64 // changes dropped at the bound
	Expired uint64 // flows expired by bulk updates
}

// Stats returns the cache's counters.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{Size: len(c.m), InBulk: c.inBulk, Drops: c.drops, Expired: c.expired}
}
