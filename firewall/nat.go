package firewall

import (
	"fmt"

	"rampart/config"
)

// portForwards compiles each port forward twice: the DNAT in prerouting,
// and the forward accept it implies. The accept is keyed on the
// translated destination and guarded by `ct status dnat`, so it opens the
// forwarded port and nothing else.
func (c *compiler) portForwards() {
	for i, pf := range c.cfg.NAT.PortForwards {
		if pf == nil {
			continue
		}
		what := fmt.Sprintf("nat.port_forwards[%d]", i)
		dev, ok := c.device(what+".in", pf.In)
		proto, err := protoNumber(pf.Protocol)
		switch {
		case err != nil || (proto != protoTCP && proto != protoUDP):
			c.errorf("%s.protocol: need tcp or udp, not %q", what, pf.Protocol)
			ok = false
		case !pf.To.IsValid():
			c.errorf("%s.to: missing", what)
			ok = false
		case pf.Port.From == 0 || pf.Port.To < pf.Port.From:
			c.errorf("%s.port: bad range %d-%d", what, pf.Port.From, pf.Port.To)
			ok = false
		}
		if !ok {
			continue
		}
		fam := familyOf(pf.To)
		srcs := addrSpans(pf.Sources)
		if len(pf.Sources) > 0 && len(srcs[fam]) == 0 {
			c.errorf("%s.sources: none is of the destination's IP version", what)
			continue
		}
		// A forward keeps the destination port unless to_port names
		// another one; then the whole range goes to that port.
		toPort := pf.ToPort
		if toPort == pf.Port.From {
			toPort = 0
		}

		label := (&owner{kind: KindPortForward, index: i, comment: pf.Comment}).label()
		nodes := []node{ifnameNode{names: []string{dev}}}
		if len(srcs[fam]) > 0 {
			nodes = append(nodes, addrNode{fam: fam, spans: srcs[fam]})
		}
		nodes = append(nodes, portNode{proto: proto, dst: true, spans: []span{portSpan(pf.Port)}},
			counterNode{}, natNode{kind: "dnat", addr: pf.To, port: toPort})
		c.pre = append(c.pre, newRule(&owner{kind: KindDNAT, index: i, comment: pf.Comment}, label, nodes...))

		v := vAccept
		if pf.Log {
			v = c.addJump(fmt.Sprintf("pf_%d", i), fmt.Sprintf(LogPrefix+"pf %d: ", i), config.Accept, true)
		}
		dport := portSpan(pf.Port)
		if toPort != 0 {
			dport = exact(portValue(toPort))
		}
		from := endpoint{dev: dev, addrs: srcs, hasAddrs: len(pf.Sources) > 0}
		to := endpoint{hasAddrs: true, ports: []span{dport}, hasPorts: true}
		to.addrs[fam] = []span{exact(pf.To.AsSlice())}
		c.keys(&c.forward, what, match{
			proto: proto, from: from, to: to, fams: []family{fam}, dnat: true, verdict: v,
			owner: &owner{kind: KindPortForward, index: i, comment: pf.Comment},
		})
	}
}

// sourceNAT compiles masquerade and SNAT into postrouting, by outgoing
// interface and, if given, source prefixes (one rule per IP version).
func (c *compiler) sourceNAT() {
	for i, m := range c.cfg.NAT.Masquerade {
		if m == nil {
			continue
		}
		dev, ok := c.device(fmt.Sprintf("nat.masquerade[%d].out", i), m.Out)
		if !ok {
			continue
		}
		own := &owner{kind: KindMasquerade, index: i, comment: m.Comment}
		out := ifnameNode{out: true, names: []string{dev}}
		nat := natNode{kind: "masquerade"}
		if len(m.Sources) == 0 {
			c.post = append(c.post, newRule(own, own.label(), out, counterNode{}, nat))
			continue
		}
		srcs := addrSpans(m.Sources)
		for _, f := range []family{famV4, famV6} {
			if len(srcs[f]) > 0 {
				c.post = append(c.post, newRule(own, own.label(), out, addrNode{fam: f, spans: srcs[f]}, counterNode{}, nat))
			}
		}
	}
	for i, s := range c.cfg.NAT.SNAT {
		if s == nil {
			continue
		}
		what := fmt.Sprintf("nat.snat[%d]", i)
		dev, ok := c.device(what+".out", s.Out)
		if !ok {
			continue
		}
		if !s.To.IsValid() {
			c.errorf("%s.to: missing", what)
			continue
		}
		fam := familyOf(s.To)
		srcs := addrSpans(s.Sources)
		if len(s.Sources) > 0 && len(srcs[fam]) == 0 {
			c.errorf("%s.sources: none is of the IP version of %s", what, s.To)
			continue
		}
		own := &owner{kind: KindSNAT, index: i, comment: s.Comment}
		nodes := []node{ifnameNode{out: true, names: []string{dev}}}
		if len(srcs[fam]) > 0 {
			nodes = append(nodes, addrNode{fam: fam, spans: srcs[fam]})
		}
		nodes = append(nodes, counterNode{}, natNode{kind: "snat", addr: s.To})
		c.post = append(c.post, newRule(own, own.label(), nodes...))
	}
}
