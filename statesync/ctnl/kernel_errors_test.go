package ctnl

import (
	"errors"
	"fmt"
	"net/netip"
	"rampart/internal/nstest"
	"syscall"
	"testing"
)

// udpEntry is a plain UDP entry numbered i, for tests that need many.
func udpEntry(i int) Entry {
	src := netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)})
	dst := netip.AddrFrom4([4]byte{10, 2, 0, 1})
	o := Tuple{Src: src, Dst: dst, Proto: protoUDP, SrcPort: 1024 + uint16(i%50000), DstPort: 53}
	return Entry{Orig: o, Reply: o.Reverse(), Status: StatusConfirmed, Timeout: 120}
}

func reasons(fails []Failure) []string {
	var out []string
	for _, f := range fails {
		out = append(out, fmt.Sprintf("%d: %v", f.Index, f.Err))
	}
	return out
}

// TestKernelCreateErrors sends one batch mixing good entries with entries
// the kernel refuses, in batches of 2 so that failures fall first, last
// and alone in a batch, and checks that each refusal comes back on its
// own entry with the kernel's reason.
func TestKernelCreateErrors(t *testing.T) {
	l := nstest.New(t)
	ns := l.NS("fw")
	nstest.Nft(t, ns, natRuleset)
	c := dialNS(t, ns, Config{BatchSize: 2})

	existing := udpEntry(1)
	if fails, err := c.Create([]Entry{existing}, CreateOptions{}); err != nil || len(fails) > 0 {
		t.Fatalf("first create: %v %v", fails, err)
	}
	noTimeout := udpEntry(3)
	noTimeout.Timeout = 0
	badState := sampleEntries()["tcp4 plain"]
	badState.TCP = &TCPInfo{State: 42}
	mixed := udpEntry(5)
	mixed.DNAT = &NAT{Addr: netip.MustParseAddr("fd00::1"), Port: 53}
	batch := []Entry{
		udpEntry(2), // 0 ok
		existing,    // 1 EEXIST
		noTimeout,   // 2 EINVAL
		udpEntry(4), // 3 ok
		mixed,       // 4 refused before the kernel
		badState,    // 5 ERANGE: no such TCP state
		udpEntry(6), // 6 ok
		existing,    // 7 EEXIST, alone in the last batch
	}
	fails, err := c.Create(batch, CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"1: file exists",
		"2: invalid argument",
		"4: invalid entry: address fd00::1 does not match the original source's family",
		"5: numerical result out of range",
		"7: file exists",
	}
	if d := diff(want, reasons(fails)); d != "" {
		t.Errorf("failures (-want +got):\n%s", d)
	}
	for _, f := range fails {
		if f.Index == 1 && !errors.Is(f, syscall.EEXIST) {
			t.Errorf("failure %v does not wrap EEXIST", f)
		}
		if f.Index == 4 && !errors.Is(f, ErrInvalidEntry) {
			t.Errorf("failure %v does not wrap ErrInvalidEntry", f)
		}
	}
	dumped, err := c.Dump()
	if err != nil {
		t.Fatal(err)
	}
	if len(dumped) != 4 {
		t.Errorf("dump has %d entries, want 4 (1 before, 3 from the batch)", len(dumped))
	}

	if err := c.Delete(udpEntry(99).Orig, 0); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("Delete of a missing entry: got %v, want ENOENT", err)
	}
}

// TestKernelReplace re-creates entries that exist: without NAT they are
// updated in place, with NAT (which the kernel will not update) deleted
// and created again; both end up as sent.
func TestKernelReplace(t *testing.T) {
	l := nstest.New(t)
	ns := l.NS("fw")
	nstest.Nft(t, ns, natRuleset)
	c := dialNS(t, ns, Config{})
	s := sampleEntries()
	entries := []Entry{s["tcp4 plain"], s["tcp4 dnat+masquerade"], s["udp6 snat"]}
	if fails, err := c.Create(entries, CreateOptions{}); err != nil || len(fails) > 0 {
		t.Fatalf("first create: %v %v", fails, err)
	}
	for i := range entries {
		entries[i].Mark = 0x77
		entries[i].Timeout = 1000
	}
	fails, err := c.Create(entries, CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d := diff([]string{"0: file exists", "1: file exists", "2: file exists"}, reasons(fails)); d != "" {
		t.Errorf("create without Replace (-want +got):\n%s", d)
	}
	if fails, err := c.Create(entries, CreateOptions{Replace: true}); err != nil || len(fails) > 0 {
		t.Fatalf("create with Replace: %v %v", fails, err)
	}
	dumped, err := c.Dump()
	if err != nil {
		t.Fatal(err)
	}
	if len(dumped) != len(entries) {
		t.Fatalf("dump has %d entries, want %d", len(dumped), len(entries))
	}
	for _, e := range dumped {
		if e.Mark != 0x77 || e.Timeout <= 300 {
			t.Errorf("%s: mark %#x timeout %d, want the replaced 0x77 and about 1000", tupleKey(e.Orig), e.Mark, e.Timeout)
		}
	}
}

// TestKernelBatches commits thousands of entries, one in seven already
// there, with the default batch size: every failure must map back to
// exactly its entry across batch boundaries.
func TestKernelBatches(t *testing.T) {
	l := nstest.New(t)
	ns := l.NS("fw")
	c := dialNS(t, ns, Config{})
	const n = 5000
	var pre []Entry
	for i := 0; i < n; i += 7 {
		pre = append(pre, udpEntry(i))
	}
	if fails, err := c.Create(pre, CreateOptions{}); err != nil || len(fails) > 0 {
		t.Fatalf("pre-create: %d failures, error %v", len(fails), err)
	}
	all := make([]Entry, n)
	for i := range all {
		all[i] = udpEntry(i)
	}
	fails, err := c.Create(all, CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var want, got []int
	for i := 0; i < n; i += 7 {
		want = append(want, i)
	}
	for _, f := range fails {
		if !errors.Is(f.Err, syscall.EEXIST) {
			t.Errorf("entry %d: %v, want EEXIST", f.Index, f.Err)
		}
		got = append(got, f.Index)
	}
	if d := diff(want, got); d != "" {
		t.Errorf("failed entries (-want +got):\n%s", d)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if left, err := c.Dump(); err != nil || len(left) != 0 {
		t.Errorf("after Flush: %d entries, error %v", len(left), err)
	}
}
