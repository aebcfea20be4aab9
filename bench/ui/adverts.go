package main

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"rampart/carp"
	"rampart/internal/netns"
)

// sniffer timestamps, in the kernel, the CARP adverts one node sends on
// a link, from a packet socket in a namespace on that link: the sender's
// own (its transmit tap, stamped as the advert thread sends) or a
// receiver's.
type sniffer struct {
	fd   int
	src  netip.Addr
	mu   sync.Mutex
	seen []time.Time
	done chan struct{}
	quit chan struct{}
}

// startSniffer listens on dev inside ns for IPv4 adverts from src. It
// binds to every protocol because the kernel shows outgoing packets only
// to such sockets; the filter keeps IPv4 protocol 112.
func startSniffer(ns *netns.NS, dev string, src netip.Addr) (*sniffer, error) {
	s := &sniffer{src: src, done: make(chan struct{}), quit: make(chan struct{})}
	proto := int(htons(unix.ETH_P_ALL))
	err := ns.Do(func() error {
		ifi, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		if s.fd, err = unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, proto); err != nil {
			return err
		}
		return unix.Bind(s.fd, &unix.SockaddrLinklayer{Protocol: uint16(proto), Ifindex: ifi.Index})
	})
	if err != nil {
		if s.fd > 0 {
			unix.Close(s.fd)
		}
		return nil, fmt.Errorf("sniff adverts: %w", err)
	}
	// Kernel receive timestamps: the bench's own scheduling under load
	// must not read as advert jitter. And only protocol 112 is queued:
	// the client's eth0 also carries the whole UI load, which overflowed
	// an unfiltered socket's buffer and dropped adverts from the capture.
	if err := unix.SetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		unix.Close(s.fd)
		return nil, fmt.Errorf("sniff adverts: timestamps: %w", err)
	}
	if err := unix.SetsockoptSockFprog(s.fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, advertFilter()); err != nil {
		unix.Close(s.fd)
		return nil, fmt.Errorf("sniff adverts: filter: %w", err)
	}
	tv := unix.NsecToTimeval((100 * time.Millisecond).Nanoseconds())
	_ = unix.SetsockoptTimeval(s.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	go s.run()
	return s, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// skfAdProtocol is the BPF ancillary load of skb->protocol:
// SKF_AD_OFF (-0x1000) + SKF_AD_PROTOCOL (0), from linux/filter.h.
const skfAdProtocol = 0xfffff000

// advertFilter is classic BPF over the IP packet (the datagram socket
// strips the link header): keep IPv4 with protocol byte 112.
//
//	ldh proto; jeq #0x800, next, drop; ldb [9]; jeq #112, keep, drop
//	keep: ret #65535; drop: ret #0
func advertFilter() *unix.SockFprog {
	prog := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_H | unix.BPF_ABS, K: skfAdProtocol},
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 3, K: unix.ETH_P_IP},
		{Code: unix.BPF_LD | unix.BPF_B | unix.BPF_ABS, K: 9},
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1, K: carp.Proto},
		{Code: unix.BPF_RET | unix.BPF_K, K: 65535},
		{Code: unix.BPF_RET | unix.BPF_K, K: 0},
	}
	return &unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
}

func (s *sniffer) run() {
	defer close(s.done)
	buf := make([]byte, 2048)
	oob := make([]byte, 128)
	for {
		select {
		case <-s.quit:
			return
		default:
		}
		n, oobn, _, _, err := unix.Recvmsg(s.fd, buf, oob, 0)
		if err != nil || !s.isAdvert(buf[:n]) {
			continue
		}
		if t, ok := kernelTime(oob[:oobn]); ok {
			s.mu.Lock()
			s.seen = append(s.seen, t)
			s.mu.Unlock()
		}
	}
}

// isAdvert recognises an IPv4 packet of protocol 112 from s.src (the
// datagram packet socket hands over the IP packet, link header removed).
func (s *sniffer) isAdvert(b []byte) bool {
	if len(b) < 20 || b[0]>>4 != 4 || b[9] != carp.Proto {
		return false
	}
	src, _ := netip.AddrFromSlice(b[12:16])
	return src == s.src
}

// kernelTime reads SCM_TIMESTAMPNS from a control message buffer.
func kernelTime(oob []byte) (time.Time, bool) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return time.Time{}, false
	}
	for _, m := range msgs {
		if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_TIMESTAMPNS && len(m.Data) >= 16 {
			sec := int64(binary.NativeEndian.Uint64(m.Data[0:8]))
			nsec := int64(binary.NativeEndian.Uint64(m.Data[8:16]))
			return time.Unix(sec, nsec), true
		}
	}
	return time.Time{}, false
}

// stop ends the capture and returns the advert times, in order.
func (s *sniffer) stop() []time.Time {
	select {
	case <-s.quit:
	default:
		close(s.quit)
	}
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.seen...)
}

func (s *sniffer) close() {
	s.stop()
	unix.Close(s.fd)
}

// maxDeviation is the worst |interval − period|.
func maxDeviation(times []time.Time, period time.Duration) time.Duration {
	var worst time.Duration
	for i := 1; i < len(times); i++ {
		d := times[i].Sub(times[i-1]) - period
		worst = max(worst, d, -d)
	}
	return worst
}
