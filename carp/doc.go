// Package carp is the pure core of Rampart's CARP-style redundancy
// protocol: the advert wire format, key derivation, the receive gate with
// its replay window, and the per-group state machine. It does no I/O and
// reads no clock; the driver owns the sockets, netlink, ARP and timers and
// feeds this package bytes, events and the time.
//
// # Wire format
//
// An advert is the payload of an IPv4 or IPv6 packet with protocol 112,
// sent with TTL / hop limit 255 and accepted only with 255 (RFC 5798
// §5.1.1.3), unicast to each peer over the heartbeat link and multicast on
// the LAN as a second path. It is 88 bytes, big-endian:
//
//	offset size field
//	     0    1 version (high nibble, 7) | type (low nibble: 1 advert, 2 bow-out, 3 step-down)
//	     1    1 vhid, 1-255
//	     2    1 advskew: 255 - priority, lower wins
//	     3    1 demote: demotion counter, lower wins
//	     4    2 advbase in milliseconds, 1-65535
//	     6    1 key id: which key made the MAC
//	     7    1 reserved, zero
//	     8   16 node id: the sender's node_id, zero-padded
//	    24    8 epoch: the sender's boot, strictly increasing across boots
//	    32    8 sequence: per epoch, +1 for every advert sent
//	    40   16 VIP digest: first 16 bytes of SHA-256 over the sorted VIPs
//	    56   32 HMAC-SHA256 over bytes 0-55
//
// Every field is signed, unlike OpenBSD CARP, which leaves advbase,
// advskew and demote outside its HMAC so that anyone on the LAN can
// demote a master. The MAC is kept whole: 16 more bytes on a packet sent
// a few dozen times a second cost nothing, and no truncation argument is
// needed. Verification compares in constant time.
//
// The key of each group is HKDF-SHA256(secret, salt "rampart carp v1",
// info "rampart carp v1 advert hmac-sha256 vhid=N"), where the secret is
// a passphrase or the bytes of a key file. A Keyring holds the current key
// (to send) and previous ones (still accepted), so keys rotate without a
// failover.
//
// # Receiving
//
// Receiver.Accept checks, in order: TTL, length, version, type, fields,
// vhid, key id, MAC, own node id, then a replay window (package
// carp/replay) per (vhid, sender). Only an advert newer than every other
// from its sender passes; the copy from the second path is a duplicate,
// a reordered one is late. Each rejection is a Reason, counted under its
// String. Reasons that are Loud must reach a log line. An advert that
// fails authentication is fed to the machine as Unverified: it holds a
// backup down instead of letting it take over, because a peer that cannot
// be verified is not an absent peer.
//
// # State machine
//
// Machine.Step(now, event) returns actions. INIT goes to BACKUP on Start.
// A backup becomes master when no advert has arrived for the master down
// interval, 3 × advbase + skew, where skew = advbase × advskew / 256 plus
// one advbase if the node is demoted; after a bow-out it waits the skew
// alone; after losing the heartbeat carrier it waits CarrierLossWindow. A
// backup takes over at once from a master more demoted than itself; it
// preempts a master of strictly lower priority (demote, then advbase, then
// advskew) only when preemption is on, after PreemptDelay. A
// master that hears a better master, by the same order with the node id
// as tie-break, steps down and says so with a step-down message; the
// winner re-announces the VIPs. Equal priorities never preempt.
//
// Clock steps: the driver measures timer waits on a monotonic clock, and
// Timer carries the deadline it was armed for. When now disagrees with it
// by more than an advbase, or moves backwards, or runs past the earliest
// deadline by more than an advbase before its timer fired, the machine
// re-bases its deadlines by the step (raising AlarmClockJump); then a
// master advertises at once and a backup listens at least one more
// advbase before declaring the master down.
//
// docs/protocol.md has the full description and a comparison with OpenBSD
// CARP and VRRPv3.
package carp
