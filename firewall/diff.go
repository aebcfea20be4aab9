package firewall

import (
	"bytes"
	"slices"
)

// This file computes the smallest batch that turns the applied ruleset
// into a new one. Elements of a map that keeps its definition are added
// and deleted one by one (counters of the others survive); a chain whose
// rules change is flushed and refilled (chains hold few rules: segments);
// sets and chains that appear or go are added or deleted. Anything else
// (a new table, a base chain whose hook or policy changes) needs the full
// replace.

// fullThreshold: when more elements change than this fraction of the
// new ruleset's, the full replace is the cheaper batch.
const fullThreshold = 0.5

// tablePlan is what changes in one table.
type tablePlan struct {
	name     string
	flush    []string // chains to flush: their rules change or they go
	delChain []string
	addChain []*chain
	refill   []*chain // chains whose rules are re-added
	delSet   []string
	addSet   []*set
	elems    []elemPlan
}

type elemPlan struct {
	set      *set // the new set
	add, del []kelem
}

func (p *tablePlan) empty() bool {
	return len(p.flush) == 0 && len(p.delChain) == 0 && len(p.addChain) == 0 &&
		len(p.delSet) == 0 && len(p.addSet) == 0 && len(p.elems) == 0
}

// diff plans the change from old to new. ok is false when only a full
// replace will do.
func diff(old, new *Ruleset) (plans []*tablePlan, ok bool) {
	if len(old.tables) != len(new.tables) {
		return nil, false
	}
	changed, total := 0, 0
	for i, nt := range new.tables {
		ot := old.tables[i]
		if ot.name != nt.name {
			return nil, false
		}
		p, n, ok := diffTable(ot, nt)
		if !ok {
			return nil, false
		}
		changed += n
		for _, s := range nt.sets {
			total += len(s.elems)
		}
		if !p.empty() {
			plans = append(plans, p)
		}
	}
	if changed > 1000 && float64(changed) > fullThreshold*float64(total) {
		return nil, false
	}
	return plans, true
}

func diffTable(ot, nt *table) (p *tablePlan, changedElems int, ok bool) {
	p = &tablePlan{name: nt.name}
	recreated := map[string]bool{} // sets deleted and added again
	for _, s := range nt.sets {
		o := ot.set(s.name)
		switch {
		case o == nil:
			p.addSet = append(p.addSet, s)
			changedElems += len(s.elems)
		case !o.sameDef(s):
			p.delSet = append(p.delSet, s.name)
			p.addSet = append(p.addSet, s)
			recreated[s.name] = true
			changedElems += len(s.elems)
		case o.sum != s.sum || len(o.elems) != len(s.elems):
			if e := diffElems(o, s); len(e.add)+len(e.del) > 0 {
				p.elems = append(p.elems, e)
				changedElems += len(e.add) + len(e.del)
			}
		}
	}
	for _, o := range ot.sets {
		if nt.set(o.name) == nil {
			p.delSet = append(p.delSet, o.name)
			recreated[o.name] = true
		}
	}
	for _, c := range nt.chains {
		o := ot.chain(c.name)
		switch {
		case o == nil:
			p.addChain = append(p.addChain, c)
			p.refill = append(p.refill, c)
		case !sameHook(o.hook, c.hook):
			return nil, 0, false
		case !sameRules(o.rules, c.rules) || refersTo(o, recreated):
			p.flush = append(p.flush, c.name)
			p.refill = append(p.refill, c)
		}
	}
	for _, o := range ot.chains {
		if nt.chain(o.name) == nil {
			if o.hook != nil {
				return nil, 0, false
			}
			p.flush = append(p.flush, o.name)
			p.delChain = append(p.delChain, o.name)
		}
	}
	return p, changedElems, true
}

func sameHook(a, b *hook) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func sameRules(a, b []*rule) bool {
	return slices.EqualFunc(a, b, func(x, y *rule) bool { return x.text == y.text })
}

// refersTo reports whether a chain's rules name one of the sets.
func refersTo(c *chain, sets map[string]bool) bool {
	for _, r := range c.rules {
		for _, n := range r.nodes {
			var name string
			switch n := n.(type) {
			case vmapNode:
				name = n.set
			case addrNode:
				name = n.set
			case portNode:
				name = n.set
			}
			if name != "" && sets[name] {
				return true
			}
		}
	}
	return false
}

