package config

import (
	"net/netip"
	"time"
)

// CARP advertisement interval bounds. Below 10ms a busy box misses adverts
// and flaps; above 10s failover takes longer than any session survives.
const (
	minAdvBase = 10 * time.Millisecond
	maxAdvBase = 10 * time.Second
	maxNodeID  = 16
)

func (v *validator) ha(p *path, h *HA) {
	switch {
	case h.NodeID == "":
		v.errf(p.key("node_id"), "required; expected a name for this node, like a")
	case len(h.NodeID) > maxNodeID:
		// The node id travels in every advert, in a fixed 16-byte field.
		v.errf(p.key("node_id"), "%d bytes long; expected at most %d", len(h.NodeID), maxNodeID)
	}
	v.role(p.key("heartbeat"), h.Heartbeat)
	v.peers(p.key("peers"), h.Peers)
	v.roleList(p.key("second_path"), h.SecondPath)
	v.positive(p.key("carrier_loss_window"), h.CarrierLossWindow)
	v.haAuth(p.key("auth"), &h.Auth)
	v.groups(p.key("groups"), h.Groups)
	v.healthChecks(p.key("health_checks"), h.HealthChecks)
}

func (v *validator) peers(p *path, peers []netip.Addr) {
	if len(peers) == 0 {
		v.errf(p, "required; expected the heartbeat address of the other node")
		return
	}
	own := v.ownAddrs()
	seen := map[netip.Addr]bool{}
	for i, a := range peers {
		ip := p.index(i)
		switch {
		case !a.IsValid() || a.IsUnspecified() || a.IsMulticast():
			v.errf(ip, "expected the unicast address of a peer")
		case own[a]:
			v.errf(ip, "%s is this node's own address; expected the peer's", a)
		case seen[a]:
			v.errf(ip, "%s is listed twice", a)
		}
		seen[a] = true
	}
}

func (v *validator) ownAddrs() map[netip.Addr]bool {
	own := map[netip.Addr]bool{}
	for _, ifc := range v.c.Interfaces {
		if ifc == nil {
			continue
		}
		for _, a := range ifc.Addresses {
			own[a.Addr()] = true
		}
	}
	return own
}

// secret checks "exactly one of a passphrase and a key file".
func (v *validator) secret(p *path, secretKey, secret, keyFile string) {
	switch {
	case secret != "" && keyFile != "":
		v.errf(p.key("key_file"), "give %s or key_file, not both", secretKey)
	case secret == "" && keyFile == "":
		v.errf(p.key(secretKey), "required; expected %s (at least %d characters) or key_file", secretKey, minSecretLen)
	case secret != "" && len(secret) < minSecretLen:
		v.errf(p.key(secretKey), "too short (%d characters); expected at least %d", len(secret), minSecretLen)
	}
}

func (v *validator) haAuth(p *path, a *HAAuth) {
	v.secret(p, "passphrase", a.Passphrase, a.KeyFile)
	seen := map[uint8]bool{a.KeyID: true}
	for i, k := range a.Previous {
		kp := p.key("previous").index(i)
		v.secret(kp, "passphrase", k.Passphrase, k.KeyFile)
		if seen[k.KeyID] {
			v.errf(kp.key("key_id"), "key_id %d is already used; each key needs its own id", k.KeyID)
		}
		seen[k.KeyID] = true
	}
}

func (v *validator) groups(p *path, groups []*Group) {
	if len(groups) == 0 {
		v.errf(p, "required; expected at least one group with a vhid and VIPs")
		return
	}
	vhids := map[uint8]bool{}
	vips := map[netip.Addr]bool{}
	for i, g := range groups {
		gp := p.index(i)
		if g == nil {
			v.errf(gp, "empty group; expected vhid, priority and vips")
			continue
		}
		switch {
		case g.VHID == 0:
			v.errf(gp.key("vhid"), "required; expected 1-255")
		case vhids[g.VHID]:
			v.errf(gp.key("vhid"), "vhid %d is used by another group", g.VHID)
		}
		vhids[g.VHID] = true
		if g.Priority == 0 || g.Priority == 255 {
			v.errf(gp.key("priority"), "expected a priority from 1 to 254 (higher wins)")
		}
		v.between(gp.key("advbase"), g.AdvBase, minAdvBase, maxAdvBase)
		v.roleList(gp.key("track"), g.Track)
		v.vips(gp.key("vips"), g.VIPs, vips)
	}
}

