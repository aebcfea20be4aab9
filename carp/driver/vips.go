package driver

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"

	"github.com/google/nftables"
	"github.com/jsimonetti/rtnetlink/v2"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// kernel carries out the VIP and announce actions of the machines. The
// daemon's is netKernel; tests pass a recorder.
type kernel interface {
	addVIPs(g *groupPlan) error
	removeVIPs(g *groupPlan) error
	// announce sends one round of gratuitous ARP and unsolicited
	// neighbour advertisements for the group's VIPs.
	announce(g *groupPlan) error
	close() error
}

// netKernel moves VIPs with rtnetlink. In virtual-MAC mode each group's
// VIPs live on macvlans named by MacvlanName, one per parent device, which
// stay up on every node; the gate (gate.go) makes a group's virtual MAC
// live on the master only. In plain-MAC mode the VIPs are added to the
// parent devices themselves.
type netKernel struct {
	enter    func(func() error) error
	rt       *rtnetlink.Conn
	gate     *gate // virtual-MAC mode only
	vmac     bool
	ann      map[uint8]*announcer // per group, while its VIPs are up
	macvlans []string             // made at start, deleted by close
}

// macvlanMode is private: a group's macvlans never need to reach each
// other or other macvlans on the same parent, and private mode works on
// veths and bridges as on NICs. Passthru would take the whole parent (one
// macvlan per device, the parent's own address with it), which a node that
// holds its own address and several groups on one LAN cannot afford.
const macvlanMode = 1 // MACVLAN_MODE_PRIVATE in linux/if_link.h

// addrFlags: no duplicate address detection (the address moves by design;
// DAD would hold it tentative for a second after every failover) and no
// prefix route (the parent's own address already routes the subnet; a
// second route via the macvlan would steal the node's own traffic).
const addrFlags = unix.IFA_F_NODAD | unix.IFA_F_NOPREFIXROUTE

// sysctl is one /proc/sys key, with %s for the device, and its value.
type sysctl struct{ key, value string }

// parentSysctls keep the parent from answering ARP for VIPs that live on a
// macvlan (arp_ignore 1: only for addresses on the receiving device), and
// from sending ARP requests with a VIP as source and its own MAC as sender
// (arp_announce 2), which would teach neighbours the parent's MAC for the
// VIP and undo the virtual MAC on the next failover.
var parentSysctls = []sysctl{{"net/ipv4/conf/%s/arp_ignore", "1"}, {"net/ipv4/conf/%s/arp_announce", "2"}}

// macvlanSysctls: the same ARP rules (or the macvlan answers for the
// parent's own address with the virtual MAC), no IPv6 link-local address
// (two nodes would own the same EUI-64 one in turn; neighbour
// advertisements go out from the VIP itself) and no DAD.
var macvlanSysctls = []sysctl{
	{"net/ipv4/conf/%s/arp_ignore", "1"}, {"net/ipv4/conf/%s/arp_announce", "2"},
	{"net/ipv6/conf/%s/addr_gen_mode", "1"}, {"net/ipv6/conf/%s/accept_dad", "0"},
}

// setSysctls writes the list for dev. A key that does not exist (IPv6
// disabled) is skipped.
func setSysctls(list []sysctl, dev string) error {
	for _, s := range list {
		path := "/proc/sys/" + fmt.Sprintf(s.key, dev)
		if err := os.WriteFile(path, []byte(s.value), 0o644); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("carp driver: sysctl %s: %w", path, err)
		}
	}
	return nil
}

// newNetKernel sets the node up for its groups and removes whatever a
// crashed run left: a node starts as backup everywhere. In virtual-MAC
// mode the macvlans are made down, the gate table is installed (its
// chains hook the macvlans, which must exist), and only then do the
// macvlans come up.
func newNetKernel(p *plan, enter func(func() error) error) (*netKernel, error) {
	k := &netKernel{enter: enter, vmac: p.vmac, ann: map[uint8]*announcer{}}
	err := enter(func() error {
		var err error
		if k.rt, err = rtnetlink.Dial(nil); err != nil {
			return fmt.Errorf("carp driver: rtnetlink: %w", err)
		}
		if !p.vmac {
			for i := range p.groups {
				if err := k.removeVIPs(&p.groups[i]); err != nil {
					return err
				}
			}
			return nil
		}
		return k.setupVMAC(p)
	})
	if err != nil {
		k.close()
		return nil, err
	}
	return k, nil
}

