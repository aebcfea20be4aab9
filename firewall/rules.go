package firewall

import (
	"bytes"
	"fmt"

	"rampart/config"
)

// endpoint is one side of a rule, resolved.
type endpoint struct {
	dev      string
	addrs    [3][]span // literal addresses by family, merged
	sets     [3]string // alias sets by family
	hasAddrs bool
	ports    []span // literal and alias ports, merged: for map keys
	litPorts []span // literal ports only: for rules that look the alias up
	portSet  string
	hasPorts bool
}

func (e endpoint) has(f family) bool { return len(e.addrs[f]) > 0 || e.sets[f] != "" }

func (e endpoint) usesSets() bool { return e.sets[famV4] != "" || e.sets[famV6] != "" }

func (c *compiler) endpoint(what string, ep config.Endpoint) (endpoint, bool) {
	var out endpoint
	ok := true
	if ep.Interface != "" {
		out.dev, ok = c.device(what+".interface", ep.Interface)
	}
	if len(ep.Addresses) > 0 {
		out.addrs, out.hasAddrs = addrSpans(ep.Addresses), true
	}
	if ep.Alias != "" {
		a := c.aliases[ep.Alias]
		switch {
		case a == nil:
			c.errorf("%s.alias: unknown alias %q", what, ep.Alias)
			ok = false
		case a.isPort:
			c.errorf("%s.alias: %q is a port alias", what, ep.Alias)
			ok = false
		default:
			out.sets, out.hasAddrs = a.sets, true
		}
	}
	var ports []span
	for _, p := range ep.Ports {
		ports = append(ports, portSpan(p))
	}
	out.litPorts = normalize(ports, true)
	out.hasPorts = len(ports) > 0
	if ep.PortAlias != "" {
		a := c.aliases[ep.PortAlias]
		switch {
		case a == nil:
			c.errorf("%s.port_alias: unknown alias %q", what, ep.PortAlias)
			ok = false
		case !a.isPort:
			c.errorf("%s.port_alias: %q is an address alias", what, ep.PortAlias)
			ok = false
		default:
			out.portSet = a.sets[famAny]
			ports = append(ports, a.ports...)
			out.hasPorts = true
		}
	}
	out.ports = normalize(ports, true)
	return out, ok
}

// ruleFamilies is the IP versions a rule can match: the intersection of
// what its addresses and protocol allow, or famAny when nothing limits it.
func ruleFamilies(proto uint8, eps ...endpoint) []family {
	limited := false
	ok := [3]bool{famV4: true, famV6: true}
	switch proto {
	case protoICMP:
		ok[famV6], limited = false, true
	case protoICMPv6:
		ok[famV4], limited = false, true
	}
	for _, ep := range eps {
		if ep.hasAddrs {
			limited = true
			for _, f := range []family{famV4, famV6} {
				ok[f] = ok[f] && ep.has(f)
			}
		}
	}
	if !limited {
		return []family{famAny}
	}
	var out []family
	for _, f := range []family{famV4, famV6} {
		if ok[f] {
			out = append(out, f)
		}
	}
	return out
}

func (c *compiler) userRule(i int, r *config.Rule) {
	what := fmt.Sprintf("rules[%d]", i)
	g := &c.forward
	switch r.Chain {
	case "", config.Forward:
	case config.Input:
		g = &c.input
	default:
		c.errorf("%s.chain: unknown chain %q", what, r.Chain)
		return
	}
	proto, err := protoNumber(r.Protocol)
	if err != nil {
		c.errorf("%s.protocol: %v", what, err)
		return
	}
	from, ok1 := c.endpoint(what+".from", r.From)
	to, ok2 := c.endpoint(what+".to", r.To)
	if !ok1 || !ok2 {
		return
	}
	if r.Chain == config.Input && to.dev != "" {
		c.errorf("%s.to.interface: the input chain has no outgoing interface", what)
		return
	}
	if (from.hasPorts || to.hasPorts) && proto != protoTCP && proto != protoUDP {
		c.errorf("%s: ports need protocol tcp or udp", what)
		return
	}
	var types []uint8
	if len(r.ICMPTypes) > 0 {
		if proto != protoICMP && proto != protoICMPv6 {
			c.errorf("%s.icmp_types: need protocol icmp or icmpv6", what)
			return
		}
		if types, err = icmpTypeNumbers(proto == protoICMPv6, r.ICMPTypes); err != nil {
			c.errorf("%s.icmp_types: %v", what, err)
			return
		}
	}
	fams := ruleFamilies(proto, from, to)
	if len(fams) == 0 {
		c.errorf("%s: its addresses and protocol have no IP version in common", what)
		return
	}
	var v verdict
	switch r.Action {
	case config.Accept:
		v = vAccept
	case config.Drop:
		v = vDrop
	case config.Reject:
	default:
		c.errorf("%s.action: unknown action %q", what, r.Action)
		return
	}
	if r.Log || r.Action == config.Reject {
		v = c.addJump(fmt.Sprintf("rule_%d", i), fmt.Sprintf(LogPrefix+"rule %d: ", i), r.Action, r.Log)
	}
	own := &owner{kind: KindRule, index: i, comment: r.Comment}
	m := match{proto: proto, from: from, to: to, fams: fams, verdict: v, owner: own}
	if from.usesSets() || to.usesSets() || len(types) > 0 {
		c.standalone(g, m, types)
		return
	}
	c.keys(g, what, m)
}

