package store

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParse feeds hostile version files to the parser: it must never panic,
// and whatever it accepts must encode and parse back to the same thing.
// Each input is tried as is and with a correct first line, so the fuzzer
// reaches the header fields past the checksum. Crashers found here stay in
// testdata/fuzz/FuzzParse and in TestParseRejects.
func FuzzParse(f *testing.F) {
	h := testHeader()
	f.Add(encode(h, []byte("hostname: fw1\n")))
	f.Add(encode(h, nil))
	h.Replaces = hashOf([]byte("x"))
	f.Add(encode(h, []byte("\n\n# length: 3\n\n")))
	f.Add([]byte(magic + "\n\n"))
	f.Add([]byte{})
	// Year 0 an hour east of UTC is year -1 in UTC, which does not parse.
	f.Add(bytes.Replace(encode(h, nil), []byte("2026-03-01T12:00:00Z"), []byte("0000-01-01T00:00:00+01:00"), 1))
	f.Fuzz(func(t *testing.T, file []byte) {
		checkParse(t, file)
		_, rest, _ := bytes.Cut(file, []byte{'\n'})
		checkParse(t, append([]byte(magic+hashOf(rest)+"\n"), rest...))
	})
}

func checkParse(t *testing.T, file []byte) {
	h, body, err := parse(file)
	if err != nil {
		return
	}
	if int64(len(body)) != h.Length {
		t.Fatalf("body is %d bytes, header says %d", len(body), h.Length)
	}
	h2, body2, err := parse(encode(h, body))
	if err != nil {
		t.Fatalf("parse(encode(parse(file))): %v", err)
	}
	if !h2.Time.Equal(h.Time) {
		t.Errorf("time %v, want %v", h2.Time, h.Time)
	}
	h.Time = h2.Time
	if diff := cmp.Diff(h, h2); diff != "" {
		t.Errorf("header after round trip (-want +got):\n%s", diff)
	}
	if !bytes.Equal(body, body2) {
		t.Errorf("body changed in round trip")
	}
}