// setupVMAC runs inside enter.
func (k *netKernel) setupVMAC(p *plan) error {
	parents := map[string]net.HardwareAddr{}
	for _, dev := range p.vipParents() {
		ifi, err := net.InterfaceByName(dev)
		if err != nil {
			return fmt.Errorf("carp driver: vip device %s: %w", dev, err)
		}
		parents[dev] = ifi.HardwareAddr
		if err := setSysctls(parentSysctls, dev); err != nil {
			return err
		}
	}
	var ours []net.HardwareAddr
	for i := range p.groups {
		g := &p.groups[i]
		ours = append(ours, VirtualMAC(g.cfg.VHID))
		for _, dev := range g.parents() {
			if err := k.makeMacvlan(g, dev); err != nil {
				return err
			}
		}
	}
	conn, err := nftables.New(nftables.AsLasting())
	if err != nil {
		return fmt.Errorf("carp driver: nftables: %w", err)
	}
	if k.gate, err = newGate(conn, parents, k.macvlans, ours); err != nil {
		conn.CloseLasting()
		return err
	}
	for _, name := range k.macvlans {
		if err := k.setUp(name, true); err != nil {
			return err
		}
	}
	return nil
}

// makeMacvlan makes the group's macvlan on parent, down, and sets its
// sysctls. One left by a crashed run is replaced, so that its settings
// are ours.
func (k *netKernel) makeMacvlan(g *groupPlan, parent string) error {
	name := MacvlanName(parent, g.cfg.VHID)
	pidx, err := k.linkIndex(parent)
	if err != nil {
		return fmt.Errorf("carp driver: group %d: parent %s: %w", g.cfg.VHID, parent, err)
	}
	if err := k.deleteLink(name); err != nil {
		return err
	}
	req := &rtnetlink.LinkMessage{Attributes: &rtnetlink.LinkAttributes{
		Name:    name,
		Type:    pidx, // IFLA_LINK: the parent
		Address: VirtualMAC(g.cfg.VHID),
		Info:    &rtnetlink.LinkInfo{Kind: "macvlan", Data: &macvlanInfo{mode: macvlanMode}},
	}}
	if err := k.rt.Link.New(req); err != nil {
		return fmt.Errorf("carp driver: group %d: create %s: %w", g.cfg.VHID, name, err)
	}
	k.macvlans = append(k.macvlans, name)
	return k.enter(func() error { return setSysctls(macvlanSysctls, name) })
}

// addVIPs makes the virtual MAC live, then adds the addresses.
func (k *netKernel) addVIPs(g *groupPlan) error {
	var errs []error
	if k.vmac {
		errs = append(errs, k.gate.activate(VirtualMAC(g.cfg.VHID), true))
	}
	for _, v := range g.vips {
		errs = append(errs, k.addAddr(k.vipDev(g, v), v.prefix))
	}
	return errors.Join(errs...)
}

func (k *netKernel) vipDev(g *groupPlan, v vipPlan) string {
	if k.vmac {
		return MacvlanName(v.dev, g.cfg.VHID)
	}
	return v.dev
}

func (k *netKernel) setUp(name string, up bool) error {
	idx, err := k.linkIndex(name)
	if err == nil {
		var flags uint32
		if up {
			flags = unix.IFF_UP
		}
		err = k.rt.Link.Set(&rtnetlink.LinkMessage{Index: idx, Flags: flags, Change: unix.IFF_UP})
	}
	if err != nil {
		return fmt.Errorf("carp driver: set %s up=%v: %w", name, up, err)
	}
	return nil
}

func (k *netKernel) addAddr(dev string, p netip.Prefix) error {
	idx, err := k.linkIndex(dev)
	if err != nil {
		return fmt.Errorf("carp driver: add %s to %s: %w", p, dev, err)
	}
	err = k.rt.Address.New(addrMessage(idx, p))
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("carp driver: add %s to %s: %w", p, dev, err)
	}
	return nil
}

func (k *netKernel) delAddr(dev string, p netip.Prefix) error {
	idx, err := k.linkIndex(dev)
	if errors.Is(err, unix.ENODEV) {
		return nil
	}
	if err == nil {
		err = k.rt.Address.Delete(addrMessage(idx, p))
	}
	if err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("carp driver: remove %s from %s: %w", p, dev, err)
	}
	return nil
}

