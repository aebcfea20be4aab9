package config

import (
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fullConfig sets every field to a non-zero value, so that a round trip
// through Marshal and Parse covers the whole model. TestFullConfigIsFull
// keeps it that way when fields are added.
func fullConfig() *Config {
	gw := netip.MustParseAddr("203.0.113.254")
	pfx := netip.MustParsePrefix
	return &Config{
		SchemaVersion: 1,
		Hostname:      "fw-a",
		Interfaces: map[string]*Interface{
			"lan":  {Device: "eth0", Addresses: []IfAddr{pfx("192.168.1.2/24"), pfx("fd00:1::2/64")}, Comment: "inside"},
			"wan":  {Device: "eth1", Addresses: []IfAddr{pfx("203.0.113.2/24")}, Gateway: &gw, Comment: "123"},
			"sync": {Device: "eth2", Addresses: []IfAddr{pfx("192.168.255.1/30")}, Comment: "yes"},
		},
		Aliases: map[string]*Alias{
			"nets":  {Addresses: []netip.Prefix{pfx("10.0.0.0/8"), pfx("2001:db8::1/128")}, Comment: "null"},
			"ports": {Ports: []PortRange{{22, 22}, {8000, 8080}}, Comment: "- not a list"},
		},
		Rules: []*Rule{
			{Comment: "web: #1", Chain: Forward, From: Endpoint{Interface: "lan", Alias: "nets"},
				To:       Endpoint{Interface: "wan", Addresses: []netip.Prefix{pfx("192.0.2.0/24")}, Ports: []PortRange{{443, 443}}},
				Protocol: TCP, Action: Accept, Log: true, Disabled: true},
			{Chain: Input, From: Endpoint{PortAlias: "ports"}, Protocol: UDP, Action: Drop},
			{Chain: Forward, Protocol: ICMP, ICMPTypes: []string{"echo-request"}, Action: Reject},
		},
		NAT: NAT{
			Masquerade:   []*Masquerade{{Out: "wan", Sources: []netip.Prefix{pfx("192.168.1.0/24")}, Comment: "m"}},
			SNAT:         []*SNAT{{Out: "wan", Sources: []netip.Prefix{pfx("192.168.1.0/24")}, To: netip.MustParseAddr("203.0.113.1"), Comment: "s"}},
			PortForwards: []*PortForward{{In: "wan", Protocol: TCP, Port: PortRange{8000, 8010}, Sources: []netip.Prefix{pfx("198.51.100.0/24")}, To: netip.MustParseAddr("192.168.1.100"), ToPort: 80, Log: true, Comment: "p"}},
		},
		Management: Management{Interfaces: []string{"lan", "sync"}},
		HA: &HA{
			NodeID: "a", Heartbeat: "sync", Peers: []netip.Addr{netip.MustParseAddr("192.168.255.2")},
			SecondPath: []string{"lan"}, CarrierLossWindow: Duration(150 * time.Millisecond),
			Auth: HAAuth{KeyID: 2, Passphrase: "0123456789abcdef0", KeyFile: "",
				Previous: []HAKey{{KeyID: 1, KeyFile: "/perm/old.key"}, {KeyID: 3, Passphrase: "older-passphrase-here"}}},
			VirtualMAC: ptr(false),
			Groups: []*Group{{VHID: 1, Priority: 200, AdvBase: Duration(200 * time.Millisecond), Preempt: ptr(false),
				PreemptDelay: Duration(90 * time.Second),
				VIPs:         []VIP{{Interface: "lan", Address: pfx("192.168.1.1/24")}, {Interface: "lan", Address: pfx("fd00:1::1/64")}},
				Track:        []string{"lan", "wan"}}},
			HealthChecks: []HealthCheck{{Name: "dns", Type: "tcp", Target: "192.168.1.53:53",
				Interval: Duration(5 * time.Second), Timeout: Duration(2 * time.Second), Demote: 100}},
			Maintenance: true,
			Notify:      Notify{Command: "/perm/notify.sh", Webhook: "https://example.org/hook"},
		},
		StateSync: &StateSync{Enabled: true, Interface: "sync", Peer: netip.MustParseAddr("192.168.255.2"), Port: 7000,
			Secret: "", KeyFile: "/perm/sync.key", Ignore: []netip.Prefix{pfx("192.168.1.53/32")}, PurgeTimeout: Duration(30 * time.Second)},
		WebUI: WebUI{Port: 8443, SessionIdle: Duration(time.Hour), ConfirmTimeout: Duration(45 * time.Second)},
	}
}

// TestFullConfigIsFull fails when some field of the model is zero in
// every place it occurs in fullConfig, so that a new field is covered by
// the round-trip test.
func TestFullConfigIsFull(t *testing.T) {
	set := map[string]bool{}
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case reflect.Slice:
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i))
			}
		case reflect.Map:
			for _, k := range v.MapKeys() {
				walk(v.MapIndex(k))
			}
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				f := v.Type().Field(i)
				if f.IsExported() && !v.Field(i).IsZero() {
					set[v.Type().Name()+"."+f.Name] = true
					walk(v.Field(i))
				}
			}
		}
	}
	walk(reflect.ValueOf(fullConfig()).Elem())
	// One of each pair must stay empty, and there is one of each struct.
	set["HAAuth.KeyFile"], set["StateSync.Secret"] = true, true
	for _, f := range goFields(reflect.TypeFor[Config]()) {
		if !set[f.typ+"."+f.goName] {
			t.Errorf("fullConfig never sets %s.%s", f.typ, f.goName)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	docs := map[string]*Config{"full": fullConfig(), "default": Default()}
	files, _ := filepath.Glob("../examples/*.yaml")
	for _, f := range files {
		c, err := Load(f)
		if err != nil {
			t.Fatal(err)
		}
		docs[filepath.Base(f)] = c
	}
	for name, c := range docs {
		t.Run(name, func(t *testing.T) {
			if err := c.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			out, err := Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Parse(name, out)
			if err != nil {
				t.Fatalf("Parse(Marshal(c)):\n%v\n%s", err, out)
			}
			if name == "full" {
				applyDefaults(c) // Parse fills them; the rest is equal
			}
			if diff := cmp.Diff(c, got, addrOpts()); diff != "" {
				t.Errorf("round trip (-want +got):\n%s\n%s", diff, out)
			}
		})
	}
}

func TestMarshalForms(t *testing.T) {
	c := &Config{
		SchemaVersion: 1,
		Aliases:       map[string]*Alias{},
		Rules:         []*Rule{},
		HA:            &HA{VirtualMAC: ptr(false), Groups: []*Group{{AdvBase: Duration(2 * time.Minute)}}},
		WebUI:         WebUI{Port: 443, SessionIdle: Duration(time.Hour)},
		NAT:           NAT{PortForwards: []*PortForward{{Port: PortRange{8000, 8080}}, {Port: PortRange{22, 22}}}},
	}
	out, err := Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	want := `schema_version: 1
aliases: {}
rules: []
nat:
  port_forwards:
    - port: 8000-8080
    - port: 22
ha:
  virtual_mac: false
  groups:
    - advbase: 2m
webui:
  port: 443
  session_idle: 1h
`
	if diff := cmp.Diff(want, string(out)); diff != "" {
		t.Errorf("Marshal (-want +got):\n%s", diff)
	}
	if _, err := Marshal(nil); err == nil {
		t.Error("Marshal(nil) succeeded")
	}
}

// FuzzParse feeds arbitrary bytes to Parse. Whatever parses must survive
// Marshal and parse back to an equal Config; whatever fails must fail with
// Errors, never a panic.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../examples/*.yaml")
	for _, name := range append(files, "default.yaml") {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(head))
	f.Add([]byte(head + "aliases: {a: &x {ports: [1, \"2-3\"]}, b: *x}\n"))
	f.Add([]byte(head + "rules: [{action: accept, from: {addresses: [\"::\"]}}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data)
		if err != nil {
			es, ok := err.(Errors)
			if !ok || len(es) == 0 || len(es) > maxErrors {
				t.Fatalf("Parse error %T with %d entries: %v", err, len(es), err)
			}
			return
		}
		out, err := Marshal(c)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		again, err := Parse("marshalled.yaml", out)
		if err != nil {
			t.Fatalf("Parse(Marshal(c)): %v\n%s", err, out)
		}
		if diff := cmp.Diff(c, again, addrOpts()); diff != "" {
			t.Fatalf("round trip (-want +got):\n%s\n%s", diff, out)
		}
	})
}

// TestMarshalTrickyStrings round-trips strings that YAML would read as
// something else, or mangle, if they were written plainly.
func TestMarshalTrickyStrings(t *testing.T) {
	for _, s := range []string{
		" lead", "trail ", "a\u0085b", "a\u2028b", "tab\there", "#x", "x #y", "- x", "line\nbreak\n",
		"\x00nul", "\ufeffbom", "'q'", "\"dq", "@at", "`bt", "a: b", "{x}", "~", "null", "yes", "0x10",
		"1e3", ".inf", "\r\n", "\t", " ",
	} {
		c := Default()
		c.Interfaces["lan"].Comment = s
		out, err := Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Parse("marshalled.yaml", out)
		if err != nil {
			t.Errorf("%q: %v\n%s", s, err, out)
			continue
		}
		if diff := cmp.Diff(c, got, addrOpts()); diff != "" {
			t.Errorf("%q: round trip (-want +got):\n%s", s, diff)
		}
	}
}
