package driver

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"

	"rampart/carp"
)

// Multicast groups of the second path: the VRRP / CARP groups (RFC 5798
// §5.1.1.2, §5.1.2.2), so switches that snoop treat adverts as they treat
// VRRP's.
var (
	groupV4 = netip.MustParseAddr("224.0.0.18")
	groupV6 = netip.MustParseAddr("ff02::12")
)

// pathSock is one socket adverts travel on: a raw IP socket bound to a
// device in the daemon, one end of a socket pair in tests.
type pathSock interface {
	// Fd is polled for input by the run loop.
	Fd() int
	// Recv reads one packet without blocking and returns the advert bytes
	// (the IP header stripped), the source address and the TTL or hop
	// limit it arrived with (-1 if unknown). unix.EAGAIN: nothing left.
	Recv(buf []byte) (payload []byte, from netip.Addr, ttl int, err error)
	// Send sends pkt to to without blocking.
	Send(pkt []byte, to netip.Addr) error
	Close() error
}

// rawSock is a raw socket for IP protocol 112 on one device and family.
type rawSock struct {
	fd      int
	v6      bool
	ifindex int
	oob     []byte
}

// rcvBuf holds a few seconds of adverts from both paths at 20ms, so a
// stalled loop finds them all when it wakes and the replay window sees
// them in order.
const rcvBuf = 256 << 10

// openRaw opens the advert socket of one device and family. TTL / hop
// limit 255 is set on send and reported on receive (RFC 5798 §5.1.1.3);
// multicast loopback is off, since a node must not hear itself. join
// subscribes the device to the VRRP group, for the second path.
func openRaw(dev string, ifindex int, v6, join bool) (*rawSock, error) {
	af := unix.AF_INET
	if v6 {
		af = unix.AF_INET6
	}
	fd, err := unix.Socket(af, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, carp.Proto)
	if err != nil {
		return nil, fmt.Errorf("carp driver: socket on %s: %w", dev, err)
	}
	opts := []sockopt{
		{"SO_BINDTODEVICE", func() error { return unix.SetsockoptString(fd, unix.SOL_SOCKET, unix.SO_BINDTODEVICE, dev) }},
		{"SO_RCVBUF", func() error { return unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, rcvBuf) }},
	}
	if v6 {
		opts = append(opts, v6Opts(fd, ifindex, join)...)
	} else {
		opts = append(opts, v4Opts(fd, ifindex, join)...)
	}
	for _, o := range opts {
		if err := o.set(); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("carp driver: socket on %s: %s: %w", dev, o.name, err)
		}
	}
	return &rawSock{fd: fd, v6: v6, ifindex: ifindex, oob: make([]byte, 128)}, nil
}

type sockopt struct {
	name string
	set  func() error
}

func v4Opts(fd, ifindex int, join bool) []sockopt {
	ip := unix.IPPROTO_IP
	opts := []sockopt{
		{"IP_TTL", func() error { return unix.SetsockoptInt(fd, ip, unix.IP_TTL, carp.TTL) }},
		{"IP_MULTICAST_TTL", func() error { return unix.SetsockoptInt(fd, ip, unix.IP_MULTICAST_TTL, carp.TTL) }},
		{"IP_MULTICAST_LOOP", func() error { return unix.SetsockoptInt(fd, ip, unix.IP_MULTICAST_LOOP, 0) }},
		{"IP_RECVTTL", func() error { return unix.SetsockoptInt(fd, ip, unix.IP_RECVTTL, 1) }},
		{"IP_MULTICAST_IF", func() error {
			return unix.SetsockoptIPMreqn(fd, ip, unix.IP_MULTICAST_IF, &unix.IPMreqn{Ifindex: int32(ifindex)})
		}},
	}
	if join {
		opts = append(opts, sockopt{"IP_ADD_MEMBERSHIP", func() error {
			return unix.SetsockoptIPMreqn(fd, ip, unix.IP_ADD_MEMBERSHIP, &unix.IPMreqn{Multiaddr: groupV4.As4(), Ifindex: int32(ifindex)})
		}})
	}
	return opts
}

