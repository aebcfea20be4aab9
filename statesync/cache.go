package statesync

import (
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
	m       map[Key]cached
	gen     uint64 // generation of the current or last bulk update
	inBulk  bool
	bulkN   int // records applied in the current bulk
	drops   uint64
	expired uint64
}

// cached is one flow with the generation of the bulk update (or the
// change after it) that last mentioned it.
type cached struct {
	e   ctnl.Entry
	gen uint64
}

// NewCache returns a cache that keeps at most max flows.
func NewCache(max int) *Cache { return &Cache{max: max, m: make(map[Key]cached)} }

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
	old, ok := c.m[k]
	if c.inBulk {
		c.bulkN++
	}
	switch {
	case r.Op == OpDestroy:
		delete(c.m, k)
	case ok:
		c.m[k] = cached{e: merge(&old.e, &r.Entry), gen: c.gen}
	case len(c.m) >= c.max:
		c.drops++
	default:
		c.m[k] = cached{e: r.Entry, gen: c.gen}
	}
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
	for _, v := range c.m {
		out = append(out, v.e)
	}
	return out
}

// Get returns the cached state of the flow k.
func (c *Cache) Get(k Key) (ctnl.Entry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v.e, ok
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
