// Package configsync keeps the shared part of the config the same on both
// nodes of a pair without ever touching what is node-local.
//
// Which fields are node-local is said once, in the config schema, by the
// struct tag `rampart:"local"` (hostname, interfaces, the HA node id,
// heartbeat, peers, priorities and maintenance, the state sync link). This
// package walks the types by reflection, so a new field is shared unless
// it is tagged, and a new list of elements with local fields fails a test
// until it says how its elements are matched between nodes (listKey).
//
// The flow: when the master commits, it sends a Push with its whole
// config document and the hash of its shared part. The peer parses the
// document strictly, merges the shared sections into its own config
// (Merge), validates the result by the same rules as a file, checks that
// its shared hash now equals the pushed one, applies and stores it, and
// answers with a Result. The master checks the Result (CheckResult).
//
// The design answers three failures seen in OPNsense's HA sync:
//   - a sync that reports success but merged nothing (#10827): a Result
//     says whether anything changed and carries the peer's hash after the
//     merge, which must equal the sender's, or the sync failed;
//   - sections synced although not selected (#7187): only the sections a
//     Push names are merged and hashed;
//   - node-local settings overwritten (#5554): local fields are never
//     written, and an element new to this node gets zero local values,
//     which validation refuses, rather than the peer's.
//
// The transport is not here: statesync's authenticated link implements
// Peer. This package does no I/O.
package configsync