// elemID identifies an element: its key, range and verdict.
func elemID(e elem) string {
	return string(e.key) + "\x00" + string(e.end) + "\x00" + e.verdict.String()
}

func sameElem(a, b elem) bool {
	return a.verdict == b.verdict && bytes.Equal(a.key, b.key) && bytes.Equal(a.end, b.end)
}

// diffElems finds the elements to delete and to add. Compile emits
// elements in rule order, so a change leaves a common head and tail that
// are skipped in one pass; only the rest is compared by identity.
func diffElems(o, s *set) elemPlan {
	olds, news := o.elems, s.elems
	for len(olds) > 0 && len(news) > 0 && sameElem(olds[0], news[0]) {
		olds, news = olds[1:], news[1:]
	}
	for len(olds) > 0 && len(news) > 0 && sameElem(olds[len(olds)-1], news[len(news)-1]) {
		olds, news = olds[:len(olds)-1], news[:len(news)-1]
	}
	have := make(map[string]bool, len(olds))
	for _, e := range olds {
		have[elemID(e)] = true
	}
	var add, del []elem
	want := make(map[string]bool, len(news))
	for _, e := range news {
		id := elemID(e)
		want[id] = true
		if !have[id] {
			add = append(add, e)
		}
	}
	for _, e := range olds {
		if !want[elemID(e)] {
			del = append(del, e)
		}
	}
	l := s.layout()
	p := elemPlan{set: s, add: kernelElems(l, add, false), del: kernelElems(l, del, false)}
	// nft's end element at zero comes and goes with the interval at zero.
	switch oldLead, newLead := needsLead(l, o.elems), needsLead(l, s.elems); {
	case oldLead && !newLead:
		p.del = append(p.del, leadElem(o.elems))
	case newLead && !oldLead:
		p.add = append(p.add, leadElem(s.elems))
	}
	return p
}

// build turns plans into one batch, ordered so that nothing is deleted
// while still referenced and nothing is referenced before it exists.
func build(plans []*tablePlan) (*batch, error) {
	b := &batch{}
	for _, p := range plans {
		for _, c := range p.flush {
			b.flushChain(p.name, c)
		}
		for _, e := range p.elems {
			if len(e.del) > 0 {
				b.elems(p.name, e.set.name, 0, e.set.isMap, true, e.del)
			}
		}
		for _, s := range p.delSet {
			b.delSet(p.name, s)
		}
		for _, c := range p.delChain {
			b.delChain(p.name, c)
		}
		for _, c := range p.addChain {
			b.addChain(p.name, c)
		}
		for _, s := range p.addSet {
			if err := addSetWithElems(b, p.name, s); err != nil {
				return nil, err
			}
		}
		for _, e := range p.elems {
			if len(e.add) > 0 {
				b.elems(p.name, e.set.name, 0, e.set.isMap, false, e.add)
			}
		}
		for _, c := range p.refill {
			for _, r := range c.rules {
				if err := b.addRule(p.name, c.name, r); err != nil {
					return nil, err
				}
			}
		}
	}
	return b, nil
}

func addSetWithElems(b *batch, t string, s *set) error {
	id, err := b.addSet(t, s)
	if err != nil {
		return err
	}
	b.elems(t, s.name, id, s.isMap, false, kernelElems(s.layout(), s.elems, true))
	return nil
}

// fullBatch replaces every table of the ruleset in one transaction: make
// sure the table exists, delete it, create it with everything.
func fullBatch(rs *Ruleset) (*batch, error) {
	b := &batch{}
	for _, t := range rs.tables {
		b.addTable(t.name, false)
		b.delTable(t.name)
		b.addTable(t.name, true)
		for _, c := range t.chains {
			b.addChain(t.name, c)
		}
		for _, s := range t.sets {
			if err := addSetWithElems(b, t.name, s); err != nil {
				return nil, err
			}
		}
		for _, c := range t.chains {
			for _, r := range c.rules {
				if err := b.addRule(t.name, c.name, r); err != nil {
					return nil, err
				}
			}
		}
	}
	return b, nil
}
