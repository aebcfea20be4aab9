// Package netconf brings the firewall's interfaces into the state the config
// describes: links up, addresses present, default routes via the gateways,
// and forwarding on. On a diskless appliance nothing else configures the
// network, so the daemon does it before it loads the firewall.
//
// It is declarative but conservative: addresses that a previous Apply added
// and the new config drops are removed; addresses it never added (a DHCP
// lease, an admin's hand-made address, a VIP held by carp) are left alone.
package netconf

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sort"

	"github.com/jsimonetti/rtnetlink/v2/rtnl"
	"github.com/mdlayher/netlink"

	"rampart/config"
)

// Netconf applies interface settings and remembers what it added.
type Netconf struct {
	netnsFd int
	sysctl  func(path, value string) error
	owned   map[string]map[netip.Prefix]bool // device → addresses we added
}

// New returns a Netconf that works in the namespace netnsFd (0: the
// caller's own).
func New(netnsFd int) *Netconf {
	return &Netconf{netnsFd: netnsFd, sysctl: writeSysctl, owned: map[string]map[netip.Prefix]bool{}}
}

// Apply configures every interface of cfg. A missing device does not stop
// the others: the firewall must still load on a box with a dead NIC. All
// problems are returned joined.
func (n *Netconf) Apply(cfg *config.Config) error {
	c, err := rtnl.Dial(&netlink.Config{NetNS: n.netnsFd})
	if err != nil {
		return fmt.Errorf("netconf: dial rtnetlink: %w", err)
	}
	defer c.Close()

	var errs []error
	for _, p := range [][2]string{
		{"/proc/sys/net/ipv4/ip_forward", "1"},
		{"/proc/sys/net/ipv6/conf/all/forwarding", "1"},
	} {
		if err := n.sysctl(p[0], p[1]); err != nil {
			errs = append(errs, err)
		}
	}
	for _, role := range sortedRoles(cfg.Interfaces) {
		if err := n.applyInterface(c, role, cfg.Interfaces[role]); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (n *Netconf) applyInterface(c *rtnl.Conn, role string, ifc *config.Interface) error {
	link, err := linkByName(c, ifc.Device)
	if err != nil {
		return fmt.Errorf("netconf: %s (%s): %w", role, ifc.Device, err)
	}
	if err := c.LinkUp(link); err != nil {
		return fmt.Errorf("netconf: %s (%s): link up: %w", role, ifc.Device, err)
	}
	have, err := currentAddrs(c, link)
	if err != nil {
		return fmt.Errorf("netconf: %s (%s): list addresses: %w", role, ifc.Device, err)
	}
	want := map[netip.Prefix]bool{}
	for _, a := range ifc.Addresses {
		want[a] = true
	}
	owned := n.owned[ifc.Device]
	if owned == nil {
		owned = map[netip.Prefix]bool{}
		n.owned[ifc.Device] = owned
	}
	var errs []error
	for a := range owned {
		if want[a] {
			continue
		}
		if have[a] {
			if err := c.AddrDel(link, ipNet(a)); err != nil {
				errs = append(errs, fmt.Errorf("netconf: %s: del %s: %w", ifc.Device, a, err))
				continue
			}
		}
		delete(owned, a)
	}
	for _, a := range ifc.Addresses {
		if have[a] {
			continue
		}
		if err := c.AddrAdd(link, ipNet(a)); err != nil {
			errs = append(errs, fmt.Errorf("netconf: %s: add %s: %w", ifc.Device, a, err))
			continue
		}
		owned[a] = true
	}
	if ifc.Gateway != nil {
		if err := replaceDefault(c, link, *ifc.Gateway); err != nil {
			errs = append(errs, fmt.Errorf("netconf: %s: default route via %s: %w", ifc.Device, ifc.Gateway, err))
		}
	}
	return errors.Join(errs...)
}

func linkByName(c *rtnl.Conn, name string) (*net.Interface, error) {
	links, err := c.Links()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	for _, l := range links {
		if l.Name == name {
			return l, nil
		}
	}
	return nil, fmt.Errorf("no such device")
}

func currentAddrs(c *rtnl.Conn, link *net.Interface) (map[netip.Prefix]bool, error) {
	nets, err := c.Addrs(link, 0)
	if err != nil {
		return nil, err
	}
	have := map[netip.Prefix]bool{}
	for _, n := range nets {
		addr, ok := netip.AddrFromSlice(n.IP)
		if !ok {
			continue
		}
		ones, _ := n.Mask.Size()
		have[netip.PrefixFrom(addr.Unmap(), ones)] = true
	}
	return have, nil
}

func replaceDefault(c *rtnl.Conn, link *net.Interface, gw netip.Addr) error {
	bits := 32
	if gw.Is6() {
		bits = 128
	}
	dst := net.IPNet{IP: make(net.IP, bits/8), Mask: net.CIDRMask(0, bits)}
	return c.RouteReplace(link, dst, gw.AsSlice())
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func sortedRoles(m map[string]*config.Interface) []string {
	roles := make([]string, 0, len(m))
	for r := range m {
		roles = append(roles, r)
	}
	sort.Strings(roles)
	return roles
}

// writeSysctl writes a /proc/sys value. It acts on the network namespace of
// the calling thread, which is why New has no way to aim it elsewhere: a
// caller working on another namespace runs Apply inside netns.NS.Do.
func writeSysctl(path, value string) error {
	if err := os.WriteFile(path, []byte(value), 0o644); err != nil {
		return fmt.Errorf("netconf: sysctl %s=%s: %w", path, value, err)
	}
	return nil
}
