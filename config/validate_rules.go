package config

import (
	"net/netip"
	"strings"
)

// family is the set of IP families an address list can match; 0 means
// the list does not restrict the family.
type family uint8

const (
	ipv4 family = 1 << iota
	ipv6
)

func (f family) String() string {
	switch f {
	case ipv4:
		return "IPv4"
	case ipv6:
		return "IPv6"
	}
	return "IPv4 and IPv6"
}

func familyOf(ps []netip.Prefix) family {
	var f family
	for _, p := range ps {
		switch {
		case !p.IsValid():
		case p.Addr().Is4():
			f |= ipv4
		default:
			f |= ipv6
		}
	}
	return f
}

func addrFamily(a netip.Addr) family {
	if a.Is4() {
		return ipv4
	}
	return ipv6
}

func (v *validator) rules(p *path) {
	for i, r := range v.c.Rules {
		rp := p.index(i)
		if r == nil {
			v.errf(rp, "empty rule; expected at least action")
			continue
		}
		v.rule(rp, r)
	}
}

func (v *validator) rule(p *path, r *Rule) {
	switch r.Action {
	case Accept, Drop, Reject:
	case "":
		v.errf(p.key("action"), "required; expected one of: accept, drop, reject")
	default:
		v.errf(p.key("action"), "unknown action %q; expected one of: accept, drop, reject", r.Action)
	}
	switch r.Chain {
	case "", Forward, Input:
	default:
		v.errf(p.key("chain"), "unknown chain %q; expected forward (the default) or input", r.Chain)
	}
	switch r.Protocol {
	case AnyProto, TCP, UDP, ICMP, ICMPv6:
	default:
		v.errf(p.key("protocol"), "unknown protocol %q; expected one of: tcp, udp, icmp, icmpv6", r.Protocol)
	}
	if r.Chain == Input && r.To.Interface != "" {
		v.errf(p.key("to").key("interface"), "not allowed on the input chain: traffic to the firewall itself has no outgoing interface")
	}
	from := v.endpoint(p.key("from"), &r.From, r.Protocol)
	to := v.endpoint(p.key("to"), &r.To, r.Protocol)
	if from != 0 && to != 0 && from&to == 0 {
		v.errf(p.key("to"), "from is %s only and to is %s only; the rule can never match", from, to)
	}
	v.icmpTypes(p.key("icmp_types"), r)
	v.protoFamily(p, r.Protocol, from, to)
}

// endpoint checks one side of a rule and returns its address family.
func (v *validator) endpoint(p *path, e *Endpoint, proto Protocol) family {
	if e.Interface != "" {
		v.role(p.key("interface"), e.Interface)
	}
	v.prefixes(p.key("addresses"), e.Addresses)
	v.ports(p.key("ports"), e.Ports)
	if len(e.Addresses) > 0 && e.Alias != "" {
		v.errf(p.key("alias"), "give addresses or alias, not both; add the addresses to the alias")
	}
	if len(e.Ports) > 0 && e.PortAlias != "" {
		v.errf(p.key("port_alias"), "give ports or port_alias, not both; add the ports to the alias")
	}
	if (len(e.Ports) > 0 || e.PortAlias != "") && proto != TCP && proto != UDP {
		at := p.key("ports")
		if len(e.Ports) == 0 {
			at = p.key("port_alias")
		}
		v.errf(at, "ports need protocol tcp or udp")
	}
	f := familyOf(e.Addresses)
	if e.Alias != "" {
		if a := v.alias(p.key("alias"), e.Alias, false); a != nil {
			f |= familyOf(a.Addresses)
		}
	}
	if e.PortAlias != "" {
		v.alias(p.key("port_alias"), e.PortAlias, true)
	}
	return f
}

// alias resolves a reference to an address alias (ports false) or a port
// alias (ports true) and reports a missing one or one of the wrong kind.
func (v *validator) alias(p *path, name string, ports bool) *Alias {
	other, otherKey := "port", "port_alias"
	if ports {
		other, otherKey = "address", "alias"
	}
	a, ok := v.c.Aliases[name]
	switch {
	case v.broken(&path{s: "aliases"}):
		return nil
	case !ok:
		v.errf(p, "alias %q does not exist; %s", name, v.aliasChoices(ports))
		return nil
	case a == nil:
		return nil // reported as empty where it is defined
	case ports && len(a.Ports) == 0 && len(a.Addresses) > 0,
		!ports && len(a.Addresses) == 0 && len(a.Ports) > 0:
		v.errf(p, "alias %q is a%s %s alias; use it with %s", name, an(other), other, otherKey)
		return nil
	}
	return a
}

