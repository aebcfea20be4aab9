package config

import (
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// head is the smallest valid document; most error cases extend it, so the
// lines they add start at line 5.
const head = `schema_version: 1
hostname: fw
interfaces:
  lan: {device: eth0, addresses: [192.168.1.1/24, fd00:1::1/64]}
`

// errLines parses doc and returns its errors one per line.
func errLines(t *testing.T, doc string) []string {
	t.Helper()
	c, err := Parse("t.yaml", []byte(doc))
	if err == nil {
		return nil
	}
	if c != nil {
		t.Errorf("Parse returned a config along with errors")
	}
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("Parse error is %T, want Errors: %v", err, err)
	}
	return strings.Split(err.Error(), "\n")
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{
			name: "unknown top-level key",
			doc:  head + "firewall: {}\n",
			want: []string{"t.yaml:5:1: firewall: unknown key; expected one of: aliases, ha, hostname, interfaces, management, nat, rules, schema_version, statesync, webui"},
		},
		{
			name: "unknown nested key",
			doc:  head + "rules:\n  - action: accept\n    form: {interface: lan}\n",
			want: []string{"t.yaml:7:5: rules[0].form: unknown key; expected one of: action, chain, comment, disabled, from, icmp_types, log, protocol, to"},
		},
		{
			name: "list where a mapping belongs, and no cascade",
			doc:  "schema_version: 1\nhostname: fw\ninterfaces: [eth0]\nmanagement: {interfaces: [lan]}\n",
			want: []string{"t.yaml:3:13: interfaces: expected a mapping, got a list"},
		},
		{
			name: "mapping where a list belongs",
			doc:  head + "management: {interfaces: {lan: true}}\n",
			want: []string{"t.yaml:5:26: management.interfaces: expected a list, got a mapping"},
		},
		{
			name: "duplicate key",
			doc:  head + "hostname: other\n",
			want: []string{"t.yaml:5:1: hostname: duplicate key; first given at line 2"},
		},
		{
			name: "number where a string belongs",
			doc:  "schema_version: 1\nhostname: 123\ninterfaces: {lan: {device: eth0}}\n",
			want: []string{"t.yaml:2:11: hostname: expected a string, got the number 123; quote it if you mean the text"},
		},
		{
			name: "yes is not a boolean",
			doc:  head + "rules:\n  - {action: accept, log: yes}\n",
			want: []string{`t.yaml:6:27: rules[0].log: expected true or false, got the string "yes"`},
		},
		{
			name: "schema version missing",
			doc:  "hostname: fw\ninterfaces: {lan: {device: eth0}}\n",
			want: []string{"t.yaml:1:1: schema_version: required; expected 1"},
		},
		{
			name: "schema version 2",
			doc:  "schema_version: 2\nhostname: fw\ninterfaces: {lan: {device: eth0}}\n",
			want: []string{"t.yaml:1:17: schema_version: unsupported version 2; expected 1"},
		},
		{
			name: "bad hostname",
			doc:  "schema_version: 1\nhostname: fw_a\ninterfaces: {lan: {device: eth0}}\n",
			want: []string{`t.yaml:2:11: hostname: "fw_a" is not a valid host name; expected letters, digits and inner hyphens (RFC 1123)`},
		},
		{
			name: "interface address without prefix length",
			doc:  "schema_version: 1\nhostname: fw\ninterfaces:\n  lan: {device: eth0, addresses: [192.168.1.1]}\n",
			want: []string{`t.yaml:4:35: interfaces.lan.addresses[0]: "192.168.1.1" has no prefix length; expected an address like 192.0.2.1/24`},
		},
		{
			name: "bad role name, device reused, bad device",
			doc: head + `  WAN: {device: eth0}
  dmz: {device: "eth 1"}
  sync: {device: eth0}
`,
			want: []string{
				`t.yaml:5:3: interfaces.WAN: invalid role name "WAN"; expected a lowercase letter then lowercase letters, digits or _, at most 15 characters`,
				`t.yaml:5:17: interfaces.WAN.device: device "eth0" is already used by role lan`,
				`t.yaml:6:17: interfaces.dmz.device: device name "eth 1" contains '/', ':', a space or a control character`,
				`t.yaml:7:18: interfaces.sync.device: device "eth0" is already used by role lan`,
			},
		},
		{
			name: "gateway outside the subnets",
			doc:  "schema_version: 1\nhostname: fw\ninterfaces:\n  wan: {device: eth1, addresses: [203.0.113.2/24], gateway: 198.51.100.1}\n",
			want: []string{"t.yaml:4:61: interfaces.wan.gateway: gateway 198.51.100.1 is not inside any subnet of this interface (203.0.113.2/24)"},
		},
		{
			name: "host bits in a CIDR",
			doc:  head + "aliases:\n  nets: {addresses: [10.0.0.1/8]}\n",
			want: []string{`t.yaml:6:22: aliases.nets.addresses[0]: "10.0.0.1/8" has host bits set; write the network 10.0.0.0/8, or the host 10.0.0.1/32`},
		},
		{
			name: "not an address",
			doc:  head + "aliases:\n  nets: {addresses: [10.0.0.300]}\n",
			want: []string{`t.yaml:6:22: aliases.nets.addresses[0]: "10.0.0.300" is not an IP address or CIDR`},
		},
		{
			name: "alias with both, alias empty, bad alias name",
			doc:  head + "aliases:\n  both: {addresses: [10.0.0.0/8], ports: [22]}\n  none: {}\n  9lives: {ports: [9]}\n",
			want: []string{
				"t.yaml:6:42: aliases.both.ports: an alias holds addresses or ports, not both; split it in two",
				"t.yaml:7:9: aliases.none: empty alias; expected addresses or ports",
				`t.yaml:8:3: aliases.9lives: invalid alias name "9lives"; expected a letter then letters, digits, _ or -, at most 64 characters`,
			},
		},
		{
			name: "bad ports",
			doc:  head + "aliases:\n  p: {ports: [0, 70000, \"8080-80\", \"x\", 22]}\n",
			want: []string{
				`t.yaml:6:15: aliases.p.ports[0]: "0": expected a port (1-65535) or a range like "8000-8080"`,
				`t.yaml:6:18: aliases.p.ports[1]: "70000": expected a port (1-65535) or a range like "8000-8080"`,
				`t.yaml:6:25: aliases.p.ports[2]: "8080-80": range is backwards; write 80-8080`,
				`t.yaml:6:36: aliases.p.ports[3]: "x": expected a port (1-65535) or a range like "8000-8080"`,
			},
		},
		{
			name: "dangling references",
			doc: head + `aliases:
  dns: {addresses: [192.0.2.53]}
  mail: {addresses: [192.0.2.25]}
  web_ports: {ports: [80, 443]}
rules:
  - from: {interface: dmz, alias: web}
    to: {port_alias: nope}
    protocol: tcp
    action: accept
management: {interfaces: [lan, wan]}
`,
			want: []string{
				`t.yaml:10:23: rules[0].from.interface: interface "dmz" does not exist; expected one of: lan`,
				`t.yaml:10:35: rules[0].from.alias: alias "web" does not exist; expected one of: dns, mail`,
				`t.yaml:11:22: rules[0].to.port_alias: alias "nope" does not exist; expected one of: web_ports`,
				`t.yaml:14:32: management.interfaces[1]: interface "wan" does not exist; expected one of: lan`,
			},
		},
		{
			name: "alias of the wrong kind",
			doc: head + `aliases:
  dns: {addresses: [192.0.2.53]}
  web_ports: {ports: [80, 443]}
rules:
  - {from: {alias: web_ports}, to: {port_alias: dns}, protocol: tcp, action: accept}
`,
			want: []string{
				`t.yaml:9:20: rules[0].from.alias: alias "web_ports" is a port alias; use it with port_alias`,
				`t.yaml:9:49: rules[0].to.port_alias: alias "dns" is an address alias; use it with alias`,
			},
		},
		{
			name: "rule without action, bad chain, bad protocol",
			doc:  head + "rules:\n  - {comment: x}\n  - {action: allow, chain: output, protocol: sctp}\n",
			want: []string{
				"t.yaml:6:5: rules[0].action: required; expected one of: accept, drop, reject",
				`t.yaml:7:14: rules[1].action: unknown action "allow"; expected one of: accept, drop, reject`,
				`t.yaml:7:28: rules[1].chain: unknown chain "output"; expected forward (the default) or input`,
				`t.yaml:7:46: rules[1].protocol: unknown protocol "sctp"; expected one of: tcp, udp, icmp, icmpv6`,
			},
		},
		{
			name: "to.interface on input",
			doc:  head + "rules:\n  - {chain: input, to: {interface: lan}, action: accept}\n",
			want: []string{"t.yaml:6:36: rules[0].to.interface: not allowed on the input chain: traffic to the firewall itself has no outgoing interface"},
		},
		{
			name: "ports without tcp or udp",
			doc:  head + "rules:\n  - {to: {ports: [22]}, action: accept}\n  - {to: {ports: [22]}, protocol: icmp, action: accept}\n",
			want: []string{
				"t.yaml:6:18: rules[0].to.ports: ports need protocol tcp or udp",
				"t.yaml:7:18: rules[1].to.ports: ports need protocol tcp or udp",
			},
		},
		{
			name: "icmp types",
			doc:  head + "rules:\n  - {icmp_types: [echo-request], action: accept}\n  - {protocol: icmpv6, icmp_types: [nd-neighbor-solicit, echo], action: accept}\n  - {protocol: icmp, icmp_types: [packet-too-big], action: accept}\n",
			want: []string{
				"t.yaml:6:18: rules[0].icmp_types: icmp_types need protocol icmp or icmpv6",
				`t.yaml:7:58: rules[1].icmp_types[1]: unknown icmpv6 type "echo"; expected one of: ` + strings.Join(ICMPTypeNames(ICMPv6), ", "),
				`t.yaml:8:35: rules[2].icmp_types[0]: unknown icmp type "packet-too-big"; expected one of: ` + strings.Join(ICMPTypeNames(ICMP), ", "),
			},
		},
		{
			name: "families that cannot match",
			doc: head + `rules:
  - {from: {addresses: [10.0.0.0/8]}, to: {addresses: ["2001:db8::/32"]}, action: drop}
  - {protocol: icmp, to: {addresses: ["2001:db8::1"]}, action: accept}
  - {protocol: icmpv6, from: {addresses: [10.0.0.1]}, action: accept}
  - {protocol: icmp, from: {addresses: [10.0.0.1, "2001:db8::1"]}, action: accept}
`,
			want: []string{
				"t.yaml:6:43: rules[0].to: from is IPv4 only and to is IPv6 only; the rule can never match",
				"t.yaml:7:26: rules[1].to: protocol icmp is IPv4 but to has only IPv6 addresses; the rule can never match",
				"t.yaml:8:30: rules[2].from: protocol icmpv6 is IPv6 but from has only IPv4 addresses; the rule can never match",
			},
		},
		{
			name: "nat",
			doc: head + `nat:
  masquerade: [{out: wan}]
  snat: [{out: lan, to: "2001:db8::1", sources: [10.0.0.0/8]}]
  port_forwards:
    - {in: lan, protocol: icmp, port: 80, to: 192.168.1.100}
    - {in: lan, protocol: tcp, port: "60000-65000", to: 192.168.1.100, to_port: 65000}
    - {in: lan, to: 192.168.1.100}
`,
			want: []string{
				`t.yaml:6:22: nat.masquerade[0].out: interface "wan" does not exist; expected one of: lan`,
				"t.yaml:7:25: nat.snat[0].to: 2001:db8::1 is IPv6 but the sources are IPv4 only; it can never match",
				`t.yaml:9:27: nat.port_forwards[0].protocol: port forwards need protocol tcp or udp, not "icmp"`,
				"t.yaml:10:81: nat.port_forwards[1].to_port: to_port 65000 with a range of 5001 ports runs past 65535",
				"t.yaml:11:7: nat.port_forwards[2].protocol: required; expected tcp or udp",
				`t.yaml:11:7: nat.port_forwards[2].port: required; expected a port or a range like "8000-8080"`,
			},
		},
		{
			name: "ha",
			doc: head + `  sync: {device: eth2, addresses: [192.168.255.1/30]}
ha:
  node_id: a-name-longer-than-16-bytes
  heartbeat: sync
  peers: [192.168.255.1]
  second_path: [dmz]
  auth: {key_id: 1, passphrase: short, key_file: /k, previous: [{key_id: 1, passphrase: long-enough-passphrase}]}
  groups:
    - vhid: 1
      priority: 255
      advbase: 5ms
      vips: [{interface: lan, address: 192.168.1.1/25}, {interface: lan, address: 192.168.1.1/24}]
    - vhid: 1
      priority: 100
      vips: [{interface: lan, address: 192.168.1.1/24}]
  health_checks:
    - {name: web, type: smtp, target: x}
    - {name: web, type: tcp, target: "h:80", interval: 1s, timeout: 2s}
`,
			want: []string{
				"t.yaml:7:12: ha.node_id: 27 bytes long; expected at most 16",
				"t.yaml:9:11: ha.peers[0]: 192.168.255.1 is this node's own address; expected the peer's",
				`t.yaml:10:17: ha.second_path[0]: interface "dmz" does not exist; expected one of: lan, sync`,
				"t.yaml:11:50: ha.auth.key_file: give passphrase or key_file, not both",
				"t.yaml:11:74: ha.auth.previous[0].key_id: key_id 1 is already used; each key needs its own id",
				"t.yaml:14:17: ha.groups[0].priority: expected a priority from 1 to 254 (higher wins)",
				"t.yaml:15:16: ha.groups[0].advbase: 5ms is out of range; expected 10ms to 10s",
				"t.yaml:16:40: ha.groups[0].vips[0].address: VIP 192.168.1.1 is also an interface address",
				"t.yaml:16:40: ha.groups[0].vips[0].address: VIP 192.168.1.1/25 is not in a subnet of interface lan with the same prefix length (192.168.1.1/24, fd00:1::1/64)",
				"t.yaml:16:83: ha.groups[0].vips[1].address: VIP 192.168.1.1 is given twice",
				"t.yaml:17:13: ha.groups[1].vhid: vhid 1 is used by another group",
				"t.yaml:19:40: ha.groups[1].vips[0].address: VIP 192.168.1.1 is given twice",
				`t.yaml:21:25: ha.health_checks[0].type: unknown type "smtp"; expected one of: tcp, http, ping, command`,
				`t.yaml:22:14: ha.health_checks[1].name: name "web" is used by another check`,
				"t.yaml:22:69: ha.health_checks[1].timeout: timeout 2s is longer than the interval 1s",
			},
		},
		{
			name: "ha required keys",
			doc:  head + "ha: {}\n",
			want: []string{
				"t.yaml:5:5: ha.node_id: required; expected a name for this node, like a",
				"t.yaml:5:5: ha.heartbeat: required; expected an interface role (lan)",
				"t.yaml:5:5: ha.peers: required; expected the heartbeat address of the other node",
				"t.yaml:5:5: ha.auth.passphrase: required; expected passphrase (at least 16 characters) or key_file",
				"t.yaml:5:5: ha.groups: required; expected at least one group with a vhid and VIPs",
			},
		},
		{
			name: "statesync",
			doc:  head + "statesync: {enabled: true, interface: sync, secret: short, port: 0}\n",
			want: []string{
				"t.yaml:5:12: statesync.peer: required; expected the peer's address on the sync link",
				`t.yaml:5:39: statesync.interface: interface "sync" does not exist; expected one of: lan`,
				"t.yaml:5:53: statesync.secret: too short (5 characters); expected at least 16",
				"t.yaml:5:66: statesync.port: port 0 is not valid; expected 1-65535 (leave it out for 7547)",
			},
		},
		{
			name: "statesync disabled is not checked",
			doc:  head + "statesync: {enabled: false, interface: nowhere}\n",
		},
		{
			name: "webui",
			doc:  head + "webui: {port: 0, session_idle: -1s, confirm_timeout: 0s}\n",
			want: []string{
				"t.yaml:5:15: webui.port: port 0 is not valid; expected 1-65535 (leave it out for 443)",
				`t.yaml:5:32: webui.session_idle: "-1s" is negative; expected a positive duration`,
				"t.yaml:5:54: webui.confirm_timeout: expected a positive duration (leave it out for the default)",
			},
		},
		{
			name: "bad duration and out of range integer",
			doc:  head + "webui: {session_idle: 10, port: 70000}\n",
			want: []string{
				"t.yaml:5:23: webui.session_idle: expected a duration like 1s or 200ms, got the number 10; quote it if you mean the text",
				"t.yaml:5:33: webui.port: 70000 is out of range; expected an integer from 0 to 65535",
			},
		},
		{
			name: "merge keys",
			doc:  head + "rules:\n  - &r {action: accept}\n  - {<<: *r, log: true}\n",
			want: []string{"t.yaml:7:6: rules[1]: merge keys (<<) are not supported; write the keys out"},
		},
		{
			name: "scalar document",
			doc:  "hello\n",
			want: []string{`t.yaml:1:1: expected a mapping, got the string "hello"`},
		},
		{
			name: "two documents",
			doc:  head + "---\nschema_version: 1\n",
			want: []string{"t.yaml:5:1: a second YAML document starts here; expected exactly one"},
		},
		{
			name: "empty",
			doc:  "# nothing\n",
			want: []string{"t.yaml:1:1: empty document; expected a mapping that starts with schema_version: 1"},
		},
		{
			name: "syntax error",
			doc:  head + "rules: [\n",
			want: []string{"t.yaml:5: yaml: did not find expected node content"},
		},
		{
			name: "custom tag",
			doc:  head + "rules:\n  - {action: !shell accept}\n",
			want: []string{`t.yaml:6:14: rules[0].action: expected a string, got "accept" tagged !shell`},
		},
		{
			name: "tagged mapping",
			doc:  head + "webui: !!set {port}\n",
			want: []string{"t.yaml:5:8: webui: expected a mapping, got a mapping tagged !!set"},
		},
		{
			name: "zone and mapped addresses",
			doc:  head + "ha: {node_id: a, heartbeat: lan, peers: [\"fe80::1%eth0\", \"::ffff:10.0.0.1\"], auth: {passphrase: long-enough-passphrase}, groups: [{vhid: 1, priority: 1, vips: [{interface: lan, address: 192.168.1.9/24}]}]}\n",
			want: []string{
				`t.yaml:5:42: ha.peers[0]: "fe80::1%eth0" has a zone; leave it out, the interface role names the link`,
				`t.yaml:5:58: ha.peers[1]: "::ffff:10.0.0.1" is an IPv4-mapped IPv6 address; write 10.0.0.1`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := errLines(t, tt.doc)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

// addrOpts lets cmp compare netip values, which have unexported fields.
func addrOpts() cmp.Options {
	return cmp.Options{
		cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
		cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }),
	}
}

func TestParseAllErrorsInOnePass(t *testing.T) {
	doc := `schema_version: 1
hostname: fw
interfaces:
  lan: {device: eth0, addresses: [192.168.1.1/24]}
rules:
  - {from: {addresses: [10.0.0.1/8]}, action: accept}
  - {from: {interface: wan}, action: accept}
  - {action: maybe}
  - {from: {alias: web}, action: accept, colour: red}
webui: {port: http}
`
	want := []string{
		`t.yaml:6:25: rules[0].from.addresses[0]: "10.0.0.1/8" has host bits set; write the network 10.0.0.0/8, or the host 10.0.0.1/32`,
		`t.yaml:7:24: rules[1].from.interface: interface "wan" does not exist; expected one of: lan`,
		`t.yaml:8:14: rules[2].action: unknown action "maybe"; expected one of: accept, drop, reject`,
		`t.yaml:9:20: rules[3].from.alias: alias "web" does not exist; no address aliases are defined`,
		`t.yaml:9:42: rules[3].colour: unknown key; expected one of: action, chain, comment, disabled, from, icmp_types, log, protocol, to`,
		`t.yaml:10:15: webui.port: expected an integer from 0 to 65535, got the string "http"`,
	}
	if diff := cmp.Diff(want, errLines(t, doc)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	_, err := Parse("t.yaml", []byte(doc))
	var one *Error
	if !errors.As(err, &one) || one.Line != 6 || one.Path != "rules[0].from.addresses[0]" {
		t.Errorf("errors.As(*Error) = %+v, want the first error at line 6", one)
	}
}

func TestParseValues(t *testing.T) {
	doc := `schema_version: 1
hostname: fw.example.org
interfaces:
  lan: {device: eth0, addresses: [192.168.1.1/24, "fd00:1::1/64"]}
  wan: {device: eth1, addresses: [203.0.113.2/24], gateway: 203.0.113.254}
aliases:
  hosts: {addresses: [10.0.0.1, "2001:db8::1", 10.1.0.0/16]}
  ports: {ports: [22, "8000-8080", "443"]}
rules:
  - {from: {alias: hosts}, to: {port_alias: ports}, protocol: tcp, action: accept}
nat:
  port_forwards:
    - {in: wan, protocol: tcp, port: 0x1bb, to: 192.168.1.100}
ha:
  node_id: a
  heartbeat: lan
  peers: [192.168.1.3]
  second_path: []
  virtual_mac: false
  auth: {key_id: 2, key_file: /perm/ha.key}
  groups:
    - {vhid: 1, priority: 200, advbase: 200ms, preempt: false, vips: [{interface: wan, address: 203.0.113.1/24}]}
  health_checks:
    - {name: up, type: ping, target: 203.0.113.254}
statesync: {enabled: false}
webui: {session_idle: 1h30m}
`
	got, err := Parse("t.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	gw := netip.MustParseAddr("203.0.113.254")
	want := &Config{
		SchemaVersion: 1,
		Hostname:      "fw.example.org",
		Interfaces: map[string]*Interface{
			"lan": {Device: "eth0", Addresses: []IfAddr{netip.MustParsePrefix("192.168.1.1/24"), netip.MustParsePrefix("fd00:1::1/64")}},
			"wan": {Device: "eth1", Addresses: []IfAddr{netip.MustParsePrefix("203.0.113.2/24")}, Gateway: &gw},
		},
		Aliases: map[string]*Alias{
			"hosts": {Addresses: []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32"), netip.MustParsePrefix("2001:db8::1/128"), netip.MustParsePrefix("10.1.0.0/16")}},
			"ports": {Ports: []PortRange{{22, 22}, {8000, 8080}, {443, 443}}},
		},
		Rules: []*Rule{{Chain: Forward, From: Endpoint{Alias: "hosts"}, To: Endpoint{PortAlias: "ports"}, Protocol: TCP, Action: Accept}},
		NAT: NAT{PortForwards: []*PortForward{{
			In: "wan", Protocol: TCP, Port: PortRange{443, 443}, To: netip.MustParseAddr("192.168.1.100"), ToPort: 443,
		}}},
		HA: &HA{
			NodeID: "a", Heartbeat: "lan", Peers: []netip.Addr{netip.MustParseAddr("192.168.1.3")},
			SecondPath:        []string{},
			CarrierLossWindow: DefaultCarrierLossWindow,
			VirtualMAC:        ptr(false),
			Auth:              HAAuth{KeyID: 2, KeyFile: "/perm/ha.key"},
			Groups: []*Group{{
				VHID: 1, Priority: 200, AdvBase: Duration(200 * time.Millisecond), Preempt: ptr(false),
				VIPs: []VIP{{Interface: "wan", Address: netip.MustParsePrefix("203.0.113.1/24")}},
			}},
			HealthChecks: []HealthCheck{{Name: "up", Type: "ping", Target: "203.0.113.254",
				Interval: DefaultHealthInterval, Timeout: DefaultHealthTimeout, Demote: DefaultDemote}},
		},
		StateSync: &StateSync{Port: DefaultStateSyncPort, PurgeTimeout: DefaultPurgeTimeout},
		WebUI:     WebUI{Port: DefaultWebUIPort, SessionIdle: Duration(90 * time.Minute), ConfirmTimeout: DefaultConfirmTimeout},
	}
	if diff := cmp.Diff(want, got, addrOpts()); diff != "" {
		t.Errorf("Parse (-want +got):\n%s", diff)
	}
}

func TestDefaults(t *testing.T) {
	doc := head + `ha:
  node_id: a
  heartbeat: lan
  peers: [192.168.1.3]
  auth: {passphrase: sixteen-chars-ok}
  groups: [{vhid: 7, priority: 9, vips: [{interface: lan, address: 192.168.1.7/24}]}]
statesync: {enabled: true, interface: lan, peer: 192.168.1.3, secret: sixteen-chars-ok}
`
	c, err := Parse("t.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	got := []any{c.HA.SecondPath, c.HA.CarrierLossWindow, *c.HA.VirtualMAC, c.HA.Groups[0].AdvBase, *c.HA.Groups[0].Preempt,
		c.StateSync.Port, c.WebUI.Port, c.WebUI.SessionIdle, c.WebUI.ConfirmTimeout}
	want := []any{[]string{"lan"}, Duration(100 * time.Millisecond), true, Duration(time.Second), true,
		uint16(7547), uint16(443), Duration(30 * time.Minute), Duration(120 * time.Second)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

func TestParseLimits(t *testing.T) {
	// A small document whose aliases expand past the node limit: one rule
	// of a thousand addresses, repeated 300 times by reference.
	laughs := "schema_version: 1\nhostname: fw\ninterfaces: {lan: {device: eth0}}\n" +
		"rules:\n  - &r {from: {addresses: [" + strings.Repeat("10.0.0.1,", 1000) + "]}, action: accept}\n" +
		strings.Repeat("  - *r\n", 300)
	tests := []struct {
		name, doc, want string
	}{
		{"too large", "hostname: " + strings.Repeat("x", MaxSize), "t.yaml: document is larger than 1048576 bytes"},
		{"too many nodes", "x: [" + strings.Repeat("1,", maxNodes) + "]", "t.yaml: document has more than 262144 YAML nodes"},
		{"alias expansion", laughs, "document expands to more than 262144 YAML nodes (through anchors and aliases)"},
		{"deep nesting", "x: " + strings.Repeat("[", 20000), "t.yaml: yaml: exceeded max depth of 10000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestParseFiles parses every shipped document: the examples and the
// embedded default.
func TestParseFiles(t *testing.T) {
	files, err := filepath.Glob("../examples/*.yaml")
	if err != nil || len(files) < 3 {
		t.Fatalf("examples: %v %v", files, err)
	}
	for _, f := range append(files, "default.yaml") {
		if _, err := Load(f); err != nil {
			t.Errorf("%s:\n%v", f, err)
		}
	}
}

func TestDefault(t *testing.T) {
	c := Default()
	if c == nil {
		t.Fatal("Default() = nil; config/default.yaml does not parse")
	}
	got := []any{c.Hostname, c.Interfaces["lan"].Device, c.Interfaces["wan"].Device, c.Management.Interfaces, c.HA == nil}
	want := []any{"rampart", "eth0", "eth1", []string{"lan"}, true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Default (-want +got):\n%s", diff)
	}
	b := DefaultYAML()
	b[0] = '!'
	if DefaultYAML()[0] == '!' {
		t.Error("DefaultYAML returns the embedded slice itself, not a copy")
	}
	c.Hostname = "changed"
	if Default().Hostname != "rampart" {
		t.Error("Default shares state between calls")
	}
}

func TestLoad(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want fs.ErrNotExist", err)
	}
	p := filepath.Join(t.TempDir(), "fw.yaml")
	if err := os.WriteFile(p, []byte("schema_version: 1\nhostname: fw\ninterfaces: {lan: {device: eth0}}\nbogus: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p)
	want := p + ":4:1: bogus: unknown key; expected one of: aliases, ha, hostname, interfaces, management, nat, rules, schema_version, statesync, webui"
	if err == nil || err.Error() != want {
		t.Errorf("Load error = %v, want %s", err, want)
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{File: "f.yaml", Line: 3, Col: 7, Path: "a.b", Msg: "bad"}, "f.yaml:3:7: a.b: bad"},
		{&Error{File: "f.yaml", Line: 3, Msg: "bad"}, "f.yaml:3: bad"},
		{&Error{File: "f.yaml", Msg: "bad"}, "f.yaml: bad"},
		{&Error{Path: "rules[0]", Msg: "bad"}, "rules[0]: bad"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	var many Errors
	for i := 0; i < 2*maxErrors; i++ {
		many = append(many, &Error{File: "f", Line: 2*maxErrors - i, Msg: "x"})
	}
	s := many.sorted()
	if len(s) != maxErrors || s[0].Line != 1 || !strings.Contains(s[len(s)-1].Msg, "too many errors (200)") {
		t.Errorf("sorted: %d errors, first line %d, last %q", len(s), s[0].Line, s[len(s)-1].Msg)
	}
}
