package firewall

import (
	"encoding/binary"
	"hash/fnv"
	"slices"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
)

// Table names. Rampart owns exactly these tables and never touches others.
const (
	FilterTable = "rampart"
	NATTable    = "rampart_nat"
)

// Ruleset is a compiled firewall: the complete contents of every table
// Rampart owns. It is immutable once compiled, so a Firewall can keep the
// last applied one to diff against.
type Ruleset struct {
	tables []*table
}

// table is one inet table.
type table struct {
	name   string
	sets   []*set
	chains []*chain
}

// set is a named set or verdict map.
type set struct {
	name     string
	fields   []field // key fields, concatenated if more than one
	isMap    bool    // verdict map
	interval bool
	counter  bool // every element carries a counter
	comment  string
	elems    []elem
	sum      uint64 // fingerprint of elems, so unchanged sets diff in O(1)
}

// elem is one set element. Interval sets hold [key, end]; exact sets leave
// end nil. Keys are concatenations padded to 4-byte registers.
type elem struct {
	key, end []byte
	verdict  verdict
	owner    *owner // whose counter this is; nil for alias sets
}

// verdict is what a map element or rule decides.
type verdict struct {
	kind  expr.VerdictKind
	chain string // for jump
}

var (
	vAccept = verdict{kind: expr.VerdictAccept}
	vDrop   = verdict{kind: expr.VerdictDrop}
)

func jumpTo(chain string) verdict { return verdict{kind: expr.VerdictJump, chain: chain} }

func (v verdict) String() string {
	switch v.kind {
	case expr.VerdictAccept:
		return "accept"
	case expr.VerdictDrop:
		return "drop"
	case expr.VerdictJump:
		return "jump " + v.chain
	case expr.VerdictGoto:
		return "goto " + v.chain
	}
	return "return"
}

// owner names the config item a counter belongs to.
type owner struct {
	kind    string // see the Kind constants
	index   int
	comment string
}

// Counter kinds, the RuleCounter.Kind values.
const (
	KindRule        = "rule"         // cfg.Rules[Index]
	KindPortForward = "port_forward" // the forward accept of cfg.NAT.PortForwards[Index]
	KindDNAT        = "dnat"         // the DNAT of cfg.NAT.PortForwards[Index]
	KindMasquerade  = "masquerade"   // cfg.NAT.Masquerade[Index]
	KindSNAT        = "snat"         // cfg.NAT.SNAT[Index]
	KindAntiLockout = "anti_lockout" // the admin UI accept on management interfaces
	KindHA          = "ha"           // adverts and peer traffic on the HA links
	KindStateSync   = "statesync"    // conntrack sync from the peer
)

// chain is a base chain (hook set) or a regular chain reached by jump.
type chain struct {
	name  string
	hook  *hook
	rules []*rule
}

// hook makes a chain a base chain.
type hook struct {
	typ    nftables.ChainType
	num    nftables.ChainHook
	prio   int32
	policy verdict
}

// rule is one nft rule: a sequence of matches and statements.
type rule struct {
	nodes   []node
	comment string
	owner   *owner // set when the rule carries a counter of its own
	text    string // nft syntax; also the rule's identity in diffs
}

func newRule(own *owner, comment string, nodes ...node) *rule {
	r := &rule{nodes: nodes, comment: cleanComment(comment), owner: own}
	r.text = renderRule(r)
	return r
}

// fingerprint hashes a set's elements so that an unchanged 100,000-element
// alias costs nothing to diff.
func fingerprint(elems []elem) uint64 {
	h := fnv.New64a()
	var n [8]byte
	for _, e := range elems {
		binary.BigEndian.PutUint64(n[:], uint64(len(e.key))<<32|uint64(len(e.end)))
		h.Write(n[:])
		h.Write(e.key)
		h.Write(e.end)
		binary.BigEndian.PutUint64(n[:], uint64(e.verdict.kind))
		h.Write(n[:])
		h.Write([]byte(e.verdict.chain))
	}
	return h.Sum64()
}

// sameDef reports whether two sets have the same definition, elements
// aside.
func (s *set) sameDef(o *set) bool {
	return s.name == o.name && slices.Equal(s.fields, o.fields) && s.isMap == o.isMap &&
		s.interval == o.interval && s.counter == o.counter && s.comment == o.comment
}

func (t *table) set(name string) *set {
	for _, s := range t.sets {
		if s.name == name {
			return s
		}
	}
	return nil
}

func (t *table) chain(name string) *chain {
	for _, c := range t.chains {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (r *Ruleset) table(name string) *table {
	for _, t := range r.tables {
		if t.name == name {
			return t
		}
	}
	return nil
}

// Elements counts the elements of all named sets and maps, the figure the
// benchmark reports and Compile limits.
func (r *Ruleset) Elements() int {
	n := 0
	for _, t := range r.tables {
		for _, s := range t.sets {
			n += len(s.elems)
		}
	}
	return n
}