// vips checks that each VIP sits in a subnet of its interface with the
// same prefix length, so the kernel routes it like the node's own address.
func (v *validator) vips(p *path, list []VIP, seen map[netip.Addr]bool) {
	if len(list) == 0 {
		v.errf(p, "required; expected at least one VIP")
	}
	own := v.ownAddrs()
	for i, vip := range list {
		vp := p.index(i)
		v.role(vp.key("interface"), vip.Interface)
		a := vip.Address
		switch {
		case !a.IsValid():
			v.errf(vp.key("address"), "required; expected an address with prefix length like 192.0.2.1/24")
			continue
		case seen[a.Addr()]:
			v.errf(vp.key("address"), "VIP %s is given twice", a.Addr())
		case own[a.Addr()]:
			v.errf(vp.key("address"), "VIP %s is also an interface address", a.Addr())
		}
		seen[a.Addr()] = true
		if ifc := v.c.Interfaces[vip.Interface]; ifc != nil && !onSubnet(a, ifc.Addresses) {
			v.errf(vp.key("address"), "VIP %s is not in a subnet of interface %s with the same prefix length (%s)", a, vip.Interface, prefixList(ifc.Addresses))
		}
	}
}

func onSubnet(a IfAddr, addrs []IfAddr) bool {
	for _, s := range addrs {
		if s.IsValid() && s.Bits() == a.Bits() && s.Masked().Contains(a.Addr()) {
			return true
		}
	}
	return false
}

func (v *validator) healthChecks(p *path, checks []HealthCheck) {
	names := map[string]bool{}
	for i := range checks {
		hc := &checks[i]
		hp := p.index(i)
		switch {
		case hc.Name == "":
			v.errf(hp.key("name"), "required; expected a name for the check")
		case names[hc.Name]:
			v.errf(hp.key("name"), "name %q is used by another check", hc.Name)
		}
		names[hc.Name] = true
		switch hc.Type {
		case "tcp", "http", "ping", "command":
		case "":
			v.errf(hp.key("type"), "required; expected one of: tcp, http, ping, command")
		default:
			v.errf(hp.key("type"), "unknown type %q; expected one of: tcp, http, ping, command", hc.Type)
		}
		if hc.Target == "" {
			v.errf(hp.key("target"), "required; expected what to check (host:port, URL, address or command)")
		}
		v.positive(hp.key("interval"), hc.Interval)
		v.positive(hp.key("timeout"), hc.Timeout)
		if hc.Demote == 0 && v.present(hp.key("demote")) {
			v.errf(hp.key("demote"), "expected 1-255 (leave it out for %d)", DefaultDemote)
		}
		interval, timeout := orDefault(hc.Interval, DefaultHealthInterval), orDefault(hc.Timeout, DefaultHealthTimeout)
		if timeout > interval {
			v.errf(hp.key("timeout"), "timeout %s is longer than the interval %s", timeout, interval)
		}
	}
}

func orDefault(d, def Duration) Duration {
	if d == 0 {
		return def
	}
	return d
}

func (v *validator) stateSync(p *path, s *StateSync) {
	if s.Port == 0 && v.present(p.key("port")) {
		v.errf(p.key("port"), "port 0 is not valid; expected 1-65535 (leave it out for %d)", DefaultStateSyncPort)
	}
	v.prefixes(p.key("ignore"), s.Ignore)
	v.positive(p.key("purge_timeout"), s.PurgeTimeout)
	if !s.Enabled {
		return
	}
	v.role(p.key("interface"), s.Interface)
	switch {
	case !s.Peer.IsValid():
		v.errf(p.key("peer"), "required; expected the peer's address on the sync link")
	case v.ownAddrs()[s.Peer]:
		v.errf(p.key("peer"), "%s is this node's own address; expected the peer's", s.Peer)
	}
	v.secret(p, "secret", s.Secret, s.KeyFile)
}
