package driver

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/mdlayher/arp"
	"github.com/mdlayher/ethernet"
	"github.com/mdlayher/ndp"
	"github.com/mdlayher/packet"
	"golang.org/x/sys/unix"
)

// DefaultAnnounceSchedule is when the rounds of gratuitous ARP and
// unsolicited neighbour advertisements go out after a takeover, counted
// from the takeover. They are spread out so that one burst of loss (a
// switch port still coming up, a congested queue) cannot eat them all,
// and the last one, seconds later, catches neighbours that were busy.
var DefaultAnnounceSchedule = []time.Duration{0, 50 * time.Millisecond, 250 * time.Millisecond, time.Second, 5 * time.Second}

// announcer sends one group's announcements. It is opened at the first
// round after the VIPs went up, since it needs them on the device, and
// closed when they go down.
type announcer struct {
	garps   []garp
	nas     []na
	clients []*arp.Client
}

type garp struct {
	c *arp.Client
	p *arp.Packet
}

type na struct {
	fd  int
	msg []byte
	dst unix.SockaddrInet6
}

var (
	zeroMAC      = net.HardwareAddr{0, 0, 0, 0, 0, 0}
	allNodes     = netip.MustParseAddr("ff02::1")
	icmpv6Filter = unix.ICMPv6Filter{Data: [8]uint32{^uint32(0), ^uint32(0), ^uint32(0), ^uint32(0), ^uint32(0), ^uint32(0), ^uint32(0), ^uint32(0)}}
)

// openAnnouncer prepares the packets: per IPv4 VIP an ARP announcement
// (RFC 5227 §2.3: a request with sender and target address the VIP), per
// IPv6 VIP an unsolicited neighbour advertisement to all nodes with the
// override flag and the router flag (RFC 4861 §7.2.6; the VIP is a
// gateway, and R=0 would make hosts drop it as a router).
func openAnnouncer(g *groupPlan, vmac bool) (a *announcer, err error) {
	a = &announcer{}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	clients := map[string]*arp.Client{}
	for _, v := range g.vips {
		dev := v.dev
		if vmac {
			dev = MacvlanName(v.dev, g.cfg.VHID)
		}
		ifi, err := net.InterfaceByName(dev)
		if err != nil {
			return nil, fmt.Errorf("carp driver: announce on %s: %w", dev, err)
		}
		addr := v.prefix.Addr()
		if addr.Is4() {
			c := clients[dev]
			if c == nil {
				if c, err = dialARP(ifi); err != nil {
					return nil, err
				}
				clients[dev] = c
				a.clients = append(a.clients, c)
			}
			p, err := arp.NewPacket(arp.OperationRequest, ifi.HardwareAddr, addr, zeroMAC, addr)
			if err != nil {
				return nil, fmt.Errorf("carp driver: arp packet for %s: %w", addr, err)
			}
			a.garps = append(a.garps, garp{c: c, p: p})
			continue
		}
		n, err := openNA(ifi, addr)
		if err != nil {
			return nil, err
		}
		a.nas = append(a.nas, n)
	}
	return a, nil
}

// dialARP opens a packet socket that only sends: protocol 0 receives
// nothing, so no ARP traffic piles up in a buffer nobody reads.
func dialARP(ifi *net.Interface) (*arp.Client, error) {
	p, err := packet.Listen(ifi, packet.Raw, 0, nil)
	if err != nil {
		return nil, fmt.Errorf("carp driver: arp socket on %s: %w", ifi.Name, err)
	}
	c, err := arp.New(ifi, p)
	if err != nil {
		p.Close()
		return nil, fmt.Errorf("carp driver: arp client on %s: %w", ifi.Name, err)
	}
	return c, nil
}

// openNA opens an ICMPv6 socket bound to the device with the VIP as
// source, that receives nothing (the filter blocks every type).
func openNA(ifi *net.Interface, addr netip.Addr) (na, error) {
	msg, err := ndp.MarshalMessage(&ndp.NeighborAdvertisement{
		Router: true, Override: true, TargetAddress: addr,
		Options: []ndp.Option{&ndp.LinkLayerAddress{Direction: ndp.Target, Addr: ifi.HardwareAddr}},
	})
	if err != nil {
		return na{}, fmt.Errorf("carp driver: neighbour advertisement for %s: %w", addr, err)
	}
	fd, err := unix.Socket(unix.AF_INET6, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_ICMPV6)
	if err != nil {
		return na{}, fmt.Errorf("carp driver: icmpv6 socket on %s: %w", ifi.Name, err)
	}
	err = errors.Join(
		unix.SetsockoptString(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE, ifi.Name),
		unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_HOPS, ndp.HopLimit),
		unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_IF, ifi.Index),
		unix.SetsockoptICMPv6Filter(fd, unix.IPPROTO_ICMPV6, unix.ICMPV6_FILTER, &icmpv6Filter),
		unix.Bind(fd, &unix.SockaddrInet6{Addr: addr.As16()}),
	)
	if err != nil {
		unix.Close(fd)
		return na{}, fmt.Errorf("carp driver: icmpv6 socket on %s for %s: %w", ifi.Name, addr, err)
	}
	return na{fd: fd, msg: msg, dst: unix.SockaddrInet6{Addr: allNodes.As16(), ZoneId: uint32(ifi.Index)}}, nil
}

// send sends one round. It tries every packet and returns every error.
func (a *announcer) send() error {
	var errs []error
	for _, g := range a.garps {
		if err := g.c.WriteTo(g.p, ethernet.Broadcast); err != nil {
			errs = append(errs, fmt.Errorf("carp driver: gratuitous arp for %s: %w", g.p.SenderIP, err))
		}
	}
	for i := range a.nas {
		n := &a.nas[i]
		if err := unix.Sendto(n.fd, n.msg, unix.MSG_DONTWAIT, &n.dst); err != nil {
			errs = append(errs, fmt.Errorf("carp driver: neighbour advertisement: %w", err))
		}
	}
	return errors.Join(errs...)
}

func (a *announcer) close() {
	for _, c := range a.clients {
		c.Close()
	}
	for _, n := range a.nas {
		unix.Close(n.fd)
	}
	a.clients, a.garps, a.nas = nil, nil, nil
}
