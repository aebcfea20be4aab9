package lab

import (
	"encoding/binary"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"rampart/internal/netns"
)

// sniff records when gratuitous ARP and unsolicited neighbour
// advertisements for any address reach a host, from a packet socket in its
// namespace.
type sniff struct {
	fd   int
	mu   sync.Mutex
	seen map[netip.Addr][]time.Time
	done chan struct{}
}

func startSniff(t *testing.T, ns *netns.NS) *sniff {
	t.Helper()
	s := &sniff{seen: map[netip.Addr][]time.Time{}, done: make(chan struct{})}
	err := ns.Do(func() error {
		ifi, err := net.InterfaceByName("eth0")
		if err != nil {
			return err
		}
		proto := int(htons(unix.ETH_P_ALL))
		if s.fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, proto); err != nil {
			return err
		}
		return unix.Bind(s.fd, &unix.SockaddrLinklayer{Protocol: uint16(proto), Ifindex: ifi.Index})
	})
	if err != nil {
		t.Fatal(err)
	}
	tv := unix.NsecToTimeval((100 * time.Millisecond).Nanoseconds())
	_ = unix.SetsockoptTimeval(s.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	go s.run()
	t.Cleanup(s.close)
	return s
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func (s *sniff) run() {
	buf := make([]byte, 2048)
	for {
		select {
		case <-s.done:
			return
		default:
		}
		n, _, err := unix.Recvfrom(s.fd, buf, 0)
		if err != nil {
			continue
		}
		if a, ok := announced(buf[:n]); ok {
			s.mu.Lock()
			s.seen[a] = append(s.seen[a], time.Now())
			s.mu.Unlock()
		}
	}
}

// announced recognises an ARP announcement (sender = target address) or
// an unsolicited neighbour advertisement with the override flag.
func announced(f []byte) (netip.Addr, bool) {
	if len(f) < 14 {
		return netip.Addr{}, false
	}
	switch binary.BigEndian.Uint16(f[12:14]) {
	case unix.ETH_P_ARP:
		p := f[14:]
		if len(p) < 28 {
			return netip.Addr{}, false
		}
		spa, tpa := netip.AddrFrom4([4]byte(p[14:18])), netip.AddrFrom4([4]byte(p[24:28]))
		return spa, spa == tpa
	case unix.ETH_P_IPV6:
		p := f[14:]
		if len(p) < 40+24 || p[6] != unix.IPPROTO_ICMPV6 {
			return netip.Addr{}, false
		}
		icmp := p[40:]
		const override, solicited = 0x20, 0x40
		if icmp[0] != 136 || icmp[4]&override == 0 || icmp[4]&solicited != 0 {
			return netip.Addr{}, false
		}
		return netip.AddrFrom16([16]byte(icmp[8:24])), true
	}
	return netip.Addr{}, false
}

// wait reports whether an announcement of v4 and of v6 arrived after
// since, waiting up to timeout for them.
func (s *sniff) wait(since time.Time, v4, v6 netip.Addr, timeout time.Duration) (bool, bool) {
	deadline := time.Now().Add(timeout)
	for {
		a, b := s.after(v4, since), s.after(v6, since)
		if a && b || time.Now().After(deadline) {
			return a, b
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *sniff) after(a netip.Addr, since time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.seen[a] {
		if t.After(since) {
			return true
		}
	}
	return false
}

func (s *sniff) close() {
	close(s.done)
	time.Sleep(150 * time.Millisecond) // the reader's timeout
	unix.Close(s.fd)
}