// match is a rule's resolved constraints and outcome.
type match struct {
	proto    uint8
	from, to endpoint
	fams     []family
	dnat     bool // port-forward accept
	verdict  verdict
	owner    *owner
}

// keys adds the rule to the segmenter as map elements: the cross product
// of its values, one key per family.
func (c *compiler) keys(g *segmenter, what string, m match) {
	for _, f := range m.fams {
		sh := shape{dnat: m.dnat}
		var dims [numFields][]span
		put := func(fl field, v []span) {
			sh = sh.with(fl)
			dims[fl] = v
		}
		if m.from.dev != "" {
			put(fIIF, []span{exact(ifnameValue(m.from.dev))})
		}
		if m.to.dev != "" {
			put(fOIF, []span{exact(ifnameValue(m.to.dev))})
		}
		if m.proto != 0 {
			put(fProto, []span{exact([]byte{m.proto})})
		}
		if m.from.hasAddrs {
			put(saddrField(f), m.from.addrs[f])
		}
		if m.to.hasAddrs {
			put(daddrField(f), m.to.addrs[f])
		}
		if m.from.hasPorts {
			put(fSPort, m.from.ports)
		}
		if m.to.hasPorts {
			put(fDPort, m.to.ports)
		}
		sh = fit(sh, dims)
		if sh.fields == 0 {
			// Nothing to key on: the rule matches every packet.
			g.addRule(newRule(m.owner, m.owner.label(), counterNode{}, verdictNode{m.verdict}), f)
			continue
		}
		fs := sh.list()
		n := 1
		for _, fl := range fs {
			n *= len(dims[fl])
			if n > MaxRuleElements {
				c.errorf("%s: expands to more than %d set elements", what, MaxRuleElements)
				return
			}
		}
		idx := make([]int, len(fs))
		for range n {
			vals := make([]span, len(fs))
			for d, fl := range fs {
				vals[d] = dims[fl][idx[d]]
			}
			g.addKey(sh, segKey{vals: vals, verdict: m.verdict, owner: m.owner})
			for d := len(fs) - 1; d >= 0; d-- {
				if idx[d]++; idx[d] < len(dims[fs[d]]) {
					break
				}
				idx[d] = 0
			}
		}
	}
}

// fit moves single-valued fields out of the key into guards until the key
// fits a concatenation: the outgoing interface first, then the incoming
// one, then the protocol.
func fit(sh shape, dims [numFields][]span) shape {
	for _, fl := range []field{fOIF, fIIF, fProto} {
		if sh.fits() {
			break
		}
		if !sh.has(fl) {
			continue
		}
		sh = sh.without(fl)
		v := dims[fl][0].lo
		switch fl {
		case fOIF:
			sh.oif = string(bytes.TrimRight(v, "\x00"))
		case fIIF:
			sh.iif = string(bytes.TrimRight(v, "\x00"))
		case fProto:
			sh.proto = v[0]
		}
	}
	return sh
}

// standalone adds a rule that cannot be map elements: it looks an alias
// up, or matches ICMP types. A side with both literal addresses and an
// alias needs one rule per alternative; their counters add up.
func (c *compiler) standalone(g *segmenter, m match, types []uint8) {
	for _, f := range m.fams {
		for _, src := range addrAlts(m.from, f, false) {
			for _, dst := range addrAlts(m.to, f, true) {
				for _, sp := range portAlts(m.from, m.proto, false) {
					for _, dp := range portAlts(m.to, m.proto, true) {
						var nodes []node
						if m.from.dev != "" {
							nodes = append(nodes, ifnameNode{names: []string{m.from.dev}})
						}
						if m.to.dev != "" {
							nodes = append(nodes, ifnameNode{out: true, names: []string{m.to.dev}})
						}
						nodes = appendNonNil(nodes, src, dst, sp, dp)
						switch {
						case sp != nil || dp != nil:
						case len(types) > 0:
							nodes = append(nodes, icmpNode{v6: m.proto == protoICMPv6, types: types})
						case m.proto != 0:
							nodes = append(nodes, protoNode{proto: m.proto})
						}
						nodes = append(nodes, counterNode{}, verdictNode{m.verdict})
						g.addRule(newRule(m.owner, m.owner.label(), nodes...), f)
					}
				}
			}
		}
	}
}

func appendNonNil(nodes []node, more ...node) []node {
	for _, n := range more {
		if n != nil {
			nodes = append(nodes, n)
		}
	}
	return nodes
}

// addrAlts lists the ways a side's addresses can match in family f; nil
// stands for "no constraint".
func addrAlts(ep endpoint, f family, dst bool) []node {
	if !ep.hasAddrs {
		return []node{nil}
	}
	var out []node
	if len(ep.addrs[f]) > 0 {
		out = append(out, addrNode{fam: f, dst: dst, spans: ep.addrs[f]})
	}
	if ep.sets[f] != "" {
		out = append(out, addrNode{fam: f, dst: dst, set: ep.sets[f]})
	}
	return out
}

func portAlts(ep endpoint, proto uint8, dst bool) []node {
	if !ep.hasPorts {
		return []node{nil}
	}
	var out []node
	if len(ep.litPorts) > 0 {
		out = append(out, portNode{proto: proto, dst: dst, spans: ep.litPorts})
	}
	if ep.portSet != "" {
		out = append(out, portNode{proto: proto, dst: dst, set: ep.portSet})
	}
	return out
}
