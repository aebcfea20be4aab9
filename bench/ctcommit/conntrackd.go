package main

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"rampart/bench/internal/conntrackd"
	"rampart/statesync/ctnl"
)

func netipAddr(a, b, c, d byte) netip.Addr { return netip.AddrFrom4([4]byte{a, b, c, d}) }

type conntrackdResult struct {
	reported, wall time.Duration
	committed      int
}

// commitConntrackd fills conntrackd B's external cache from conntrackd A
// and times B's commit into its empty kernel table.
func commitConntrackd(name string, entries []ctnl.Entry) (conntrackdResult, error) {
	var r conntrackdResult
	a, err := newNS(name + "a")
	if err != nil {
		return r, err
	}
	defer a.Close()
	b, err := newNS(name + "b")
	if err != nil {
		return r, err
	}
	defer b.Close()
	for _, cmd := range []string{
		"ip link add sync0 type veth peer name sync0 netns " + b.Name,
		"ip addr add 192.168.213.1/24 dev sync0",
		"ip link set sync0 up",
	} {
		f := strings.Fields(cmd)
		if err := a.Run(f[0], f[1:]...); err != nil {
			return r, err
		}
	}
	for _, cmd := range []string{"ip addr add 192.168.213.2/24 dev sync0", "ip link set sync0 up"} {
		f := strings.Fields(cmd)
		if err := b.Run(f[0], f[1:]...); err != nil {
			return r, err
		}
	}
	ca, err := ctnl.Dial(ctnl.Config{NetNS: a.Fd()})
	if err != nil {
		return r, err
	}
	defer ca.Close()
	defer ca.Flush()
	if fails, err := ca.Create(entries, ctnl.CreateOptions{}); err != nil || len(fails) > 0 {
		return r, fmt.Errorf("fill A: %d refused, %v", len(fails), err)
	}

	dir, err := os.MkdirTemp("", "ctcommit-conntrackd")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	da, err := conntrackd.Start(a, filepath.Join(dir, "a"), "sync0", "192.168.213.1", "192.168.213.2")
	if err != nil {
		return r, err
	}
	defer da.Stop()
	db, err := conntrackd.Start(b, filepath.Join(dir, "b"), "sync0", "192.168.213.2", "192.168.213.1")
	if err != nil {
		return r, err
	}
	defer db.Stop()
	if n, err := da.WaitCount("internal", len(entries), 200*time.Millisecond, 20); err != nil || n < len(entries) {
		return r, fmt.Errorf("A's internal cache holds %d of %d: %v", n, len(entries), err)
	}
	if _, err := da.Client("-B"); err != nil {
		return r, err
	}
	n, err := db.WaitCount("external", len(entries), 200*time.Millisecond, 20)
	if err != nil {
		return r, err
	}
	if n < len(entries) {
		fmt.Printf("conntrackd: B's external cache got %d of %d entries; extrapolating\n", n, len(entries))
	}
	start := time.Now()
	if _, err := db.Client("-c"); err != nil {
		return r, err
	}
	r.wall = time.Since(start)
	if r.reported, r.committed, err = db.Reported(); err != nil {
		return r, err
	}
	cb, err := ctnl.Dial(ctnl.Config{NetNS: b.Fd()})
	if err != nil {
		return r, err
	}
	defer cb.Close()
	defer cb.Flush()
	got, err := cb.Dump()
	if err != nil {
		return r, err
	}
	if len(got) != r.committed {
		fmt.Printf("conntrackd: log says %d committed, kernel holds %d\n", r.committed, len(got))
	}
	return r, nil
}
