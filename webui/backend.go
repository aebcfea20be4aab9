package webui

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"rampart/config"
	"rampart/config/store"
)

// Backend is what the daemon (appliance) gives the web UI: the running
// config and the means to change it, and read-only views of the firewall,
// interfaces, HA, state sync, conntrack and the log. The view types are
// plain structs of this package so that webui depends on none of the
// subsystems; the daemon copies carp's, statesync's and firewall's
// numbers into them.
//
// Methods may be called concurrently. Changes (Apply, Commit) come one at
// a time: the UI serialises them around its commit-confirm engine, so
// the daemon should make no config changes of its own while the UI's
// Pending is true (a SIGHUP reload then waits or is refused).
type Backend interface {
	// Running returns the config in force and the stored version it was
	// last committed as (ID 0 when it is not from the store, e.g. the
	// embedded default). While a change awaits confirmation the config in
	// force is newer than that version.
	Running() (*config.Config, store.Version)
	// Apply validates, compiles and applies cfg now, without storing it:
	// interfaces, firewall, and HA settings for carp (maintenance
	// included). Validation problems come back as config.Errors with key
	// paths. A failed apply leaves the previous config in force.
	Apply(ctx context.Context, cfg *config.Config) error
	// Commit stores data (a config document) as the newest confirmed
	// version: config/store's Save. A restart boots the newest version.
	Commit(data []byte, meta store.Meta) (store.Version, error)
	// History lists stored versions, newest first (store.List).
	History() ([]store.Version, error)
	// Version returns one stored version (store.Get); errors wrap
	// store.ErrNotFound for an unknown id.
	Version(id uint64) ([]byte, store.Version, error)

	// Firewall returns the rule counters and apply timings.
	Firewall() (FirewallStatus, error)
	// Interfaces returns each configured role's device and state.
	Interfaces() ([]InterfaceStatus, error)
	// HA returns the redundancy groups as carp sees them.
	HA() HAStatus
	// StateSync returns conntrack replication's status.
	StateSync() SyncStatus
	// Conntrack returns one page of the connection table. Limit 0 asks
	// for the total only, which must be cheap (nf_conntrack_count): the
	// metrics scrape asks that way. MatchConn is the search semantics.
	Conntrack(ctx context.Context, q ConnQuery) (ConnPage, error)
	// Logs returns up to max log lines with Seq > after, oldest first:
	// firewall log lines and HA transitions, for the live log.
	Logs(after uint64, max int) []LogLine
}

// NodeViewer is what a daemon tells of the node itself, for the
// dashboard's System card and /api/v1/status. It stays apart from
// Backend until the UI process's bridge (webui/remote) carries it; a
// backend without it shows no System card.
type NodeViewer interface {
	Node() NodeStatus
}

// Config sources of NodeStatus.
const (
	SourceStick   = "stick"   // the config stick's store
	SourceRAM     = "ram"     // a copy in RAM: changes are lost at reboot
	SourceDefault = "default" // the embedded default
	SourceFile    = "file"    // a --config file
)

// NodeStatus is this node: build, uptime, and where its config lives.
type NodeStatus struct {
	Version      string        `json:"version"`
	Hostname     string        `json:"hostname"`
	Started      time.Time     `json:"started"`   // the daemon
	Uptime       time.Duration `json:"uptime_ns"` // the system
	ConfigSource string        `json:"config_source"`
	ConfigPath   string        `json:"config_path"`
	// Stick is what PID 1 reports in /run/rampart/stick.json; StickKnown
	// is false under a plain `rampart run`, which has no PID 1 of ours.
	StickKnown   bool      `json:"stick_known"`
	StickPresent bool      `json:"stick_present"`
	StickDevice  string    `json:"stick_device"`
	StickSince   time.Time `json:"stick_since"`
}

// ErrUnavailable is what a missing backend answers.
var ErrUnavailable = errors.New("not available on this node")

// FirewallStatus is the firewall's view.
type FirewallStatus struct {
	Counters []RuleCounter
	// Apply times every ruleset apply since start.
	Apply Timing
}

// RuleCounter is what the kernel counted for one config item, as
// firewall.RuleCounter: Kind is its Kind constant (rule, port_forward,
// dnat, masquerade, snat, anti_lockout, ha, statesync), Index the item's
// index in the config list the kind names.
type RuleCounter struct {
	Kind    string `json:"kind"`
	Index   int    `json:"index"`
	Comment string `json:"comment"`
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
}

// Timing is a running count and sum of durations, exported to Prometheus
// as a summary.
type Timing struct {
	Count uint64        `json:"count"`
	Sum   time.Duration `json:"sum_ns"`
	Last  time.Duration `json:"last_ns"`
}

