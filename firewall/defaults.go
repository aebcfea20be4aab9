package firewall

import (
	"net/netip"
	"slices"
)

func (c *compiler) icmpRule(v6 bool, names []string) *rule {
	types, _ := icmpTypeNumbers(v6, names) // the defaults are known names
	return newRule(nil, "", icmpNode{v6: v6, types: types}, verdictNode{vAccept})
}

// inputDefaults opens what the firewall itself needs before any user rule:
// state, loopback, the ICMP that IP needs, the admin UI on management
// interfaces (anti-lockout) and the HA links.
func (c *compiler) inputDefaults() {
	g := &c.input
	g.addRule(newRule(nil, "", ctStateNode{}), famAny)
	g.addRule(newRule(nil, "", loopbackNode{}, verdictNode{vAccept}), famAny)
	g.addRule(c.icmpRule(false, defaultICMPInput), famV4)
	g.addRule(c.icmpRule(true, defaultICMPv6Input), famV6)
	c.antiLockout()
	c.haRules()
}

func (c *compiler) forwardDefaults() {
	g := &c.forward
	g.addRule(newRule(nil, "", ctStateNode{}), famAny)
	g.addRule(c.icmpRule(false, defaultICMPForward), famV4)
	g.addRule(c.icmpRule(true, defaultICMPv6Forward), famV6)
}

// antiLockout keeps the admin UI reachable from the management interfaces
// whatever the user rules say. Nothing else is opened: WAN only if listed.
func (c *compiler) antiLockout() {
	var devs []string
	for _, role := range c.cfg.Management.Interfaces {
		if dev, ok := c.device("management.interfaces", role); ok && !slices.Contains(devs, dev) {
			devs = append(devs, dev)
		}
	}
	if len(devs) == 0 {
		return
	}
	port := c.cfg.WebUI.Port
	if port == 0 {
		port = DefaultWebUIPort
	}
	own := &owner{kind: KindAntiLockout}
	c.input.addRule(newRule(own, "rampart: anti-lockout",
		ifnameNode{names: devs},
		portNode{proto: protoTCP, dst: true, spans: []span{exact(portValue(port))}},
		counterNode{}, verdictNode{vAccept}), famAny)
}

// haRules accept the peer on the heartbeat link (unicast adverts and
// whatever else the nodes exchange there), CARP/VRRP-protocol adverts on
// the heartbeat and second-path links, and conntrack sync from the peer.
func (c *compiler) haRules() {
	if ha := c.cfg.HA; ha != nil {
		hb, ok := c.device("ha.heartbeat", ha.Heartbeat)
		if ok && len(ha.Peers) > 0 {
			var ps []netip.Prefix
			for _, p := range ha.Peers {
				ps = append(ps, netip.PrefixFrom(p, p.BitLen()))
			}
			spans := addrSpans(ps)
			own := &owner{kind: KindHA, index: 0, comment: "peers"}
			for _, f := range []family{famV4, famV6} {
				if len(spans[f]) > 0 {
					c.input.addRule(newRule(own, "rampart: ha peers", ifnameNode{names: []string{hb}},
						addrNode{fam: f, spans: spans[f]}, counterNode{}, verdictNode{vAccept}), f)
				}
			}
		}
		paths := ha.SecondPath
		if len(paths) == 0 && c.cfg.Interfaces["lan"] != nil {
			paths = []string{"lan"}
		}
		var devs []string
		if ok {
			devs = append(devs, hb)
		}
		for _, role := range paths {
			if dev, ok := c.device("ha.second_path", role); ok && !slices.Contains(devs, dev) {
				devs = append(devs, dev)
			}
		}
		if len(devs) > 0 {
			own := &owner{kind: KindHA, index: 1, comment: "adverts"}
			c.input.addRule(newRule(own, "rampart: ha adverts", ifnameNode{names: devs},
				protoNode{proto: protoVRRP}, counterNode{}, verdictNode{vAccept}), famAny)
		}
	}
	ss := c.cfg.StateSync
	if ss == nil || !ss.Enabled {
		return
	}
	dev, ok := c.device("statesync.interface", ss.Interface)
	if !ok {
		return
	}
	if !ss.Peer.IsValid() {
		c.errorf("statesync.peer: missing")
		return
	}
	port := ss.Port
	if port == 0 {
		port = DefaultStateSyncPort
	}
	f := familyOf(ss.Peer)
	own := &owner{kind: KindStateSync}
	c.input.addRule(newRule(own, "rampart: state sync", ifnameNode{names: []string{dev}},
		addrNode{fam: f, spans: []span{exact(ss.Peer.AsSlice())}},
		portNode{proto: protoTCP, dst: true, spans: []span{exact(portValue(port))}},
		counterNode{}, verdictNode{vAccept}), f)
}
