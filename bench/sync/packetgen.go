package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The generator makes new flows the way a firewall meets them: one UDP
// packet each, sent from the master's namespace with its own destination
// address and port. Conntrack creates and confirms an entry per packet,
// which is the NEW event both sync daemons read, and the packet leaves by
// gen0, a veth whose peer is down, where the kernel drops it at once.
// Creating the entries over ctnetlink instead cost the generator's CPU
// about twice as much per flow (about 210,000 a second at most here), and
// the rate at which our daemon starts to lose was then out of reach.

// Generator addresses: gen0 holds genSrc, and genNet is routed through a
// neighbour with a permanent entry, so no packet waits for ARP.
var genSetup = []string{
	"ip link add gen0 type veth peer name gen1",
	"ip link set gen0 up",
	"ip addr add 10.254.0.1/30 dev gen0",
	"ip neigh add 10.254.0.2 lladdr 02:00:00:00:00:02 dev gen0 nud permanent",
	"ip route add 10.200.0.0/16 via 10.254.0.2 dev gen0 onlink",
	// Conntrack's hooks are registered in a namespace only when a rule
	// needs them: this one makes the namespace track its own packets.
	"nft add table ip rampart_bench_gen",
	"nft add chain ip rampart_bench_gen out { type filter hook output priority 0 ; }",
	"nft add rule ip rampart_bench_gen out ct state new counter",
}

var genSrc = [4]byte{10, 254, 0, 1}

const genSrcPort = 5000

// genDest is the destination of flow i: distinct for i below 2^24.
func genDest(i int) ([4]byte, uint16) {
	return [4]byte{10, 200, byte(i >> 8), byte(i)}, uint16(1024 + i>>16)
}

// packetSender sends the generator's packets with sendmmsg, up to
// len(hdrs) per call.
type packetSender struct {
	fd    int
	names []unix.RawSockaddrInet4
	iovs  []unix.Iovec
	hdrs  []unix.Mmsghdr
	body  [1]byte
}

func newPacketSender(batch int) (*packetSender, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("generator: socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: genSrc, Port: genSrcPort}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("generator: bind: %w", err)
	}
	s := &packetSender{fd: fd, names: make([]unix.RawSockaddrInet4, batch), iovs: make([]unix.Iovec, batch), hdrs: make([]unix.Mmsghdr, batch)}
	for i := range s.hdrs {
		s.iovs[i].Base = &s.body[0]
		s.iovs[i].SetLen(len(s.body))
		s.hdrs[i].Hdr.Iov = &s.iovs[i]
		s.hdrs[i].Hdr.SetIovlen(1)
		s.hdrs[i].Hdr.Name = (*byte)(unsafe.Pointer(&s.names[i]))
		s.hdrs[i].Hdr.Namelen = unix.SizeofSockaddrInet4
		s.names[i].Family = unix.AF_INET
	}
	return s, nil
}

func (s *packetSender) Close() error { return unix.Close(s.fd) }

// send sends flows [from, to).
func (s *packetSender) send(from, to int) error {
	for from < to {
		k := min(len(s.hdrs), to-from)
		for j := range k {
			addr, port := genDest(from + j)
			s.names[j].Addr = addr
			binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&s.names[j].Port))[:], port)
		}
		sent := 0
		for tries := 0; sent < k; tries++ {
			if tries == 1000 {
				return errors.New("generator: sendmmsg makes no progress")
			}
			n, _, errno := unix.Syscall6(unix.SYS_SENDMMSG, uintptr(s.fd), uintptr(unsafe.Pointer(&s.hdrs[sent])), uintptr(k-sent), 0, 0, 0)
			if errno != 0 && errno != unix.EAGAIN && errno != unix.ENOBUFS && errno != unix.EINTR {
				return fmt.Errorf("generator: sendmmsg: %w", errno)
			}
			if errno == 0 {
				sent += int(n)
			}
		}
		from += k
	}
	return nil
}
