// Package config is Rampart's configuration model: one YAML document that
// describes a firewall node, its filter and NAT policy, and the HA, state
// sync and web UI sections.
//
// The document is untrusted input. Decoding is strict (unknown keys, wrong
// types and bad values are errors), every error carries FILE:LINE:COL and the
// key path, and all errors are reported in one pass so an admin fixes a file
// in one round trip, as `nginx -t` lets them.
package config

import (
	"net/netip"
	"time"
)

// SchemaVersion is the only document version this build reads.
const SchemaVersion = 1

// Config is one node's whole configuration.
//
// Struct tags: `rampart:"local"` marks what config sync never copies to
// the peer; `rampart:"secret"` marks a passphrase or shared secret, which
// the web UI shows only as a placeholder.
type Config struct {
	SchemaVersion int    `yaml:"schema_version"`
	Hostname      string `yaml:"hostname" rampart:"local"`

	// Interfaces maps a role name (lan, wan, sync, dmz, ...) to a device.
	// Rules refer to roles, never to devices, so the same policy runs on
	// both nodes of a pair whose NICs are named differently.
	Interfaces map[string]*Interface `yaml:"interfaces" rampart:"local"`

	// Aliases are named address or port lists; they compile to nftables sets.
	Aliases map[string]*Alias `yaml:"aliases"`

	// Rules are the filter rules, first match wins, in order.
	Rules []*Rule `yaml:"rules"`

	NAT        NAT        `yaml:"nat"`
	Management Management `yaml:"management"`
	HA         *HA        `yaml:"ha,omitempty"`
	StateSync  *StateSync `yaml:"statesync,omitempty"`
	WebUI      WebUI      `yaml:"webui"`
}

// Interface binds a role to a kernel device and its addresses.
type Interface struct {
	Device    string      `yaml:"device"`
	Addresses []IfAddr    `yaml:"addresses,omitempty"`
	Gateway   *netip.Addr `yaml:"gateway,omitempty"`
	Comment   string      `yaml:"comment,omitempty"`
}

// IfAddr is an interface address with its prefix length, e.g. 192.0.2.1/24.
// The host bits are kept (unlike a CIDR network).
type IfAddr = netip.Prefix

// Alias is a named list of addresses or of ports, never both.
type Alias struct {
	Addresses []netip.Prefix `yaml:"addresses,omitempty"`
	Ports     []PortRange    `yaml:"ports,omitempty"`
	Comment   string         `yaml:"comment,omitempty"`
}

// Action is a filter rule's verdict.
type Action string

const (
	Accept Action = "accept"
	Drop   Action = "drop"
	Reject Action = "reject" // TCP reset or ICMP(v6) unreachable, as nft's reject
)

// Protocol names the transport a rule matches. Empty means any.
type Protocol string

const (
	AnyProto Protocol = ""
	TCP      Protocol = "tcp"
	UDP      Protocol = "udp"
	ICMP     Protocol = "icmp"
	ICMPv6   Protocol = "icmpv6"
)

// Chain says which traffic a rule filters: forwarded through the firewall
// (the default), or addressed to the firewall itself.
type Chain string

const (
	Forward Chain = "forward"
	Input   Chain = "input"
)

// Rule is one filter rule. Empty fields match anything.
type Rule struct {
	Comment   string   `yaml:"comment,omitempty"`
	Chain     Chain    `yaml:"chain,omitempty"` // default forward
	From      Endpoint `yaml:"from,omitempty"`
	To        Endpoint `yaml:"to,omitempty"`
	Protocol  Protocol `yaml:"protocol,omitempty"`
	ICMPTypes []string `yaml:"icmp_types,omitempty"` // names as nft spells them: echo-request, ...
	Action    Action   `yaml:"action"`
	Log       bool     `yaml:"log,omitempty"`
	Disabled  bool     `yaml:"disabled,omitempty"`
}

// Endpoint is one side of a flow. Ports are only valid with tcp or udp.
type Endpoint struct {
	Interface string         `yaml:"interface,omitempty"`  // role name
	Addresses []netip.Prefix `yaml:"addresses,omitempty"`  // hosts or CIDRs
	Alias     string         `yaml:"alias,omitempty"`      // an address alias
	Ports     []PortRange    `yaml:"ports,omitempty"`      // 22, or "8000-8080"
	PortAlias string         `yaml:"port_alias,omitempty"` // a port alias
}

// PortRange is an inclusive port range; a single port has From == To.
// In YAML it is written 443 or "8000-8080".
type PortRange struct {
	From, To uint16
}

// NAT holds source and destination translation.
type NAT struct {
	Masquerade   []*Masquerade  `yaml:"masquerade,omitempty"`
	SNAT         []*SNAT        `yaml:"snat,omitempty"`
	PortForwards []*PortForward `yaml:"port_forwards,omitempty"`
}

// Masquerade rewrites the source of traffic leaving Out to Out's address.
type Masquerade struct {
	Out     string         `yaml:"out"`               // role name
	Sources []netip.Prefix `yaml:"sources,omitempty"` // default: any
	Comment string         `yaml:"comment,omitempty"`
}

// SNAT rewrites the source of traffic leaving Out to a fixed address.
type SNAT struct {
	Out     string         `yaml:"out"`
	Sources []netip.Prefix `yaml:"sources,omitempty"`
	To      netip.Addr     `yaml:"to"`
	Comment string         `yaml:"comment,omitempty"`
}

