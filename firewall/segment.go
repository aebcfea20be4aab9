package firewall

import (
	"bytes"
)

// segKey is a box in key space, one range per key field, and what a packet
// inside it gets.
type segKey struct {
	vals    []span // in the shape's field order
	verdict verdict
	owner   *owner
}

func boxesOverlap(a, b []span) bool {
	for i := range a {
		if bytes.Compare(a[i].lo, b[i].hi) > 0 || bytes.Compare(b[i].lo, a[i].hi) > 0 {
			return false
		}
	}
	return true
}

// segment is a run of rules that one verdict map can hold: same shape, and
// no two keys overlap, so the map's single match is the first match the
// ordered rules would give.
type segment struct {
	shape  shape
	fields []field
	keys   []segKey
	index  []dimIndex
}

// dimIndex buckets a segment's keys by the leading bytes of one field, so
// that an overlap check looks at a few candidates instead of every key.
// Keys too wide for one bucket go to wide and are always candidates.
type dimIndex struct {
	buckets map[string][]int32
	wide    []int32
}

func newSegment(sh shape) *segment {
	fs := sh.list()
	s := &segment{shape: sh, fields: fs, index: make([]dimIndex, len(fs))}
	for i := range s.index {
		s.index[i].buckets = map[string][]int32{}
	}
	return s
}

func (s *segment) bucket(d int, v span) (string, bool) {
	n := fields[s.fields[d]].bucket
	if !bytes.Equal(v.lo[:n], v.hi[:n]) {
		return "", false
	}
	return string(v.lo[:n]), true
}

func (s *segment) insert(k segKey) {
	i := int32(len(s.keys))
	s.keys = append(s.keys, k)
	for d, v := range k.vals {
		if b, ok := s.bucket(d, v); ok {
			s.index[d].buckets[b] = append(s.index[d].buckets[b], i)
		} else {
			s.index[d].wide = append(s.index[d].wide, i)
		}
	}
}

// overlaps reports whether k overlaps a key already in the segment. It
// checks the candidates of the field that narrows them down most.
func (s *segment) overlaps(k segKey) bool {
	best, bestN := -1, 0
	var bestB string
	for d, v := range k.vals {
		b, ok := s.bucket(d, v)
		if !ok {
			continue
		}
		n := len(s.index[d].buckets[b]) + len(s.index[d].wide)
		if best < 0 || n < bestN {
			best, bestN, bestB = d, n, b
		}
	}
	if best < 0 {
		for i := range s.keys {
			if boxesOverlap(s.keys[i].vals, k.vals) {
				return true
			}
		}
		return false
	}
	for _, list := range [][]int32{s.index[best].buckets[bestB], s.index[best].wide} {
		for _, i := range list {
			if boxesOverlap(s.keys[i].vals, k.vals) {
				return true
			}
		}
	}
	return false
}

// item is one entry of a chain under construction: a segment, or a rule
// that stands alone (alias lookups, ICMP types, fixed defaults).
type item struct {
	fam  family
	seg  *segment
	rule *rule
}

// segmenter turns an ordered rule list into the fewest segments that keep
// first-match order. A key joins the latest item that a packet of its
// family could reach if that item is a segment of the same shape with no
// overlapping key; otherwise it starts a new segment. IPv4 and IPv6 items
// never see the same packet, so they do not split each other's segments.
type segmenter struct {
	items []*item
}

func (g *segmenter) addRule(r *rule, fam family) {
	g.items = append(g.items, &item{fam: fam, rule: r})
}

func (g *segmenter) addKey(sh shape, k segKey) {
	fam := sh.family()
	var last *item
	for i := len(g.items) - 1; i >= 0; i-- {
		if g.items[i].fam.conflicts(fam) {
			last = g.items[i]
			break
		}
	}
	if last != nil && last.seg != nil && last.seg.shape == sh && !last.seg.overlaps(k) {
		last.seg.insert(k)
		return
	}
	seg := newSegment(sh)
	seg.insert(k)
	g.items = append(g.items, &item{fam: fam, seg: seg})
}
