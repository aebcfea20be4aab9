package lab

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"

	"rampart/internal/netns"
)

// ICMP echo types, per RFC 792 and RFC 4443.
const (
	icmpEchoRequest   = 8
	icmpEchoReply     = 0
	icmpv6EchoRequest = 128
	icmpv6EchoReply   = 129
)

// Ping sends ICMP echo requests from ns to dst (over a raw socket: root
// only) until one is answered or timeout passes: Accepted or TimedOut.
// The lab has no ping binary to rely on.
func Ping(ns *netns.NS, dst netip.Addr, timeout time.Duration) Result {
	network, req, reply := "ip4:icmp", byte(icmpEchoRequest), byte(icmpEchoReply)
	if dst.Is6() && !dst.Is4In6() {
		network, req, reply = "ip6:ipv6-icmp", icmpv6EchoRequest, icmpv6EchoReply
	}
	var c net.PacketConn
	if err := ns.Do(func() error {
		var err error
		c, err = net.ListenPacket(network, "")
		return err
	}); err != nil {
		return Result{Outcome: Failed, Err: fmt.Errorf("lab: ping: %w", err)}
	}
	defer c.Close()
	id := uint16(os.Getpid())
	to := &net.IPAddr{IP: dst.AsSlice()}
	deadline := time.Now().Add(timeout)
	var err error
	for seq := uint16(1); seq <= udpTries; seq++ {
		msg := echoRequest(req, id, seq, !dst.Is6())
		if _, err = c.WriteTo(msg, to); err != nil {
			return Result{Outcome: Classify(err), Err: err}
		}
		try := time.Now().Add(timeout / udpTries)
		if try.After(deadline) {
			try = deadline
		}
		if err = awaitEcho(c, dst, reply, id, seq, try); err == nil {
			return Result{Outcome: Accepted}
		}
	}
	return Result{Outcome: Classify(err), Err: err}
}

// awaitEcho reads until the matching echo reply or the deadline; other
// ICMP traffic in the namespace is skipped. The loop ends at the deadline.
func awaitEcho(c net.PacketConn, dst netip.Addr, reply byte, id, seq uint16, deadline time.Time) error {
	_ = c.SetReadDeadline(deadline)
	buf := make([]byte, 1500)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return err
		}
		src, _ := netip.AddrFromSlice(from.(*net.IPAddr).IP)
		if n < 8 || src.Unmap() != dst.Unmap() || buf[0] != reply {
			continue
		}
		if binary.BigEndian.Uint16(buf[4:]) == id && binary.BigEndian.Uint16(buf[6:]) == seq {
			return nil
		}
	}
}

// echoRequest builds an echo request. ICMPv6's checksum covers a pseudo
// header the kernel fills in for raw ICMPv6 sockets; ICMPv4's we compute.
func echoRequest(typ byte, id, seq uint16, v4 bool) []byte {
	b := make([]byte, 16)
	b[0] = typ
	binary.BigEndian.PutUint16(b[4:], id)
	binary.BigEndian.PutUint16(b[6:], seq)
	copy(b[8:], "rampart!")
	if v4 {
		binary.BigEndian.PutUint16(b[2:], checksum(b))
	}
	return b
}

// checksum is the Internet checksum of RFC 1071.
func checksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
