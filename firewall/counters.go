package firewall

import (
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
)

// RuleCounter is what the kernel counted for one config item, summed over
// every map element and rule it compiled to. Rules see the packets that
// reach them: the first packet of each connection, since established
// traffic is accepted before the rules.
type RuleCounter struct {
	Kind    string // see the Kind constants
	Index   int    // index into the config list the Kind names
	Comment string
	Packets uint64
	Bytes   uint64
}

type ownerKey struct {
	kind  string
	index int
}

// Counters reads the counters of the applied ruleset back from the kernel:
// one entry per config item, rules first, each kind by index.
func (f *Firewall) Counters() ([]RuleCounter, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rs := f.applied
	if f.nl == nil {
		return nil, errors.New("firewall: counters: closed")
	}
	if rs == nil {
		return nil, errors.New("firewall: counters: no ruleset applied")
	}
	conn, err := nftables.New(nftables.WithNetNSFd(f.netns))
	if err != nil {
		return nil, fmt.Errorf("firewall: counters: %w", err)
	}
	acc := &counterAcc{index: map[ownerKey]int{}}
	for _, t := range rs.tables {
		nt := &nftables.Table{Name: t.name, Family: nftables.TableFamilyINet}
		if err := acc.sets(conn, nt, t); err != nil {
			return nil, fmt.Errorf("firewall: counters: %w", err)
		}
		if err := acc.chains(conn, nt, t); err != nil {
			return nil, fmt.Errorf("firewall: counters: %w", err)
		}
	}
	slices.SortStableFunc(acc.out, func(a, b RuleCounter) int {
		if c := cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)); c != 0 {
			return c
		}
		return cmp.Compare(a.Index, b.Index)
	})
	return acc.out, nil
}

var kindOrder = []string{KindRule, KindPortForward, KindDNAT, KindMasquerade, KindSNAT, KindAntiLockout, KindHA, KindStateSync}

func kindRank(k string) int { return slices.Index(kindOrder, k) }

type counterAcc struct {
	out   []RuleCounter
	index map[ownerKey]int
}

func (a *counterAcc) slot(o *owner) *RuleCounter {
	k := ownerKey{o.kind, o.index}
	i, ok := a.index[k]
	if !ok {
		i = len(a.out)
		a.index[k] = i
		a.out = append(a.out, RuleCounter{Kind: o.kind, Index: o.index, Comment: o.comment})
	}
	return &a.out[i]
}

// sets adds the element counters of every counted map.
func (a *counterAcc) sets(conn *nftables.Conn, nt *nftables.Table, t *table) error {
	for _, s := range t.sets {
		if !s.counter {
			continue
		}
		owners := make(map[string]*owner, len(s.elems))
		for _, e := range s.elems {
			if e.owner != nil {
				owners[string(e.key)] = e.owner
				a.slot(e.owner)
			}
		}
		got, err := conn.GetSetElements(&nftables.Set{Table: nt, Name: s.name})
		if err != nil {
			return fmt.Errorf("read set %s: %w", s.name, err)
		}
		for _, ke := range got {
			o := owners[string(ke.Key)]
			if ke.IntervalEnd || ke.Counter == nil || o == nil {
				continue
			}
			c := a.slot(o)
			c.Packets += ke.Counter.Packets
			c.Bytes += ke.Counter.Bytes
		}
	}
	return nil
}

// chains adds the counters of rules that carry their own.
func (a *counterAcc) chains(conn *nftables.Conn, nt *nftables.Table, t *table) error {
	for _, c := range t.chains {
		counted := false
		for _, r := range c.rules {
			if r.owner != nil {
				counted = true
				a.slot(r.owner)
			}
		}
		if !counted {
			continue
		}
		got, err := conn.GetRules(nt, &nftables.Chain{Name: c.name, Table: nt})
		if err != nil {
			return fmt.Errorf("read chain %s: %w", c.name, err)
		}
		if len(got) != len(c.rules) {
			return fmt.Errorf("chain %s has %d rules, the applied ruleset %d", c.name, len(got), len(c.rules))
		}
		for i, r := range c.rules {
			if r.owner == nil {
				continue
			}
			for _, x := range got[i].Exprs {
				if ctr, ok := x.(*expr.Counter); ok {
					s := a.slot(r.owner)
					s.Packets += ctr.Packets
					s.Bytes += ctr.Bytes
				}
			}
		}
	}
	return nil
}
