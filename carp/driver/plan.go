package driver

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"rampart/carp"
	"rampart/config"
)

// plan is the HA section resolved against the interfaces: the driver works
// with devices, the config speaks of roles. Building it is pure, so every
// config mistake the driver can see is reported before a socket opens.
type plan struct {
	node      carp.NodeID
	hbRole    string
	heartbeat string       // heartbeat device
	peers     []netip.Addr // unicast adverts over the heartbeat device
	second    []pathPlan   // multicast adverts
	groups    []groupPlan
	vmac      bool              // virtual-MAC mode (macvlans) or plain MAC
	roleDevs  map[string]string // every role → its device
}

// pathPlan is one second-path device. v6 says which family its multicast
// adverts use: IPv4 when the role has an IPv4 address, else IPv6 (the
// link-local address is enough).
type pathPlan struct {
	role, dev string
	v6        bool
}

type groupPlan struct {
	cfg  carp.Config
	vips []vipPlan
}

type vipPlan struct {
	role, dev string
	prefix    netip.Prefix
}

func newPlan(cfg *config.Config, epoch uint64) (*plan, error) {
	ha := cfg.HA
	if ha == nil {
		return nil, errors.New("carp driver: the config has no ha section")
	}
	node, err := carp.ParseNodeID(ha.NodeID)
	if err != nil {
		return nil, fmt.Errorf("carp driver: %w", err)
	}
	p := &plan{node: node, hbRole: ha.Heartbeat, peers: slices.Clone(ha.Peers), roleDevs: map[string]string{},
		vmac: ha.VirtualMAC == nil || *ha.VirtualMAC}
	for role, ifc := range cfg.Interfaces {
		if ifc != nil && ifc.Device != "" {
			p.roleDevs[role] = ifc.Device
		}
	}
	if p.heartbeat, err = p.device("ha.heartbeat", ha.Heartbeat); err != nil {
		return nil, err
	}
	for _, role := range ha.SecondPath {
		dev, err := p.device("ha.second_path", role)
		if err != nil {
			return nil, err
		}
		if dev == p.heartbeat || slices.ContainsFunc(p.second, func(s pathPlan) bool { return s.dev == dev }) {
			continue
		}
		p.second = append(p.second, pathPlan{role: role, dev: dev, v6: !hasV4(cfg.Interfaces[role])})
	}
	for _, g := range ha.Groups {
		gp, err := p.group(ha, g, epoch)
		if err != nil {
			return nil, err
		}
		p.groups = append(p.groups, gp)
	}
	if len(p.groups) == 0 {
		return nil, errors.New("carp driver: no groups")
	}
	p.pruneRoles(ha)
	return p, nil
}

// pruneRoles keeps the roles HA uses, so that two plans compare equal
// when only an unrelated interface changed.
func (p *plan) pruneRoles(ha *config.HA) {
	used := map[string]bool{ha.Heartbeat: true}
	for _, r := range ha.SecondPath {
		used[r] = true
	}
	for _, g := range ha.Groups {
		for _, v := range g.VIPs {
			used[v.Interface] = true
		}
		for _, r := range g.Track {
			used[r] = true
		}
	}
	for role := range p.roleDevs {
		if !used[role] {
			delete(p.roleDevs, role)
		}
	}
}

// devices returns every device HA uses, sorted: the link watch's list.
func (p *plan) devices() []string {
	var devs []string
	for _, d := range p.roleDevs {
		devs = append(devs, d)
	}
	slices.Sort(devs)
	return slices.Compact(devs)
}

func (p *plan) group(ha *config.HA, g *config.Group, epoch uint64) (groupPlan, error) {
	if g == nil {
		return groupPlan{}, errors.New("carp driver: empty group")
	}
	c, err := carp.ConfigFromHA(ha, g, epoch)
	if err != nil {
		return groupPlan{}, fmt.Errorf("carp driver: %w", err)
	}
	gp := groupPlan{cfg: c}
	for _, v := range g.VIPs {
		dev, err := p.device(fmt.Sprintf("group %d vip %s", g.VHID, v.Address), v.Interface)
		if err != nil {
			return groupPlan{}, err
		}
		gp.vips = append(gp.vips, vipPlan{role: v.Interface, dev: dev, prefix: v.Address})
	}
	for _, role := range g.Track {
		if _, err := p.device(fmt.Sprintf("group %d track", g.VHID), role); err != nil {
			return groupPlan{}, err
		}
	}
	return gp, nil
}

func (p *plan) device(what, role string) (string, error) {
	dev, ok := p.roleDevs[role]
	if !ok {
		return "", fmt.Errorf("carp driver: %s: interface role %q has no device", what, role)
	}
	return dev, nil
}

// parents returns the devices that carry VIPs of the group, sorted.
func (g *groupPlan) parents() []string {
	var devs []string
	for _, v := range g.vips {
		devs = append(devs, v.dev)
	}
	slices.Sort(devs)
	return slices.Compact(devs)
}

// vipParents returns every device that carries a VIP of any group, sorted.
func (p *plan) vipParents() []string {
	var devs []string
	for i := range p.groups {
		devs = append(devs, p.groups[i].parents()...)
	}
	slices.Sort(devs)
	return slices.Compact(devs)
}

// rolesOf returns the roles bound to dev, sorted: the link events of one
// device concern every role that names it.
func (p *plan) rolesOf(dev string) []string {
	var roles []string
	for role, d := range p.roleDevs {
		if d == dev {
			roles = append(roles, role)
		}
	}
	slices.Sort(roles)
	return roles
}

// vhids returns the groups' vhids, for the keyring.
func (p *plan) vhids() []uint8 {
	var out []uint8
	for _, g := range p.groups {
		out = append(out, g.cfg.VHID)
	}
	return out
}

func (p *plan) isPeer(a netip.Addr) bool { return slices.Contains(p.peers, a.Unmap()) }

func hasV4(ifc *config.Interface) bool {
	if ifc == nil {
		return false
	}
	return slices.ContainsFunc(ifc.Addresses, func(a config.IfAddr) bool { return a.Addr().Is4() })
}
