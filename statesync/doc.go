// Package statesync replicates the conntrack table to the peer firewall,
// so that established connections, NAT'd ones included, survive a
// failover.
//
// Both nodes run the same Node: a Source reads the kernel's conntrack
// events and a Sender streams them to the peer's Receiver, which keeps
// them in a Cache outside the kernel. The backup's stream is nearly empty
// (a backup forwards nothing); after a failover the roles reverse without
// a reconnect. On becoming master, the carp driver calls
// Node.BeforeMaster before it adds the VIPs: the cache is committed to the
// kernel in batches (ctnl.Create, Replace on, the per-entry be liberal
// flag on TCP entries, never the global sysctl), so that the first packet
// of a recovered connection finds its entry. Node.BulkDone ends the carp
// boot hold-down once the peer's first bulk update is in, or with an
// alarm after Tuning.BulkTimeout: a stuck bulk update never holds the
// node down forever (opnsense/core#10858).
//
// # Transport: TLS 1.3 with pinned Ed25519 keys
//
// Each session is a TCP connection over the sync link, secured with TLS
// 1.3 (crypto/tls) and mutual authentication. Each node's identity is an
// Ed25519 key derived with HKDF-SHA256 (RFC 5869) from the shared secret
// and the node's sync-link address; a node knows its own key and derives
// the peer's public key the same way. The key travels in a self-signed
// certificate, the only carrier Go's TLS has for a raw public key, and
// each end accepts exactly the expected public key (a custom
// VerifyPeerCertificate; no CA, no names, no validity dates, since a box
// without a clock boots in 1970). TLS 1.3 has already checked the peer's
// CertificateVerify signature over the handshake with that key, so a
// match proves possession of the private key.
//
// Nothing here is a new primitive or a new protocol: the handshake, key
// exchange, record encryption and replay protection are TLS 1.3's;
// pinning a raw public key is what RFC 7250, libp2p's TLS handshake,
// WebRTC's certificate fingerprints and Syncthing's device IDs do. The AEAD
// framing the issue also allows was turned down because it would need a
// handshake, nonce management across reconnects and replay protection
// designed here. Per-node keys (not one key from the secret) make a
// connection looped back to its own node fail authentication.
// Authentication failures are counted, shown in the status and logged at
// error level on both ends, since they never heal by themselves. HKDF is
// no password hash: whoever reaches the port can get a node's public key
// and test guesses offline, so the secret must be long (the config asks
// for 16 characters; a key file of 32 random bytes is better).
//
// # Protocol
//
// After TLS, the sender sends a hello with the range of protocol versions
// it speaks; the receiver answers with a hello carrying the highest
// version both speak, or refuses with a message that names both ranges
// ("the peer speaks state sync protocol v2, this node v1: run the same
// firmware on both nodes"), and both ends log it as an error. The hello's
// layout is the same in every version.
//
// Every frame, integers big endian:
//
//	length   4 bytes  of what follows, at most MaxFrameLen (1 MiB)
//	type     1 byte
//	body
//
// Bodies by type:
//
//	1 hello      "RSYN", min version (2), max version (2),
//	             sender instance (8), keepalive in ms (4)
//	2 refuse     code (1: version, 2: protocol), reason (UTF-8, the rest)
//	3 ack        last sequence number applied (8)
//	4 request    id (8), kind (1: config push), body (the rest)   v2
//	5 response   id (8), failed (1: 0 or 1), body or UTF-8 error   v2
//	16 ping      seq (8), lag in µs (4)
//	17 bulk begin seq, lag
//	18 entries   seq, lag, then records until the end: op (1: update,
//	             2: destroy) followed by one entry in ctnl's wire encoding
//	19 bulk end  seq, lag, number of entries in the bulk (4)
//
// Requests and responses are unsequenced: the sender of a session asks
// and the peer's receiver answers on the same connection, one request at
// a time (another meanwhile is answered busy), while the stream goes on.
// They carry what else the nodes must tell each other over the
// authenticated link: the shared config (RequestConfig).
//
// Sequence numbers count the sender's frames across its sessions; the
// receiver requires +1 within a session and never goes back for the same
// sender instance, and it serves one session at a time, a new one ending
// the old. It acknowledges after each read that drains its buffer, or
// every 8 frames. Any frame that breaks these rules ends the session with
// a refusal that says why.
//
// # Reliability and order
//
// Within a session TCP gives order and delivery. Across sessions the
// guarantee comes from the bulk update that starts each one: a snapshot
// (a kernel dump) of every synced flow between bulk begin and bulk end.
// The receiver expires every cached flow the bulk did not mention, which
// also removes flows whose DESTROY was lost with a connection. Frames in
// flight when a connection dies are not resent: the bulk supersedes them.
// Changes are queued only while a session is up; during a bulk update
// they wait and go after it, so a flow's state never goes back behind
// the snapshot. (The kernel emits an event when the change happens, but
// the source may read it after the dump that already shows the change:
// then the older state is applied again for a moment and the next event
// corrects it. The final state is always right.)
//
// # Latency and backpressure
//
// A change waits at most Tuning.FlushDelay (5 ms) for others to share its
// frame; a frame's worth (Tuning.FrameEntries) goes at once. At most
// Tuning.Window frames are in flight. While the window has room, changes
// are encoded into frames as they come, one record per event; frames
// built and not yet written count against the window. When the peer or
// the link is slow, the policy is, in order:
//
//  1. stop writing once the window is full;
//  2. keep only the latest change per flow in the pending queue (counted
//     as coalesced; nothing is lost), which takes every change from then
//     until it is empty again;
//  3. when the queue holds Tuning.MaxPending flows, drop changes for new
//     flows (counted as drops, reason pending_full) and schedule a resync,
//     which clears the queue and sends a fresh bulk update.
//
// Memory is thus bounded by MaxPending flows (built records included),
// Window frames and one snapshot. A frame unacknowledged for Tuning.PeerTimeout ends the
// session; the sender reconnects with exponential backoff and jitter.
// The receiver keeps at most Tuning.MaxCache flows, counting the rest.
//
// Lag is measured on the sender's clock alone: from the receipt of the
// oldest change a frame carries to the acknowledgement of that frame, so
// it includes the receiver's apply and the way back. The sender carries
// its last measurement in every frame, for the receiver's status.
//
// # Gaps at the source
//
// The event socket has a large receive buffer (DefaultEventBuffer). An
// overrun (ENOBUFS), an event that does not decode or a failed socket is
// counted by reason and answered with a resync; a failed socket is
// reopened with backoff. Flows to and from the firewall's own addresses,
// the sync link's subnet and configured ignores are never synced (see
// Filter).
package statesync