func v6Opts(fd, ifindex int, join bool) []sockopt {
	ip6 := unix.IPPROTO_IPV6
	opts := []sockopt{
		{"IPV6_UNICAST_HOPS", func() error { return unix.SetsockoptInt(fd, ip6, unix.IPV6_UNICAST_HOPS, carp.TTL) }},
		{"IPV6_MULTICAST_HOPS", func() error { return unix.SetsockoptInt(fd, ip6, unix.IPV6_MULTICAST_HOPS, carp.TTL) }},
		{"IPV6_MULTICAST_LOOP", func() error { return unix.SetsockoptInt(fd, ip6, unix.IPV6_MULTICAST_LOOP, 0) }},
		{"IPV6_RECVHOPLIMIT", func() error { return unix.SetsockoptInt(fd, ip6, unix.IPV6_RECVHOPLIMIT, 1) }},
		{"IPV6_MULTICAST_IF", func() error { return unix.SetsockoptInt(fd, ip6, unix.IPV6_MULTICAST_IF, ifindex) }},
	}
	if join {
		opts = append(opts, sockopt{"IPV6_JOIN_GROUP", func() error {
			return unix.SetsockoptIPv6Mreq(fd, ip6, unix.IPV6_JOIN_GROUP, &unix.IPv6Mreq{Multiaddr: groupV6.As16(), Interface: uint32(ifindex)})
		}})
	}
	return opts
}

func (s *rawSock) Fd() int { return s.fd }

func (s *rawSock) Close() error { return unix.Close(s.fd) }

func (s *rawSock) Recv(buf []byte) ([]byte, netip.Addr, int, error) {
	n, oobn, _, sa, err := unix.Recvmsg(s.fd, buf, s.oob, unix.MSG_DONTWAIT)
	if err != nil {
		return nil, netip.Addr{}, -1, err
	}
	from := sockaddrAddr(sa)
	ttl := hopLimit(s.oob[:oobn], s.v6)
	pkt := buf[:n]
	if !s.v6 {
		// IPv4 raw sockets deliver the IP header; IPv6 ones do not.
		if n < 20 || pkt[0]>>4 != 4 || int(pkt[0]&0x0f)*4 > n {
			return nil, from, ttl, errShortIP
		}
		pkt = pkt[int(pkt[0]&0x0f)*4:]
	}
	return pkt, from, ttl, nil
}

var errShortIP = errors.New("carp driver: truncated IPv4 header")

// hopLimit finds IP_TTL / IPV6_HOPLIMIT among the control messages, or -1:
// the receiver rejects an advert whose TTL is unknown.
func hopLimit(oob []byte, v6 bool) int {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return -1
	}
	level, typ := unix.IPPROTO_IP, unix.IP_TTL
	if v6 {
		level, typ = unix.IPPROTO_IPV6, unix.IPV6_HOPLIMIT
	}
	for _, m := range msgs {
		if int(m.Header.Level) == level && int(m.Header.Type) == typ && len(m.Data) >= 1 {
			if len(m.Data) >= 4 {
				return int(int32(binary.NativeEndian.Uint32(m.Data)))
			}
			return int(m.Data[0])
		}
	}
	return -1
}

func (s *rawSock) Send(pkt []byte, to netip.Addr) error {
	var sa unix.Sockaddr
	if s.v6 {
		a := &unix.SockaddrInet6{Addr: to.As16()}
		if to.IsLinkLocalMulticast() || to.IsLinkLocalUnicast() {
			a.ZoneId = uint32(s.ifindex)
		}
		sa = a
	} else {
		sa = &unix.SockaddrInet4{Addr: to.Unmap().As4()}
	}
	return unix.Sendto(s.fd, pkt, unix.MSG_DONTWAIT, sa)
}

func sockaddrAddr(sa unix.Sockaddr) netip.Addr {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrFrom4(a.Addr)
	case *unix.SockaddrInet6:
		return netip.AddrFrom16(a.Addr).Unmap()
	}
	return netip.Addr{}
}
