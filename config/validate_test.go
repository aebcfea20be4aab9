package config

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestValidateGo checks configs built in Go, as the web UI and config
// sync will build them: values the parser would have refused must still be
// caught, and errors carry paths without positions.
func TestValidateGo(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *Config)
		want   []string
	}{
		{"valid", func(c *Config) {}, nil},
		{"backwards port range", func(c *Config) {
			c.Rules[0].To.Ports = []PortRange{{From: 90, To: 80}, {}}
		}, []string{
			"rules[0].to.ports[0]: invalid port range 90-80; expected ports 1-65535, low to high",
			"rules[0].to.ports[1]: invalid port range 0-0; expected ports 1-65535, low to high",
		}},
		{"host bits and zero prefix", func(c *Config) {
			c.Aliases["nets"].Addresses = []netip.Prefix{netip.MustParsePrefix("10.0.0.1/8"), {}}
		}, []string{
			"aliases.nets.addresses[0]: 10.0.0.1/8 has host bits set; write the network 10.0.0.0/8",
			"aliases.nets.addresses[1]: expected an address or CIDR",
		}},
		{"nil entries", func(c *Config) {
			c.Interfaces["dmz"] = nil
			c.Rules = append(c.Rules, nil)
		}, []string{
			"interfaces.dmz: empty interface; expected at least device",
			"rules[3]: empty rule; expected at least action",
		}},
		{"zero values mean defaults", func(c *Config) {
			c.WebUI = WebUI{}
			c.HA.Groups[0].AdvBase = 0
			c.StateSync.Port = 0
		}, nil},
		{"negative duration", func(c *Config) {
			c.WebUI.SessionIdle = -1
		}, []string{"webui.session_idle: expected a positive duration (leave it out for the default)"}},
		{"odd map key", func(c *Config) {
			c.Interfaces["a.b"] = &Interface{Device: "eth9"}
		}, []string{`interfaces["a.b"]: invalid role name "a.b"; expected a lowercase letter then lowercase letters, digits or _, at most 15 characters`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fullConfig()
			tt.mutate(c)
			var got []string
			if err := c.Validate(); err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Validate (-want +got):\n%s", diff)
			}
		})
	}
	var nilConfig *Config
	if err := nilConfig.Validate(); err == nil {
		t.Error("nil Config validated")
	}
}

func TestICMPType(t *testing.T) {
	tests := []struct {
		proto Protocol
		name  string
		want  uint8
		ok    bool
	}{
		{ICMP, "echo-request", 8, true},
		{ICMPv6, "echo-request", 128, true},
		{ICMPv6, "nd-neighbor-solicit", 135, true},
		{ICMP, "nd-neighbor-solicit", 0, false},
		{TCP, "echo-request", 0, false},
	}
	for _, tt := range tests {
		got, ok := ICMPType(tt.proto, tt.name)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ICMPType(%s, %s) = %d, %v; want %d, %v", tt.proto, tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestScalarText(t *testing.T) {
	var r PortRange
	if err := r.UnmarshalText([]byte("8000-8080")); err != nil || r != (PortRange{8000, 8080}) {
		t.Errorf("PortRange.UnmarshalText = %v, %v", r, err)
	}
	if err := r.UnmarshalText([]byte("0")); err == nil {
		t.Error("PortRange.UnmarshalText(0) succeeded")
	}
	var d Duration
	if err := d.UnmarshalText([]byte("90s")); err != nil || d.String() != "1m30s" {
		t.Errorf("Duration.UnmarshalText(90s) = %v, %v", d, err)
	}
	if err := d.UnmarshalText([]byte("-1s")); err == nil {
		t.Error("Duration.UnmarshalText(-1s) succeeded")
	}
}