// InterfaceStatus is one configured role.
type InterfaceStatus struct {
	Role      string         `json:"role"`
	Device    string         `json:"device"`
	Up        bool           `json:"up"` // operational state (carrier)
	Addresses []netip.Prefix `json:"addresses"`
	RxBytes   uint64         `json:"rx_bytes"`
	TxBytes   uint64         `json:"tx_bytes"`
	RxPackets uint64         `json:"rx_packets"`
	TxPackets uint64         `json:"tx_packets"`
}

// HAStatus is carp's view of this node and what it hears of the peer.
type HAStatus struct {
	Enabled     bool          `json:"enabled"`
	NodeID      string        `json:"node_id"`
	Maintenance bool          `json:"maintenance"`
	Groups      []GroupStatus `json:"groups"`
	// Transitions are the recent state changes, oldest first (bounded by
	// the daemon; a hundred is plenty).
	Transitions []Transition `json:"transitions"`
	// Rejected counts adverts that could not be tied to a group (too
	// short, wrong version, unknown vhid), by carp.Reason string.
	Rejected map[string]uint64 `json:"rejected"`
}

// GroupStatus is one redundancy group on both nodes.
type GroupStatus struct {
	VHID     uint8  `json:"vhid"`
	State    string `json:"state"` // init, backup, master
	Priority uint8  `json:"priority"`
	Demotion uint8  `json:"demotion"` // this node's demotion counter; 0 is healthy
	// Peer is the other node as its adverts show it. Only a master
	// sends adverts, so PeerState is master while they arrive, backup
	// after it bowed out or stepped down, silent when none came for
	// three advert intervals (a backup, or a node that is down), and ""
	// when nothing was heard since start.
	PeerNode     string    `json:"peer_node"`
	PeerState    string    `json:"peer_state"`
	PeerPriority uint8     `json:"peer_priority"`
	PeerDemotion uint8     `json:"peer_demotion"`
	PeerMessage  string    `json:"peer_message"` // the last one: advert, bow-out, step-down
	PeerSeen     time.Time `json:"peer_seen"`

	Transitions     uint64            `json:"transitions"`
	AdvertsSent     uint64            `json:"adverts_sent"`
	AdvertsReceived uint64            `json:"adverts_received"`
	Rejected        map[string]uint64 `json:"rejected"` // by carp.Reason string
}

// Transition is one state change of a group.
type Transition struct {
	Time time.Time `json:"time"`
	VHID uint8     `json:"vhid"`
	From string    `json:"from"`
	To   string    `json:"to"`
	Why  string    `json:"why"`
}

// SyncStatus is conntrack replication's view (from statesync.Status).
type SyncStatus struct {
	Enabled   bool `json:"enabled"`
	Connected bool `json:"connected"`
	// Lag is from an event here to the peer's acknowledgement; LagP99
	// over the recent frames.
	Lag    time.Duration `json:"lag_ns"`
	LagP99 time.Duration `json:"lag_p99_ns"`
	// LastSync is when the last frame from the peer was applied.
	LastSync     time.Time `json:"last_sync"`
	CacheEntries int       `json:"cache_entries"` // the peer's flows held here
	Pending      int       `json:"pending"`       // changes waiting to be sent
	// Resyncs counts bulk updates sent, by reason.
	Resyncs map[string]uint64 `json:"resyncs"`
	// Drops counts what replication lost or refused, by reason: changes
	// not sent (pending_full, invalid), events the kernel could not
	// deliver (gap_overrun, gap_decode, gap_listener; each answered by a
	// resync), the peer's flows beyond the cache's bound (cache_full),
	// and entries the kernel refused at the last takeover (commit_EEXIST
	// and other errno names).
	Drops map[string]uint64 `json:"drops"`
	// Commit times the cache commits into the kernel at takeover.
	Commit    Timing `json:"commit"`
	LastError string `json:"last_error"`
}

// ConnQuery selects a page of the connection table.
type ConnQuery struct {
	// Search is matched by MatchConn.
	Search string
	Offset int
	Limit  int // 0: the total only
}

// ConnPage is one page of the connection table.
type ConnPage struct {
	Total   int         `json:"total"` // entries matching the search
	Entries []ConnEntry `json:"entries"`
}

// ConnEntry is one conntrack entry: the original direction and the reply
// direction, which differ under NAT.
type ConnEntry struct {
	Proto    string         `json:"proto"` // tcp, udp, icmp, icmpv6, or a number
	Src      netip.AddrPort `json:"src"`
	Dst      netip.AddrPort `json:"dst"`
	ReplySrc netip.AddrPort `json:"reply_src"`
	ReplyDst netip.AddrPort `json:"reply_dst"`
	State    string         `json:"state"` // TCP state, or "" for others
	Expires  time.Duration  `json:"expires_ns"`
	Packets  uint64         `json:"packets"`
	Bytes    uint64         `json:"bytes"`
}

// LogLine is one line of the live log.
type LogLine struct {
	Seq  uint64    `json:"seq"` // increases by one per line; a gap means lines were dropped
	Time time.Time `json:"time"`
	Kind string    `json:"kind"` // firewall, transition, system
	Text string    `json:"text"`
}