// PortForward is a DNAT port forward. The matching forward accept is
// implied: an admin who forwards a port means to let it through. It comes
// after the filter rules, so a rule that drops (a blocklist) still covers
// the exposed service.
type PortForward struct {
	In       string         `yaml:"in"` // role name the traffic arrives on
	Protocol Protocol       `yaml:"protocol"`
	Port     PortRange      `yaml:"port"`              // destination port(s) on the firewall
	Sources  []netip.Prefix `yaml:"sources,omitempty"` // default: any
	To       netip.Addr     `yaml:"to"`                // internal host
	ToPort   uint16         `yaml:"to_port,omitempty"` // default: same as Port.From
	Log      bool           `yaml:"log,omitempty"`
	Comment  string         `yaml:"comment,omitempty"`
}

// Management says where the admin UI may be reached from. The firewall
// keeps an anti-lockout rule for exactly these interfaces.
type Management struct {
	Interfaces []string `yaml:"interfaces"` // role names; never wan unless listed
}

// HA configures CARP-style redundancy.
type HA struct {
	// NodeID names this node within its pair or group (a, b, ...).
	NodeID string `yaml:"node_id" rampart:"local"`
	// Heartbeat is the role name of the dedicated link to the peer.
	Heartbeat string `yaml:"heartbeat" rampart:"local"`
	// Peers are the heartbeat addresses of the other nodes (unicast adverts).
	Peers []netip.Addr `yaml:"peers" rampart:"local"`
	// SecondPath also multicasts adverts on these role names (default: lan).
	SecondPath []string `yaml:"second_path,omitempty"`
	// CarrierLossWindow is how long to wait for an advert on the second path
	// after the heartbeat link loses carrier before taking over.
	CarrierLossWindow Duration `yaml:"carrier_loss_window,omitempty"`
	Auth              HAAuth   `yaml:"auth"`
	// VirtualMAC answers for each group with 00:00:5e:00:01:vhid (default
	// true); false keeps the interface's own MAC and relies on GARP alone.
	VirtualMAC   *bool         `yaml:"virtual_mac,omitempty"`
	Groups       []*Group      `yaml:"groups"`
	HealthChecks []HealthCheck `yaml:"health_checks,omitempty"`
	// Maintenance demotes this node so the peer takes over. It lives in the
	// config so that it survives a reboot.
	Maintenance bool   `yaml:"maintenance,omitempty" rampart:"local"`
	Notify      Notify `yaml:"notify,omitempty"`
}

// HAAuth is the advert key. Exactly one of Passphrase and KeyFile.
type HAAuth struct {
	KeyID      uint8  `yaml:"key_id"`
	Passphrase string `yaml:"passphrase,omitempty" rampart:"secret"`
	KeyFile    string `yaml:"key_file,omitempty"`
	// Previous keys stay accepted while a new key rolls out.
	Previous []HAKey `yaml:"previous,omitempty"`
}

// HAKey is an older advert key kept for rotation.
type HAKey struct {
	KeyID      uint8  `yaml:"key_id"`
	Passphrase string `yaml:"passphrase,omitempty" rampart:"secret"`
	KeyFile    string `yaml:"key_file,omitempty"`
}

// Group is one redundancy group (vhid) and the VIPs that move with it.
type Group struct {
	VHID         uint8    `yaml:"vhid"`                     // 1-255
	Priority     uint8    `yaml:"priority" rampart:"local"` // higher wins; advskew = 255 - priority
	AdvBase      Duration `yaml:"advbase,omitempty"`        // default 1s
	Preempt      *bool    `yaml:"preempt,omitempty"`        // default true
	PreemptDelay Duration `yaml:"preempt_delay,omitempty"`
	VIPs         []VIP    `yaml:"vips"`
	Track        []string `yaml:"track,omitempty"` // role names whose link loss demotes
}

// VIP is a virtual address on an interface role.
type VIP struct {
	Interface string `yaml:"interface"`
	Address   IfAddr `yaml:"address"`
}

// HealthCheck demotes the node while a service it fronts is down.
type HealthCheck struct {
	Name     string   `yaml:"name"`
	Type     string   `yaml:"type"` // tcp, http, ping, command
	Target   string   `yaml:"target"`
	Interval Duration `yaml:"interval,omitempty"`
	Timeout  Duration `yaml:"timeout,omitempty"`
	Demote   uint8    `yaml:"demote,omitempty"` // default 50
}

// Notify runs on state transitions.
type Notify struct {
	Command string `yaml:"command,omitempty"`
	Webhook string `yaml:"webhook,omitempty"`
}

// StateSync configures conntrack replication to the peer.
type StateSync struct {
	Enabled   bool           `yaml:"enabled"`
	Interface string         `yaml:"interface" rampart:"local"` // role name of the sync link
	Peer      netip.Addr     `yaml:"peer" rampart:"local"`
	Port      uint16         `yaml:"port,omitempty"` // default 7547
	Secret    string         `yaml:"secret,omitempty" rampart:"secret"`
	KeyFile   string         `yaml:"key_file,omitempty"`
	Ignore    []netip.Prefix `yaml:"ignore,omitempty"`
	// PurgeTimeout is what a node that stops being master shortens its
	// kernel entries of synced flows to (conntrackd -t): the peer carries
	// them now, and any that outlive it there are zombies here.
	PurgeTimeout Duration `yaml:"purge_timeout,omitempty"` // default 60s
}

// WebUI configures the admin console.
type WebUI struct {
	Port           uint16   `yaml:"port,omitempty"`            // default 443
	SessionIdle    Duration `yaml:"session_idle,omitempty"`    // default 30m
	ConfirmTimeout Duration `yaml:"confirm_timeout,omitempty"` // default 120s
}

// Duration is a time.Duration written as Go spells it: 1s, 200ms, 2m.
type Duration time.Duration
