package firewall

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rampart/config"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

func configNames() []string {
	names := make([]string, 0, len(testConfigs))
	for n := range testConfigs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// TestCompileGolden pins String() for every test config.
func TestCompileGolden(t *testing.T) {
	for _, name := range configNames() {
		t.Run(name, func(t *testing.T) {
			rs, err := Compile(testConfigs[name]())
			if err != nil {
				t.Fatal(err)
			}
			got := rs.String()
			path := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if d := cmp.Diff(string(want), got); d != "" {
				t.Errorf("String() (-want +got):\n%s", d)
			}
		})
	}
}

// TestCompileErrors checks that Compile reports what the config package
// cannot know, every problem at once.
func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(*config.Config)
		want []string
	}{
		{"unknown role", func(c *config.Config) {
			c.Rules = append(c.Rules, &config.Rule{From: config.Endpoint{Interface: "dmz"}, Action: config.Accept})
		}, []string{`rules[0].from.interface: unknown interface role "dmz"`}},
		{"unknown alias and port alias", func(c *config.Config) {
			c.Rules = append(c.Rules, &config.Rule{From: config.Endpoint{Alias: "nope"}, To: config.Endpoint{PortAlias: "nada"}, Protocol: config.TCP, Action: config.Accept})
		}, []string{`rules[0].from.alias: unknown alias "nope"`, `rules[0].to.port_alias: unknown alias "nada"`}},
		{"families never meet", func(c *config.Config) {
			c.Rules = append(c.Rules, &config.Rule{From: config.Endpoint{Addresses: pfx("10.0.0.0/8")}, To: config.Endpoint{Addresses: pfx("2001:db8::/32")}, Action: config.Accept})
		}, []string{"rules[0]: its addresses and protocol have no IP version in common"}},
		{"ports without tcp or udp", func(c *config.Config) {
			c.Rules = append(c.Rules, &config.Rule{To: config.Endpoint{Ports: ports(22)}, Action: config.Accept})
		}, []string{"rules[0]: ports need protocol tcp or udp"}},
		{"too many elements", func(c *config.Config) {
			var src []string
			for i := range 300 {
				src = append(src, fmt.Sprintf("10.0.%d.%d", i/100, 2*(i%100)))
			}
			var ps []config.PortRange
			for p := range 300 {
				ps = append(ps, config.PortRange{From: uint16(1000 + 2*p), To: uint16(1000 + 2*p)})
			}
			c.Rules = append(c.Rules, &config.Rule{From: config.Endpoint{Addresses: pfx(src...)}, To: config.Endpoint{Ports: ps}, Protocol: config.TCP, Action: config.Accept})
		}, []string{"rules[0]: expands to more than 65536 set elements"}},
		{"bad alias name", func(c *config.Config) {
			c.Aliases = map[string]*config.Alias{"1bad name": {Addresses: pfx("10.0.0.1")}}
		}, []string{`alias "1bad name": a name must start with a letter`}},
		{"port forward to v6 from v4 sources", func(c *config.Config) {
			c.NAT.PortForwards = []*config.PortForward{{In: "wan", Protocol: config.TCP, Port: config.PortRange{From: 80, To: 80}, Sources: pfx("10.0.0.0/8"), To: addr("2001:db8::1")}}
		}, []string{"nat.port_forwards[0].sources: none is of the destination's IP version"}},
		{"set names collide", func(c *config.Config) {
			c.Aliases = map[string]*config.Alias{"web": {Ports: ports(80)}, "web_ports": {Ports: ports(443)}}
		}, []string{`two aliases compile to the set "web_ports"`}},
		{"icmp types need icmp", func(c *config.Config) {
			c.Rules = append(c.Rules, &config.Rule{Protocol: config.TCP, ICMPTypes: []string{"echo-request"}, Action: config.Accept})
		}, []string{"rules[0].icmp_types: need protocol icmp or icmpv6"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := minimalConfig()
			tt.edit(cfg)
			_, err := Compile(cfg)
			if err == nil {
				t.Fatal("Compile succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not mention %q", err, w)
				}
			}
		})
	}
}
