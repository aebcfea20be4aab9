package ctnl

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"rampart/internal/nstest"
	"testing"
	"time"
)

// conntrackOnLoopback makes the namespace track its own connections:
// conntrack hooks in only for a ruleset that uses it.
const conntrackOnLoopback = `
table inet t {
	chain out { type filter hook output priority 0; ct state new accept; }
}
`

func listenNS(t *testing.T, cfg Config, fd int) *Listener {
	t.Helper()
	cfg.NetNS = fd
	ln, err := Listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// TestKernelEvents makes a TCP connection over loopback, deletes its entry
// and checks that NEW, UPDATE (to ESTABLISHED) and DESTROY arrive decoded.
func TestKernelEvents(t *testing.T) {
	l := nstest.New(t)
	ns := l.NS("ev")
	nstest.Nft(t, ns, conntrackOnLoopback)
	c := dialNS(t, ns, Config{})
	ln := listenNS(t, Config{}, ns.Fd())

	var local, remote netip.AddrPort
	err := ns.Do(func() error {
		srv, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer srv.Close()
		cl, err := net.Dial("tcp4", srv.Addr().String())
		if err != nil {
			return err
		}
		defer cl.Close()
		conn, err := srv.Accept()
		if err != nil {
			return err
		}
		defer conn.Close()
		local = cl.LocalAddr().(*net.TCPAddr).AddrPort()
		remote = cl.RemoteAddr().(*net.TCPAddr).AddrPort()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	orig := Tuple{Src: local.Addr(), Dst: remote.Addr(), Proto: protoTCP, SrcPort: local.Port(), DstPort: remote.Port()}
	if err := ln.SetReadDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}

	seen := map[EventType]bool{}
	established := false
	deleted := false
	for i := 0; i < 1000 && !seen[EventDestroy]; i++ {
		evs, err := ln.Receive()
		if err != nil {
			t.Fatalf("Receive after %v: %v", seen, err)
		}
		for _, ev := range evs {
			if ev.Entry.Orig != orig {
				continue
			}
			seen[ev.Type] = true
			if ev.Type == EventUpdate && ev.Entry.TCP != nil && ev.Entry.TCP.State == TCPStateEstablished {
				established = true
			}
			if ev.Type == EventNew && (ev.Entry.TCP == nil || ev.Entry.Reply != orig.Reverse()) {
				t.Errorf("NEW event entry is incomplete: %+v", ev.Entry)
			}
		}
		if established && !deleted {
			if err := c.Delete(orig, 0); err != nil {
				t.Fatal(err)
			}
			deleted = true
		}
	}
	if !seen[EventNew] || !established || !seen[EventDestroy] {
		t.Errorf("events for %v: %v, an ESTABLISHED update: %v", orig, seen, established)
	}
}

// TestKernelEventsOverrun overflows a small receive buffer with creates
// and checks that the loss is reported as ErrOverrun, once, and that the
// listener goes on working after it.
func TestKernelEventsOverrun(t *testing.T) {
	l := nstest.New(t)
	ns := l.NS("ev")
	c := dialNS(t, ns, Config{})
	ln := listenNS(t, Config{ReadBuffer: 16 << 10}, ns.Fd())

	entries := make([]Entry, 2000)
	for i := range entries {
		entries[i] = udpEntry(i)
	}
	if fails, err := c.Create(entries, CreateOptions{}); err != nil || len(fails) > 0 {
		t.Fatalf("Create: %d failures, error %v", len(fails), err)
	}
	if err := ln.SetReadDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatal(err)
	}
	_, err := ln.Receive()
	if !errors.Is(err, ErrOverrun) {
		t.Fatalf("first Receive: got %v, want ErrOverrun", err)
	}
	got := 0
	for i := 0; i < len(entries); i++ {
		evs, err := ln.Receive()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatalf("Receive after the overrun: %v", err)
		}
		got += len(evs)
		if got > 0 {
			break
		}
	}
	if got == 0 {
		t.Errorf("no events after the overrun")
	}
}
