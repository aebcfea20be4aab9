// Package ctnl reads and writes the kernel's conntrack table over
// ctnetlink, for state sync between the two firewalls: dump and events on
// the master, a batched commit on the box that takes over.
//
// It exists because the Go conntrack libraries cannot re-create a NAT'd
// entry that carries a live connection. Measured on this kernel (see
// shared/notes/conntrack-injection.md):
//
//   - A dump has no NAT attributes. NAT shows only as a reply tuple that
//     differs from the reversed original, plus IPS_SRC_NAT/IPS_DST_NAT.
//     ParseEntry derives Entry.SNAT and Entry.DNAT from the two.
//   - An entry created with the dumped, translated reply tuple looks right
//     in `conntrack -L` but the kernel does no translation. What works is
//     what conntrackd does: reply = the reversed original tuple, plus
//     CTA_NAT_SRC and/or CTA_NAT_DST with one address and one port, so
//     that the kernel sets up a real NAT binding (`conntrack -L
//     --src-nat` tells the two apart).
//   - A create needs IPS_CONFIRMED (else EBUSY) and a timeout (else
//     EINVAL). TCP flags must go with mask 0xff, or the flags and window
//     scale are lost.
//   - A create of an existing entry without NLM_F_EXCL updates it, except
//     with a NAT attribute: EOPNOTSUPP, so Create deletes and re-creates.
//
// Creates go out about 1,000 per sendmsg with an ack only on the last;
// the kernel sends an NLMSG_ERROR for each refused message, and Create
// maps each back to its entry by sequence number. Replies are read raw
// from the socket, because netlink.Conn.Receive stops at the first error
// of a datagram.
//
// # Wire encoding
//
// Entries travel to the peer in a compact, versioned encoding (integers
// big endian):
//
//	version  1 byte   WireVersion (1)
//	flags    1 byte   0x01 IPv6, 0x02 reply tuple, 0x04 TCP info,
//	                  0x08 SNAT, 0x10 DNAT; other bits are refused
//	id       4 bytes
//	status   4 bytes
//	timeout  4 bytes  seconds
//	mark     4 bytes
//	zone     2 bytes
//	original tuple
//	reply tuple       if flagged
//	TCP      5 bytes  state, wscale orig, wscale reply, flags orig,
//	                  flags reply; if flagged
//	SNAT     address, port (2 bytes); if flagged
//	DNAT     address, port (2 bytes); if flagged
//
// A tuple is: L4 protocol (1 byte), source and destination address (4 or
// 16 bytes each, by the IPv6 flag), then 4 bytes: source and destination
// port for TCP, UDP, UDP-Lite, SCTP and DCCP; ICMP id (2), type, code for
// ICMP and ICMPv6; zero otherwise. An IPv4 UDP entry without NAT takes 46
// bytes, where its ctnetlink message takes about 140.
//
// Not carried (yet): directional zones (CTA_TUPLE_ZONE), labels, helpers
// and their sequence adjustment, expectations, counters.
package ctnl
