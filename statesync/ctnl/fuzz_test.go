package ctnl

import (
	"bytes"
	"testing"
)

// Crashers and odd inputs the fuzzers found stay here as seeds: they run
// with every plain `go test`.

// FuzzUnmarshalEntry checks that the wire encoding is canonical: whatever
// decodes re-encodes to the same bytes.
func FuzzUnmarshalEntry(f *testing.F) {
	for _, e := range sampleEntries() {
		b, err := e.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{1, 0x1f})
	f.Add([]byte{WireVersion, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, n, err := UnmarshalEntry(b)
		if err != nil {
			return
		}
		out, err := e.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded entry does not encode: %v\n%+v", err, e)
		}
		if !bytes.Equal(out, b[:n]) {
			t.Fatalf("re-encoding differs:\nin  %x\nout %x", b[:n], out)
		}
	})
}

// FuzzParseEntry checks that a ctnetlink payload that decodes is an entry
// the rest of the package can use: it validates, it encodes for the peer
// and for the kernel, and rendered the way the kernel dumps it, it parses
// back to itself.
func FuzzParseEntry(f *testing.F) {
	f.Add(mustHex(f, kernelDumpMasq))
	f.Add(mustHex(f, kernelDumpICMPv6))
	for _, e := range sampleEntries() {
		f.Add(dumpPayload(e))
		b, err := appendCreate(nil, &e, CreateOptions{Liberal: true})
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		e, err := ParseEntry(payload)
		if err != nil {
			return
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("parsed entry does not validate: %v", err)
		}
		if _, err := appendCreate(nil, &e, CreateOptions{}); err != nil {
			t.Fatalf("parsed entry does not encode a create: %v", err)
		}
		w, err := e.MarshalBinary()
		if err != nil {
			t.Fatalf("parsed entry does not marshal: %v", err)
		}
		var back Entry
		if err := back.UnmarshalBinary(w); err != nil {
			t.Fatalf("unmarshal: %v", err)
		}
		if d := diff(e, back); d != "" {
			t.Fatalf("wire round trip (-want +got):\n%s", d)
		}
		again, err := ParseEntry(dumpPayload(e))
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if d := diff(e, again); d != "" {
			t.Fatalf("parse, render, parse (-want +got):\n%s", d)
		}
	})
}

// FuzzReceive feeds whole datagrams to the receive path: splitting, acks
// and events must never panic.
func FuzzReceive(f *testing.F) {
	f.Add(errorMsg(3, 17, "entry exists"))
	f.Add(appendNlmsg(nil, msgType(ipctnlMsgCtNew), nlmFCreate|nlmFExcl, 0, mustHex(f, kernelDumpMasq)))
	f.Add(appendNlmsg(nil, nlmsgDone, nlmFMulti, 1, []byte{0, 0, 0, 0}))
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, _ := splitMessages(b)
		for _, m := range msgs {
			if m.typ == nlmsgError {
				_ = ackError(m)
			}
		}
		_, _ = parseEvents(msgs)
	})
}
