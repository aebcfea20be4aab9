package firewall

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/nftables"

	"rampart/config"
	"rampart/internal/netns"
)

// Kernel tests: each runs in fresh network namespaces, as root.

func mustCompile(t *testing.T, cfg *config.Config) *Ruleset {
	t.Helper()
	rs, err := Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func generation(t *testing.T, fw *Firewall) uint32 {
	t.Helper()
	g, err := fw.nl.generation()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// fresh is the listing of a ruleset applied to an empty namespace.
func fresh(t *testing.T, rs *Ruleset) string {
	t.Helper()
	ns := newNS(t, "fresh")
	if err := newFirewall(t, ns).Apply(rs); err != nil {
		t.Fatal(err)
	}
	return listRuleset(t, ns)
}

func TestApplyLeavesOtherTablesAlone(t *testing.T) {
	needNft(t)
	ns := newNS(t, "fw")
	if err := ns.Run("nft", "add table ip other; add chain ip other c { type filter hook input priority 10; }; add rule ip other c counter"); err != nil {
		t.Fatal(err)
	}
	fw := newFirewall(t, ns)
	for _, cfg := range []*config.Config{officeConfig(), minimalConfig(), overlapConfig()} {
		if err := fw.Apply(mustCompile(t, cfg)); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := nftables.New(nftables.WithNetNSFd(ns.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	tables, err := conn.ListTables()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tb := range tables {
		names = append(names, tb.Name)
	}
	if d := cmp.Diff([]string{"other", FilterTable, NATTable}, names); d != "" {
		t.Errorf("tables (-want +got):\n%s", d)
	}
	rules, err := conn.GetRules(&nftables.Table{Name: "other", Family: nftables.TableFamilyIPv4}, &nftables.Chain{Name: "c"})
	if err != nil || len(rules) != 1 {
		t.Errorf("the foreign rule is gone: %v, %v", rules, err)
	}
}

func TestApplySameTwiceSendsNothing(t *testing.T) {
	needRoot(t)
	ns := newNS(t, "fw")
	fw := newFirewall(t, ns)
	if err := fw.Apply(mustCompile(t, officeConfig())); err != nil {
		t.Fatal(err)
	}
	if !fw.last.full {
		t.Errorf("first apply was not a full replace")
	}
	// A commit moves the generation by one; Apply relies on it.
	if g := generation(t, fw); g != fw.gen {
		t.Fatalf("kernel generation %d, Firewall expects %d", g, fw.gen)
	}
	before := generation(t, fw)
	if err := fw.Apply(mustCompile(t, officeConfig())); err != nil {
		t.Fatal(err)
	}
	if fw.last.messages != 0 {
		t.Errorf("second apply sent %d messages", fw.last.messages)
	}
	if after := generation(t, fw); after != before {
		t.Errorf("generation moved from %d to %d", before, after)
	}
}

// TestDiffApply applies a series of edits one after the other through the
// differential path, and checks after each that the kernel holds exactly
// what a fresh full apply of the same config builds.
func TestDiffApply(t *testing.T) {
	needNft(t)
	type step struct {
		name string
		edit func(*config.Config)
		// maxMsgs bounds the batch; 0 = do not check.
		maxMsgs int
	}
	steps := []step{
		{"change an action", func(c *config.Config) { c.Rules[5].Action = config.Drop }, 2},
		{"change a port", func(c *config.Config) { c.Rules[5].To.Ports = ports(5353) }, 2},
		{"log a rule", func(c *config.Config) { c.Rules[5].Log = true }, 4},
		{"reject it", func(c *config.Config) { c.Rules[5].Action = config.Reject }, 0},
		{"grow an alias", func(c *config.Config) {
			c.Aliases["blocklist"].Addresses = append(c.Aliases["blocklist"].Addresses, pfx("198.51.101.0/24", "0.0.0.0/8")...)
		}, 2},
		{"shrink the alias", func(c *config.Config) { c.Aliases["blocklist"].Addresses = pfx("203.0.113.7") }, 0},
		{"insert a rule at the top", func(c *config.Config) {
			c.Rules = append([]*config.Rule{{From: config.Endpoint{Addresses: pfx("10.1.0.0/16")}, Action: config.Drop, Log: true}}, c.Rules...)
		}, 0},
		{"overlap splits a segment", func(c *config.Config) {
			c.Rules = append(c.Rules, &config.Rule{To: config.Endpoint{Addresses: pfx("192.168.2.10"), Ports: ports(443)}, Protocol: config.TCP, Action: config.Drop})
		}, 0},
		{"remove rules", func(c *config.Config) { c.Rules = c.Rules[3:] }, 0},
		{"change a port forward", func(c *config.Config) { c.NAT.PortForwards[0].ToPort = 8000 }, 0},
		{"drop the aliases", func(c *config.Config) {
			c.Aliases = nil
			c.Rules = c.Rules[:0]
		}, 0},
	}
	ns := newNS(t, "fw")
	fw := newFirewall(t, ns)
	cfg := officeConfig()
	if err := fw.Apply(mustCompile(t, cfg)); err != nil {
		t.Fatal(err)
	}
	for _, s := range steps {
		s.edit(cfg)
		rs := mustCompile(t, cfg)
		if err := fw.Apply(rs); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if fw.last.full {
			t.Errorf("%s: applied as a full replace", s.name)
		}
		if s.maxMsgs > 0 && fw.last.messages > s.maxMsgs {
			t.Errorf("%s: %d messages, want at most %d", s.name, fw.last.messages, s.maxMsgs)
		}
		if d := cmp.Diff(fresh(t, rs), listRuleset(t, ns)); d != "" {
			t.Fatalf("%s: kernel after diff vs fresh apply (-fresh +diff):\n%s", s.name, d)
		}
	}
}

func TestForeignChangeForcesFullReplace(t *testing.T) {
	needNft(t)
	ns := newNS(t, "fw")
	fw := newFirewall(t, ns)
	cfg := officeConfig()
	if err := fw.Apply(mustCompile(t, cfg)); err != nil {
		t.Fatal(err)
	}
	// Someone edits our table behind our back, then adds their own.
	if err := ns.Run("nft", "add element inet rampart web_ports { 9999 }; add table inet other"); err != nil {
		t.Fatal(err)
	}
	cfg.Rules[5].Action = config.Drop
	rs := mustCompile(t, cfg)
	if err := fw.Apply(rs); err != nil {
		t.Fatal(err)
	}
	if !fw.last.full {
		t.Errorf("apply after a foreign change was not a full replace")
	}
	if err := ns.Run("nft", "delete table inet other"); err != nil {
		t.Errorf("the foreign table is gone: %v", err)
	}
	if d := cmp.Diff(fresh(t, rs), listRuleset(t, ns)); d != "" {
		t.Errorf("(-fresh +got):\n%s", d)
	}
}

// breakBatch appends a message that cannot succeed: deleting a set that
// does not exist.
func breakBatch(b *batch) { b.delSet(FilterTable, "no_such_set") }

func TestFailedApplyKeepsPreviousRuleset(t *testing.T) {
	needNft(t)
	ns := newNS(t, "fw")
	fw := newFirewall(t, ns)
	cfg := officeConfig()
	if err := fw.Apply(mustCompile(t, cfg)); err != nil {
		t.Fatal(err)
	}
	before := listRuleset(t, ns)
	gen := generation(t, fw)

	fw.mutate = breakBatch
	for _, edit := range []func(*config.Config){
		func(c *config.Config) { c.Rules[5].Action = config.Drop }, // a diff
		func(c *config.Config) { c.Rules = nil },                   // another diff
	} {
		edit(cfg)
		err := fw.Apply(mustCompile(t, cfg))
		var op *OpError
		if !errors.As(err, &op) || !errors.Is(err, syscall.ENOENT) || !strings.Contains(op.Op, "no_such_set") {
			t.Fatalf("Apply = %v, want the injected ENOENT", err)
		}
		if d := cmp.Diff(before, listRuleset(t, ns)); d != "" {
			t.Fatalf("ruleset changed by a failed apply (-before +after):\n%s", d)
		}
		if g := generation(t, fw); g != gen {
			t.Errorf("a failed apply moved the generation from %d to %d", gen, g)
		}
	}

	fw.mutate = nil
	rs := mustCompile(t, cfg)
	if err := fw.Apply(rs); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(fresh(t, rs), listRuleset(t, ns)); d != "" {
		t.Errorf("apply after the failures (-want +got):\n%s", d)
	}
}

func TestFailedFirstApplyLeavesNothing(t *testing.T) {
	needNft(t)
	ns := newNS(t, "fw")
	fw := newFirewall(t, ns)
	fw.mutate = breakBatch
	if err := fw.Apply(mustCompile(t, officeConfig())); err == nil {
		t.Fatal("Apply succeeded")
	}
	if got, err := ns.Output("nft", "list", "ruleset"); err != nil || got != "" {
		t.Errorf("ruleset after a failed first apply: %q, %v", got, err)
	}
}

// TestDiffPlan checks, without a kernel, that changing rules plans a small
// batch and that an unchanged ruleset plans nothing.
func TestDiffPlan(t *testing.T) {
	a := mustCompile(t, officeConfig())
	if plans, ok := diff(a, mustCompile(t, officeConfig())); !ok || len(plans) != 0 {
		t.Errorf("same config: plans %v, ok %v", plans, ok)
	}
	cfg := officeConfig()
	cfg.Rules[5].To.Ports = ports(5353)
	cfg.Rules[4].Action = config.Drop
	plans, ok := diff(a, mustCompile(t, cfg))
	if !ok {
		t.Fatal("a one-rule change needs a full replace")
	}
	b, err := build(plans)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{
		"delete 1 elements of forward_4", "delete 1 elements of forward_5",
		"add 1 elements of forward_4", "add 1 elements of forward_5",
	}, b.what); d != "" {
		t.Errorf("batch (-want +got):\n%s", d)
	}
}

// TestCounters sends packets from a client namespace to the firewall's own
// address and reads the counters back.
func TestCounters(t *testing.T) {
	needRoot(t)
	fwNS := newNS(t, "fw")
	client := newNS(t, "cl")
	link(t, fwNS, client, "10.0.0.1/24", "10.0.0.2/24")

	cfg := &config.Config{
		SchemaVersion: 1,
		Interfaces:    ifaces("lan", "veth0"),
		Aliases:       map[string]*config.Alias{"clients": {Addresses: pfx("10.0.0.2")}},
		Rules: []*config.Rule{
			{Comment: "web", Chain: config.Input, From: config.Endpoint{Interface: "lan"}, To: config.Endpoint{Ports: ports(8080)}, Protocol: config.TCP, Action: config.Accept},
			{Comment: "syslog", Chain: config.Input, From: config.Endpoint{Alias: "clients"}, To: config.Endpoint{Ports: ports(9999)}, Protocol: config.UDP, Action: config.Accept},
			{Comment: "quiet", Chain: config.Input, To: config.Endpoint{Ports: ports(8081)}, Protocol: config.TCP, Action: config.Drop},
		},
	}
	fw := newFirewall(t, fwNS)
	if err := fw.Apply(mustCompile(t, cfg)); err != nil {
		t.Fatal(err)
	}
	// One SYN (refused), three datagrams (each new: nothing answers), one
	// SYN that is dropped (the dial gives up before a retransmission).
	if err := client.Do(func() error {
		dialTCP("10.0.0.1:8080")
		dialTCP("10.0.0.1:8081")
		return sendUDP("10.0.0.1:9999", 3, 12)
	}); err != nil {
		t.Fatal(err)
	}
	got, err := fw.Counters()
	if err != nil {
		t.Fatal(err)
	}
	want := []RuleCounter{
		{Kind: KindRule, Index: 0, Comment: "web", Packets: 1, Bytes: 60},
		{Kind: KindRule, Index: 1, Comment: "syslog", Packets: 3, Bytes: 3 * (20 + 8 + 12)},
		{Kind: KindRule, Index: 2, Comment: "quiet", Packets: 1, Bytes: 60},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("counters (-want +got):\n%s", d)
	}
}

// link connects two namespaces with a veth pair, veth0 on each side.
func link(t *testing.T, a, b *netns.NS, addrA, addrB string) {
	t.Helper()
	for _, args := range [][]string{
		{"ip", "link", "add", "veth0", "type", "veth", "peer", "name", "veth1", "netns", b.Name},
		{"ip", "addr", "add", addrA, "dev", "veth0"},
		{"ip", "link", "set", "veth0", "up"},
	} {
		if err := a.Run(args[0], args[1:]...); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{
		{"ip", "link", "set", "veth1", "name", "veth0"},
		{"ip", "addr", "add", addrB, "dev", "veth0"},
		{"ip", "link", "set", "veth0", "up"},
	} {
		if err := b.Run(args[0], args[1:]...); err != nil {
			t.Fatal(err)
		}
	}
}

// TestLargeSegmentKernel loads a segment split into hash and interval maps,
// checks it against nft -f of String(), and changes one rule of each kind
// through the differential path.
func TestLargeSegmentKernel(t *testing.T) {
	needNft(t)
	cfg, _ := largeMixedConfig(rand.New(rand.NewPCG(5, 6)), 3000)
	rs := mustCompile(t, cfg)
	file := filepath.Join(t.TempDir(), "large.nft")
	if err := os.WriteFile(file, []byte(rs.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	ref := newNS(t, "nft")
	nftLoad(t, ref, file)
	ns := newNS(t, "fw")
	fw := newFirewall(t, ns)
	if err := fw.Apply(rs); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(listRuleset(t, ref), listRuleset(t, ns)); d != "" {
		t.Fatalf("nft -f String() vs Apply (-nft +ours):\n%s", d)
	}
	cfg.Rules[2].To.Ports = []config.PortRange{{From: 1000, To: 1999}} // a pipapo map
	cfg.Rules[3].Action = config.Reject                                // a hash map
	rs = mustCompile(t, cfg)
	if err := fw.Apply(rs); err != nil {
		t.Fatal(err)
	}
	if fw.last.full || fw.last.messages > 8 {
		t.Errorf("change sent %+v", fw.last)
	}
	if d := cmp.Diff(fresh(t, rs), listRuleset(t, ns)); d != "" {
		t.Errorf("after the change (-fresh +diff):\n%s", d)
	}
}
