package store

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var testTime = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func testHeader() header {
	return header{
		ID:       42,
		Time:     testTime,
		Meta:     Meta{Author: "alice", Source: "192.0.2.10", Message: "allow ssh\nfrom lan"},
		Replaces: noHash,
	}
}

func TestEncodeIsReadable(t *testing.T) {
	body := []byte("hostname: fw1\n")
	got := string(encode(testHeader(), body))
	want := "# id: 42\n" +
		"# time: 2026-03-01T12:00:00Z\n" +
		"# author: \"alice\"\n" +
		"# source: \"192.0.2.10\"\n" +
		"# message: \"allow ssh\\nfrom lan\"\n" +
		"# replaces: none\n" +
		"# length: 14\n" +
		"\n" +
		"hostname: fw1\n"
	first, rest, _ := strings.Cut(got, "\n")
	if diff := cmp.Diff(want, rest); diff != "" {
		t.Errorf("encode (-want +got):\n%s", diff)
	}
	if wantFirst := magic + hashOf([]byte(want)); first != wantFirst {
		t.Errorf("first line = %q, want %q (sha256 of the rest)", first, wantFirst)
	}
}

func TestParseRoundTrip(t *testing.T) {
	for _, body := range [][]byte{nil, []byte("a: 1\n"), []byte("\n\nno final newline"), bytes.Repeat([]byte{0, 0xff}, 4096)} {
		h := testHeader()
		h.Replaces = hashOf([]byte("before"))
		h.Meta.Author = "\xff not utf-8 \"quoted\""
		h.Length = int64(len(body))
		gotH, gotBody, err := parse(encode(h, body))
		if err != nil {
			t.Fatalf("parse(encode(%q)): %v", body, err)
		}
		if diff := cmp.Diff(h, gotH); diff != "" {
			t.Errorf("header (-want +got):\n%s", diff)
		}
		if !bytes.Equal(gotBody, body) {
			t.Errorf("body = %q, want %q", gotBody, body)
		}
	}
}

func TestParseRejects(t *testing.T) {
	good := string(encode(testHeader(), []byte("hostname: fw1\n")))
	_, rest, _ := strings.Cut(good, "\n")
	// resum rebuilds a file whose checksum is right, to reach the field checks.
	resum := func(rest string) string { return magic + hashOf([]byte(rest)) + "\n" + rest }
	tests := []struct {
		name, file, reason string
	}{
		{"empty", "", "first line"},
		{"garbage", "hello\nworld\n", "first line"},
		{"short hash", magic + "abc\n" + rest, "bad sha256"},
		{"upper-case hash", strings.ToUpper(good[:len(magic)+64]) + good[len(magic)+64:], "first line"},
		{"truncated in header", good[:len(magic)+100], "not terminated"},
		{"truncated in first line", good[:len(magic)+10], "first line"},
		{"truncated in body", good[:len(good)-3], "torn write"},
		{"extra bytes", good + "x", "found 15 bytes"},
		{"flipped body byte", strings.Replace(good, "fw1", "fw2", 1), "sha256 mismatch"},
		{"flipped header byte", strings.Replace(good, "alice", "mallory", 1), "sha256 mismatch"},
		{"missing field", resum(strings.Replace(rest, "# replaces: none\n", "", 1)), "6 lines"},
		{"fields swapped", resum(strings.Replace(rest, "# id: 42\n# time: 2026-03-01T12:00:00Z",
			"# time: 2026-03-01T12:00:00Z\n# id: 42", 1)), `want "id"`},
		{"id zero", resum(strings.Replace(rest, "id: 42", "id: 0", 1)), "bad id"},
		{"id leading zero", resum(strings.Replace(rest, "id: 42", "id: 042", 1)), "bad id"},
		{"id signed", resum(strings.Replace(rest, "id: 42", "id: +42", 1)), "bad id"},
		{"bad time", resum(strings.Replace(rest, "2026-03-01T12:00:00Z", "yesterday", 1)), "header time"},
		{"time not UTC", resum(strings.Replace(rest, "2026-03-01T12:00:00Z", "2026-03-01T13:00:00+01:00", 1)), "not UTC"},
		{"year 0 east of UTC (fuzz)", resum(strings.Replace(rest, "2026-03-01T12:00:00Z", "0000-01-01T00:00:00+01:00", 1)), "not UTC"},
		{"unquoted author", resum(strings.Replace(rest, `"alice"`, "alice", 1)), "double-quoted"},
		{"raw-quoted author", resum(strings.Replace(rest, `"alice"`, "`alice`", 1)), "double-quoted"},
		{"bad escape", resum(strings.Replace(rest, `"alice"`, `"al\qice"`, 1)), "header author"},
		{"bad replaces", resum(strings.Replace(rest, "replaces: none", "replaces: nope", 1)), "bad sha256"},
		{"negative length", resum(strings.Replace(rest, "length: 14", "length: -1", 1)), "out of range"},
		{"huge length", resum(strings.Replace(rest, "length: 14", "length: 99999999999", 1)), "out of range"},
		{"length not a number", resum(strings.Replace(rest, "length: 14", "length: 0x0e", 1)), "header length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := parse([]byte(tt.file))
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("parse: err = %v, want ErrCorrupt", err)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("parse: err = %q, want it to say %q", err, tt.reason)
			}
		})
	}
}

func TestIDOf(t *testing.T) {
	tests := map[string]uint64{
		"00000001.yaml": 1, "12345678.yaml": 12345678, "123456789.yaml": 123456789,
		"1.yaml": 0, "00000000.yaml": 0, "000000001.yaml": 0, "0000000a.yaml": 0,
		"00000001.yml": 0, "00000001.YAML": 0, "+0000001.yaml": 0, ".rampart-store-tmp-1": 0,
	}
	got := map[string]uint64{}
	for name := range tests {
		id, ok := idOf(name)
		if ok != (id != 0) {
			t.Errorf("idOf(%q) = %d, %v", name, id, ok)
		}
		got[name] = id
	}
	if diff := cmp.Diff(tests, got); diff != "" {
		t.Errorf("idOf (-want +got):\n%s", diff)
	}
}
