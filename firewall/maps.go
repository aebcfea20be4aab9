package firewall

import (
	"fmt"
	"hash/fnv"
	"math/bits"
	"slices"
	"strconv"
	"strings"
)

// This file turns segments into verdict maps. A segment's keys never
// overlap, so any split of them into several maps, looked up one after
// the other, matches what one map would: at most one element matches.
// Splits buy cheaper changes:
//
//   - Keys whose fields are all exact values or CIDR prefixes of the same
//     lengths go to a hash map, keyed on the addresses masked to those
//     lengths (`ip saddr & 255.255.255.0 . th dport vmap @m`). Adding or
//     deleting an element is O(1), and so is a lookup.
//   - The rest (port ranges, ranges that are not prefixes) need the
//     kernel's pipapo backend for concatenated intervals. Deleting an
//     element from it costs time in proportion to the map's size, so the
//     keys are spread by hash over maps of at most maxPipapoElements.
//
// A segment whose keys all look alike is one hash map; a small segment of
// mixed keys is one interval map; only a large mixed segment is split. A
// single-field interval map stays one rbtree map: its changes are
// O(log n) already.

// maxPipapoElements bounds a pipapo map: a one-element change in it then
// stays within a few milliseconds, and a lookup's cost (linear in the map
// size for pipapo) is spread over several maps rather than grown.
const maxPipapoElements = 512

// build appends the chain's rules, and the maps of its segments to t.
func (g *segmenter) build(t *table, c *chain) {
	n := 0
	for _, it := range g.items {
		if it.rule != nil {
			c.rules = append(c.rules, it.rule)
			continue
		}
		for _, m := range it.seg.maps(fmt.Sprintf("%s_%d", c.name, n)) {
			t.sets = append(t.sets, m.set)
			c.rules = append(c.rules, newRule(nil, "", it.seg.nodes(m)...))
		}
		n++
	}
}

// segMap is one map of a segment and how its key is loaded.
type segMap struct {
	set   *set
	masks []int // prefix length per key field; 0: the field is not masked
}

// signature says how a key's values look, field by field: exact ("x"), a
// prefix ("24"), or a range ("r").
func (s *segment) signature(k segKey) (sig []string, hashable bool) {
	hashable = true
	for d, v := range k.vals {
		switch p := v.prefixLen(); {
		case string(v.lo) == string(v.hi):
			sig = append(sig, "x")
		case fields[s.fields[d]].fam != famAny && p > 0:
			sig = append(sig, strconv.Itoa(p))
		default:
			sig = append(sig, "r")
			hashable = false
		}
	}
	return sig, hashable
}

func (s *segment) maps(name string) []segMap {
	if len(s.fields) == 1 || !s.shape.interval() {
		return []segMap{{set: s.toSet(name, s.keys, nil)}}
	}
	groups := map[string][]segKey{}
	var ranged []segKey
	for _, k := range s.keys {
		sig, ok := s.signature(k)
		if !ok {
			ranged = append(ranged, k)
			continue
		}
		id := strings.Join(sig, "_")
		groups[id] = append(groups[id], k)
	}
	sigs := make([]string, 0, len(groups))
	for id := range groups {
		sigs = append(sigs, id)
	}
	slices.Sort(sigs)
	// A small segment with ranges stays one interval map: a change to it
	// is cheap already, and one map reads best.
	single := len(sigs) == 1 && len(ranged) == 0
	if !single && len(s.keys) <= maxPipapoElements {
		return []segMap{{set: s.toSet(name, s.keys, nil)}}
	}
	parts := 1
	for parts*maxPipapoElements < len(ranged) {
		parts *= 2
	}
	var out []segMap
	for _, id := range sigs {
		keys := groups[id]
		masks := make([]int, len(s.fields))
		sig, _ := s.signature(keys[0])
		for d, x := range sig {
			if x != "x" {
				masks[d], _ = strconv.Atoi(x)
			}
		}
		n := name
		if !single {
			n = name + "_" + id
		}
		out = append(out, segMap{set: s.toSet(n, keys, masks), masks: masks})
	}
	for p, keys := range spread(ranged, parts) {
		n := name
		if !single {
			n = fmt.Sprintf("%s_r%d", name, p)
		}
		out = append(out, segMap{set: s.toSet(n, keys, nil)})
	}
	return out
}

// spread splits keys into parts maps by a hash of each key, so that adding
// or removing a rule moves no other key between maps. A part that happens
// to be empty stays, as an empty map: the chain's rules then do not change
// with the keys.
func spread(keys []segKey, parts int) [][]segKey {
	if len(keys) == 0 {
		return nil
	}
	out := make([][]segKey, parts)
	width := bits.Len(uint(parts - 1))
	for _, k := range keys {
		h := fnv.New64a()
		for _, v := range k.vals {
			h.Write(v.lo)
			h.Write(v.hi)
		}
		// The top bits of a multiplicative mix (FNV's low bits are poor);
		// a shift by 64 gives 0, the one part.
		p := (h.Sum64() * 0x9e3779b97f4a7c15) >> (64 - width)
		out[p] = append(out[p], k)
	}
	return out
}

// nodes is the rule of one of the segment's maps: guards, then the lookup.
func (s *segment) nodes(m segMap) []node {
	var out []node
	sh := s.shape
	if sh.dnat {
		out = append(out, dnatNode{})
	}
	if sh.iif != "" {
		out = append(out, ifnameNode{names: []string{sh.iif}})
	}
	if sh.oif != "" {
		out = append(out, ifnameNode{out: true, names: []string{sh.oif}})
	}
	if sh.proto != 0 {
		out = append(out, protoNode{proto: sh.proto})
	}
	return append(out, vmapNode{fields: m.set.fields, interval: m.set.interval, masks: m.masks, set: m.set.name})
}

// toSet makes a map of keys. With masks it is a hash map of the keys'
// network addresses; without, an interval map if the shape has ranges.
func (s *segment) toSet(name string, keys []segKey, masks []int) *set {
	interval := s.shape.interval() && masks == nil
	m := &set{name: name, fields: s.fields, isMap: true, interval: interval, counter: true}
	m.elems = make([]elem, len(keys))
	for i, k := range keys {
		e := elem{verdict: k.verdict, owner: k.owner}
		if len(s.fields) == 1 {
			e.key = k.vals[0].lo
			if interval {
				e.end = k.vals[0].hi
			}
		} else {
			e.key = concatKey(s.fields, k.vals, false)
			if interval {
				e.end = concatKey(s.fields, k.vals, true)
			}
		}
		m.elems[i] = e
	}
	m.sum = fingerprint(m.elems)
	return m
}

// concatKey lays values out as nft does in a concatenation: each padded
// to a 4-byte register.
func concatKey(fs []field, vals []span, hi bool) []byte {
	size := 0
	for _, f := range fs {
		size += fields[f].padded()
	}
	b := make([]byte, 0, size)
	for i, f := range fs {
		v := vals[i].lo
		if hi {
			v = vals[i].hi
		}
		b = append(b, v...)
		b = append(b, make([]byte, fields[f].padded()-len(v))...)
	}
	return b
}
