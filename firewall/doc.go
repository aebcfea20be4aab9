// Package firewall compiles a Config into a complete nftables ruleset and
// applies it atomically over netlink, without the nft binary.
//
// # Tables
//
// Rampart owns two tables and touches nothing else: `table inet rampart`
// (filter: input and forward with policy drop, output with policy accept)
// and `table inet rampart_nat` (nat: prerouting and postrouting; inet NAT
// serves both IP versions on the kernels Rampart runs). Other tables, of
// other programs, are left alone.
//
// # Compile
//
// Compile is pure: Config in, Ruleset out. Before any user rule the filter
// chains hold the defaults: one `ct state vmap` that accepts established
// and related traffic and drops invalid, loopback, the ICMP and ICMPv6 that
// IP needs (errors carrying PMTU and reachability; on input also neighbour,
// router and multicast listener discovery and echo), the anti-lockout rule
// (the admin UI's port on the management interfaces, and nowhere else), and
// the HA links (the peer on the heartbeat link, CARP adverts, state sync).
//
// User rules keep first-match order but are not compiled one nft rule per
// rule. Consecutive rules that constrain the same fields (the "shape":
// which of interfaces, protocol, addresses and ports, and the address
// family) and do not overlap form a segment; a segment is one nft rule
// `<concatenated key> vmap @map` whose map holds one element per key, the
// verdict as data. A rule expands to the cross product of its values. A key
// that overlaps an earlier one in the segment (drop 10.0.0.5, then accept
// 10.0.0.0/8) starts a new segment, so the map's single match is always the
// one the ordered list would give. IPv4 and IPv6 segments never see the
// same packet, so they do not split each other. A packet thus costs one
// lookup per segment, not one match per rule.
//
// Each map's kind follows its keys. Keys made of exact values and of
// prefixes of one length each are a hash map, looked up on addresses masked
// to that length: lookups and changes are O(1). Keys with ranges need the
// kernel's concatenated-interval backend (pipapo), whose changes cost time
// in proportion to the map size; a large segment of them is spread over
// maps of bounded size. Interfaces are matched by name (iifname, oifname),
// so a missing device does not fail the load.
//
// Accept and drop are direct verdicts. Reject and logged rules jump to a
// small chain of their own (rule_N: `log prefix "rampart rule N: " group
// 10`, NFLOG to the daemon, then the verdict; reject answers TCP with a reset and anything else with ICMP
// port unreachable). Aliases are named sets (<name>_v4, <name>_v6,
// <name>_ports). A rule that names an address alias stays a rule of its
// own, `ip saddr @alias ...`: one lookup in a set of any size, which the
// UI can change without touching the rules. Port aliases are expanded into
// map keys. ICMP-type rules also stay rules of their own.
//
// A port forward compiles to a DNAT in prerouting and to the forward accept
// it implies, keyed on the translated destination and guarded by `ct status
// dnat`; the accepts follow the user rules, so a user rule that drops (a
// blocklist) still applies to exposed services. Masquerade and SNAT match
// the outgoing interface and source prefixes in postrouting.
//
// # Counters
//
// Every map element carries a counter (the map's `counter` flag), and so
// does every rule of its own that stands for a config item. Counters reads
// them back and sums them per config item: Kind and Index name it. They see
// the packets that reach the rules, that is the first packet of each
// connection: established traffic is accepted before the rules.
//
// # Apply
//
// The first Apply replaces the tables in one netlink batch: add each table
// (a no-op if it exists), delete it, add it with everything. The kernel
// commits a batch as a whole or not at all, so a failed Apply leaves the
// previous ruleset in force. Rampart remembers the ruleset it applied and
// the ruleset generation right after its commit. The next Apply diffs the
// two models and sends only the difference: elements added to and deleted
// from maps whose definition stays (their other counters survive), chains
// whose rules changed flushed and refilled, sets and chains added or
// deleted. The batch carries the expected generation (NFNL_BATCH_GENID):
// if anyone changed nftables since, the kernel refuses it whole and Apply
// falls back to the full replace. Applying the ruleset in force sends no
// batch at all.
//
// Messages are encoded here rather than through the library's Conn: a
// 100,000-element set goes out as a few large messages built in one pass,
// the socket buffer is sized to the batch, and no message but the last
// asks for an ACK, so the kernel answers with the errors only (each named
// after the message that failed) and one ACK.
package firewall
