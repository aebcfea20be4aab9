package statesync

import (
	"bytes"
	"testing"
)

// Crashers and odd inputs the fuzzer finds stay here as seeds: they run
// with every plain `go test`.

// FuzzParseFrame checks that the frame encoding is canonical: whatever
// parses re-encodes to the same bytes, and parses again to the same
// frame.
func FuzzParseFrame(f *testing.F) {
	for _, fr := range sampleFrames() {
		b, err := AppendFrame(nil, &fr)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0, 0, 0, 1, 16})
	f.Add([]byte{0, 0, 0, 13, 18, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := ParseFrame(b, nil)
		if err != nil {
			return
		}
		out, err := AppendFrame(nil, &fr)
		if err != nil {
			t.Fatalf("parsed frame does not encode: %v\n%+v", err, fr)
		}
		if !bytes.Equal(out, b) {
			t.Fatalf("re-encoding differs:\nin  %x\nout %x", b, out)
		}
		again, err := ParseFrame(out, nil)
		if err != nil {
			t.Fatal(err)
		}
		if d := diff(fr, again); d != "" {
			t.Fatalf("second parse (-first +second):\n%s", d)
		}
	})
}