func addrMessage(idx uint32, p netip.Prefix) *rtnetlink.AddressMessage {
	fam, ip := uint8(unix.AF_INET6), net.IP(p.Addr().AsSlice())
	m := &rtnetlink.AddressMessage{Family: fam, PrefixLength: uint8(p.Bits()), Index: idx,
		Attributes: &rtnetlink.AddressAttributes{Address: ip, Flags: addrFlags}}
	if p.Addr().Is4() {
		m.Family = unix.AF_INET
		m.Attributes.Local = ip
	}
	return m
}

// removeVIPs takes the IPv4 VIPs away first (that sends nothing), then
// silences the virtual MAC, then takes the IPv6 VIPs away: the IPv6 stack
// sends MLD reports as they go, and a single frame from this node with the
// virtual MAC as source would teach the switch the wrong port.
func (k *netKernel) removeVIPs(g *groupPlan) error {
	if a := k.ann[g.cfg.VHID]; a != nil {
		// Closing a packet socket waits for an RCU grace period (tens of
		// milliseconds on a busy box): not on the run loop's time.
		go a.close()
		delete(k.ann, g.cfg.VHID)
	}
	var errs []error
	for _, v := range g.vips {
		if v.prefix.Addr().Is4() {
			errs = append(errs, k.delAddr(k.vipDev(g, v), v.prefix))
		}
	}
	if k.vmac {
		errs = append(errs, k.gate.activate(VirtualMAC(g.cfg.VHID), false))
	}
	for _, v := range g.vips {
		if !v.prefix.Addr().Is4() {
			errs = append(errs, k.delAddr(k.vipDev(g, v), v.prefix))
		}
	}
	return errors.Join(errs...)
}

// linkIndex looks a device up by name with one RTM_GETLINK.
func (k *netKernel) linkIndex(name string) (uint32, error) {
	msgs, err := k.rt.Execute(&rtnetlink.LinkMessage{Attributes: &rtnetlink.LinkAttributes{Name: name}},
		unix.RTM_GETLINK, netlink.Request)
	if err != nil {
		return 0, err
	}
	for _, m := range msgs {
		if l, ok := m.(*rtnetlink.LinkMessage); ok {
			return l.Index, nil
		}
	}
	return 0, unix.ENODEV
}

// deleteLink deletes a device by name; a missing one is not an error.
func (k *netKernel) deleteLink(name string) error {
	_, err := k.rt.Execute(&rtnetlink.LinkMessage{Attributes: &rtnetlink.LinkAttributes{Name: name}},
		unix.RTM_DELLINK, netlink.Request|netlink.Acknowledge)
	if err != nil && !errors.Is(err, unix.ENODEV) {
		return fmt.Errorf("carp driver: delete %s: %w", name, err)
	}
	return nil
}

func (k *netKernel) announce(g *groupPlan) error {
	a := k.ann[g.cfg.VHID]
	if a == nil {
		var err error
		if a, err = k.newAnnouncer(g); err != nil {
			return err
		}
		k.ann[g.cfg.VHID] = a
	}
	return a.send()
}

func (k *netKernel) newAnnouncer(g *groupPlan) (*announcer, error) {
	var a *announcer
	err := k.enter(func() error {
		var err error
		a, err = openAnnouncer(g, k.vmac)
		return err
	})
	return a, err
}

func (k *netKernel) close() error {
	for vhid, a := range k.ann {
		a.close()
		delete(k.ann, vhid)
	}
	var errs []error
	if k.gate != nil {
		errs = append(errs, k.gate.close())
	}
	for _, name := range k.macvlans {
		errs = append(errs, k.deleteLink(name))
	}
	if k.rt != nil {
		errs = append(errs, k.rt.Close())
	}
	return errors.Join(errs...)
}

// macvlanInfo is IFLA_INFO_DATA of a macvlan: its mode.
type macvlanInfo struct{ mode uint32 }

func (m *macvlanInfo) New() rtnetlink.LinkDriver { return &macvlanInfo{} }

func (m *macvlanInfo) Encode(ae *netlink.AttributeEncoder) error {
	ae.Uint32(unix.IFLA_MACVLAN_MODE, m.mode)
	return nil
}

func (m *macvlanInfo) Decode(*netlink.AttributeDecoder) error { return nil }

func (*macvlanInfo) Kind() string { return "macvlan" }