func an(word string) string {
	if strings.HasPrefix(word, "a") {
		return "n"
	}
	return ""
}

func (v *validator) aliasChoices(ports bool) string {
	var names []string
	for _, n := range sortedKeys(v.c.Aliases) {
		if a := v.c.Aliases[n]; a != nil && (ports == (len(a.Ports) > 0)) {
			names = append(names, n)
		}
	}
	kind := "address"
	if ports {
		kind = "port"
	}
	if len(names) == 0 {
		return "no " + kind + " aliases are defined"
	}
	return "expected one of: " + strings.Join(names, ", ")
}

// icmpTypes checks the names against what nft knows for the protocol.
func (v *validator) icmpTypes(p *path, r *Rule) {
	if len(r.ICMPTypes) == 0 {
		return
	}
	table := icmpTable(r.Protocol)
	if table == nil {
		v.errf(p, "icmp_types need protocol icmp or icmpv6")
		return
	}
	for i, name := range r.ICMPTypes {
		if _, ok := table[name]; !ok {
			v.errf(p.index(i), "unknown %s type %q; expected one of: %s", r.Protocol, name, strings.Join(ICMPTypeNames(r.Protocol), ", "))
		}
	}
}

// protoFamily rejects icmp against IPv6-only sides and icmpv6 against
// IPv4-only sides: such a rule can never match.
func (v *validator) protoFamily(p *path, proto Protocol, from, to family) {
	var want family
	switch proto {
	case ICMP:
		want = ipv4
	case ICMPv6:
		want = ipv6
	default:
		return
	}
	for _, side := range []struct {
		key string
		f   family
	}{{"from", from}, {"to", to}} {
		if side.f != 0 && side.f&want == 0 {
			v.errf(p.key(side.key), "protocol %s is %s but %s has only %s addresses; the rule can never match", proto, want, side.key, side.f)
		}
	}
}

func (v *validator) nat(p *path) {
	n := &v.c.NAT
	for i, m := range n.Masquerade {
		mp := p.key("masquerade").index(i)
		if m == nil {
			v.errf(mp, "empty entry; expected at least out")
			continue
		}
		v.role(mp.key("out"), m.Out)
		v.prefixes(mp.key("sources"), m.Sources)
	}
	for i, s := range n.SNAT {
		sp := p.key("snat").index(i)
		if s == nil {
			v.errf(sp, "empty entry; expected out and to")
			continue
		}
		v.role(sp.key("out"), s.Out)
		v.prefixes(sp.key("sources"), s.Sources)
		v.natTarget(sp, s.To, s.Sources)
	}
	for i, f := range n.PortForwards {
		fp := p.key("port_forwards").index(i)
		if f == nil {
			v.errf(fp, "empty entry; expected in, protocol, port and to")
			continue
		}
		v.portForward(fp, f)
	}
}

// natTarget checks a translation address and that the sources can be of
// its family at all.
func (v *validator) natTarget(p *path, to netip.Addr, sources []netip.Prefix) {
	tp := p.key("to")
	if !to.IsValid() {
		v.errf(tp, "required; expected an IP address")
		return
	}
	if to.IsUnspecified() || to.IsMulticast() {
		v.errf(tp, "%s cannot be a translation address", to)
	}
	if f := familyOf(sources); f != 0 && f&addrFamily(to) == 0 {
		v.errf(tp, "%s is %s but the sources are %s only; it can never match", to, addrFamily(to), f)
	}
}

func (v *validator) portForward(p *path, f *PortForward) {
	v.role(p.key("in"), f.In)
	switch f.Protocol {
	case TCP, UDP:
	case "":
		v.errf(p.key("protocol"), "required; expected tcp or udp")
	default:
		v.errf(p.key("protocol"), "port forwards need protocol tcp or udp, not %q", f.Protocol)
	}
	if f.Port == (PortRange{}) {
		v.errf(p.key("port"), `required; expected a port or a range like "8000-8080"`)
	} else {
		v.portRange(p.key("port"), f.Port)
	}
	v.prefixes(p.key("sources"), f.Sources)
	v.natTarget(p, f.To, f.Sources)
	if f.ToPort == 0 && v.present(p.key("to_port")) {
		v.errf(p.key("to_port"), "port 0 is not valid; leave to_port out to keep the original port")
	}
	if span := int(f.Port.To) - int(f.Port.From); f.ToPort != 0 && int(f.ToPort)+span > 65535 {
		v.errf(p.key("to_port"), "to_port %d with a range of %d ports runs past 65535", f.ToPort, span+1)
	}
}
