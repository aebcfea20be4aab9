// Command ruleset benchmarks the firewall's apply path against nft: it
// compiles a config of 10,000 rules and a 100,000-element address alias,
// applies it into fresh network namespaces, loads the same ruleset dumped
// by `nft list ruleset` with `nft -f` into others, and applies a one-rule
// change on top through the normal (differential) apply path.
//
// It needs root and the nft binary, and removes its namespaces on exit.
// The last line it prints is
//
//	RESULT rules=10000 elements=100000 apply_ms=… nft_ms=… ratio=… change_ms=…
//
// with ratio = apply_ms / nft_ms, each figure the median of several runs.
package main

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"time"

	"rampart/config"
	"rampart/firewall"
	"rampart/internal/netns"
)

func main() {
	rules := flag.Int("rules", 10000, "filter rules in the config")
	elements := flag.Int("elements", 100000, "addresses in the blocklist alias")
	runs := flag.Int("runs", 5, "runs per measurement (the median is reported)")
	flag.Parse()
	if err := run(*rules, *elements, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "bench-ruleset:", err)
		os.Exit(1)
	}
}

func run(nRules, nElems, runs int) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("needs root")
	}
	prefix := netns.NewPrefix()
	defer netns.Sweep(prefix)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		if ctx.Err() != nil {
			_ = netns.Sweep(prefix)
		}
	}()

	cfg := benchConfig(nRules, nElems)
	t0 := time.Now()
	rs, err := firewall.Compile(cfg)
	if err != nil {
		return err
	}
	fmt.Printf("compile: %d rules, %d set elements in %.1f ms\n", len(cfg.Rules), rs.Elements(), ms(time.Since(t0)))

	// A first apply, not timed, gives the dump nft loads and the
	// Firewall the one-rule changes go through.
	ns, err := netns.New(prefix + "-w")
	if err != nil {
		return err
	}
	fw, err := firewall.New(firewall.Options{NetNSFd: ns.Fd()})
	if err != nil {
		return err
	}
	defer fw.Close()
	if err := fw.Apply(rs); err != nil {
		return err
	}
	dump, err := ns.Output("nft", "list", "ruleset")
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "bench-ruleset")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "ruleset.nft")
	if err := os.WriteFile(file, []byte(dump), 0o644); err != nil {
		return err
	}

	// Ours and nft's loads alternate, each into a fresh namespace; the
	// namespaces live until the end, so that no teardown runs meanwhile.
	var applyMs, nftMs, changeMs []float64
	for i := range runs {
		d, err := timeApply(fmt.Sprintf("%s-a%d", prefix, i), rs)
		if err != nil {
			return err
		}
		applyMs = append(applyMs, d)
		if d, err = timeNft(fmt.Sprintf("%s-n%d", prefix, i), file); err != nil {
			return err
		}
		nftMs = append(nftMs, d)
	}
	fmt.Printf("apply (full, fresh namespace): %v ms\n", applyMs)
	fmt.Printf("nft -f of our dump (%d bytes, fresh namespace): %v ms\n", len(dump), nftMs)

	// A one-rule change: flip the action of a rule in the middle, and
	// back, each time through Apply's normal path.
	target := cfg.Rules[len(cfg.Rules)/2]
	for range runs * 2 {
		if target.Action == config.Accept {
			target.Action = config.Drop
		} else {
			target.Action = config.Accept
		}
		next, err := firewall.Compile(cfg)
		if err != nil {
			return err
		}
		t := time.Now()
		if err := fw.Apply(next); err != nil {
			return err
		}
		changeMs = append(changeMs, ms(time.Since(t)))
	}
	fmt.Printf("apply one-rule change: %v ms\n", changeMs)

	a, n, c := median(applyMs), median(nftMs), median(changeMs)
	fmt.Printf("RESULT rules=%d elements=%d apply_ms=%.1f nft_ms=%.1f ratio=%.2f change_ms=%.2f\n",
		len(cfg.Rules), nElems, a, n, a/n, c)
	return nil
}

// benchConfig is a realistic large policy: a blocklist alias dropped
// first, then rules from distinct source /24s to service ports, accept and
// drop mixed.
func benchConfig(nRules, nElems int) *config.Config {
	block := make([]netip.Prefix, nElems)
	base := binary.BigEndian.Uint32(netip.MustParseAddr("100.64.0.0").AsSlice())
	for i := range nElems {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], base+uint32(i*3)) // spread: no two adjacent
		a := netip.AddrFrom4(b)
		block[i] = netip.PrefixFrom(a, 32)
	}
	cfg := &config.Config{
		SchemaVersion: 1,
		Interfaces: map[string]*config.Interface{
			"lan": {Device: "eth1"},
			"wan": {Device: "eth0"},
		},
		Aliases: map[string]*config.Alias{
			"blocklist": {Addresses: block, Comment: "generated"},
		},
		Management: config.Management{Interfaces: []string{"lan"}},
		Rules: []*config.Rule{
			{Comment: "blocklist", From: config.Endpoint{Alias: "blocklist"}, Action: config.Drop},
		},
	}
	servicePorts := []uint16{22, 25, 53, 80, 110, 143, 443, 465, 587, 993, 995, 3306, 5432, 8080, 8443}
	for i := 1; i < nRules; i++ {
		src := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24)
		p := servicePorts[i%len(servicePorts)]
		action := config.Accept
		if i%3 == 0 {
			action = config.Drop
		}
		proto := config.TCP
		if p == 53 {
			proto = config.UDP
		}
		cfg.Rules = append(cfg.Rules, &config.Rule{
			Comment:  fmt.Sprintf("generated %d", i),
			From:     config.Endpoint{Addresses: []netip.Prefix{src}},
			To:       config.Endpoint{Ports: []config.PortRange{{From: p, To: p}}},
			Protocol: proto,
			Action:   action,
		})
	}
	return cfg
}

// timeApply applies rs into a new namespace through a new Firewall.
func timeApply(name string, rs *firewall.Ruleset) (float64, error) {
	ns, err := netns.New(name)
	if err != nil {
		return 0, err
	}
	fw, err := firewall.New(firewall.Options{NetNSFd: ns.Fd()})
	if err != nil {
		return 0, err
	}
	defer fw.Close()
	t := time.Now()
	if err := fw.Apply(rs); err != nil {
		return 0, err
	}
	return ms(time.Since(t)), nil
}

// timeNft loads file with nft -f into a new namespace.
func timeNft(name, file string) (float64, error) {
	ns, err := netns.New(name)
	if err != nil {
		return 0, err
	}
	t := time.Now()
	if err := ns.Run("nft", "-f", file); err != nil {
		return 0, err
	}
	return ms(time.Since(t)), nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
