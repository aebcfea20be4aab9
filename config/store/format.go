package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Limits on untrusted files, so a hostile stick cannot make us read or keep
// unbounded data.
const (
	// MaxConfigSize bounds a config body and rampart.yaml.
	MaxConfigSize = 8 << 20
	// MaxMetaSize bounds each Meta field; they are one-line notes.
	MaxMetaSize = 1024
	// maxHeaderSize bounds the header; quoting can expand a field up to 10x.
	maxHeaderSize = 64 << 10
	maxFileSize   = MaxConfigSize + maxHeaderSize
)

// magic starts every version file and names its format version.
const magic = "# rampart-store-v1 sha256="

// noHash marks a "replaces" field when there was no rampart.yaml.
const noHash = "none"

// ErrCorrupt marks a version file that is torn, tampered with or not ours.
var ErrCorrupt = errors.New("corrupt version file")

// header is everything a version file says about its body.
type header struct {
	ID       uint64
	Time     time.Time
	Meta     Meta
	Replaces string // hex sha256 of rampart.yaml before the save, or noHash
	Length   int64
}

// encode renders a version file. The caller has checked the meta sizes.
func encode(h header, body []byte) []byte {
	var rest bytes.Buffer
	fmt.Fprintf(&rest, "# id: %d\n", h.ID)
	fmt.Fprintf(&rest, "# time: %s\n", h.Time.UTC().Format(time.RFC3339Nano))
	fmt.Fprintf(&rest, "# author: %s\n", strconv.Quote(h.Meta.Author))
	fmt.Fprintf(&rest, "# source: %s\n", strconv.Quote(h.Meta.Source))
	fmt.Fprintf(&rest, "# message: %s\n", strconv.Quote(h.Meta.Message))
	fmt.Fprintf(&rest, "# replaces: %s\n", h.Replaces)
	fmt.Fprintf(&rest, "# length: %d\n\n", len(body))
	rest.Write(body)
	sum := sha256.Sum256(rest.Bytes())
	out := make([]byte, 0, len(magic)+65+rest.Len())
	out = append(out, magic...)
	out = hex.AppendEncode(out, sum[:])
	out = append(out, '\n')
	return append(out, rest.Bytes()...)
}

// parse checks and splits a version file. Every error wraps ErrCorrupt.
func parse(file []byte) (header, []byte, error) {
	h, body, err := parseUnchecked(file)
	if err != nil {
		return header{}, nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return h, body, nil
}

func parseUnchecked(file []byte) (header, []byte, error) {
	var h header
	first, rest, ok := bytes.Cut(file, []byte{'\n'})
	if !ok || !bytes.HasPrefix(first, []byte(magic)) {
		return h, nil, errors.New("no rampart-store-v1 first line")
	}
	want, err := parseHash(string(first[len(magic):]))
	if err != nil {
		return h, nil, fmt.Errorf("first line: %v", err)
	}
	end := bytes.Index(rest, []byte("\n\n"))
	if end < 0 || end > maxHeaderSize {
		return h, nil, errors.New("header not terminated by an empty line")
	}
	if err := parseFields(&h, string(rest[:end+1])); err != nil {
		return h, nil, err
	}
	body := rest[end+2:]
	if int64(len(body)) != h.Length {
		return h, nil, fmt.Errorf("length %d, found %d bytes (torn write?)", h.Length, len(body))
	}
	if sum := sha256.Sum256(rest); hex.EncodeToString(sum[:]) != want {
		return h, nil, errors.New("sha256 mismatch")
	}
	return h, body, nil
}

// fieldNames lists the header keys in the only order accepted.
var fieldNames = [...]string{"id", "time", "author", "source", "message", "replaces", "length"}

func parseFields(h *header, text string) error {
	lines := strings.SplitAfter(text, "\n")
	lines = lines[:len(lines)-1] // text ends in '\n': drop the empty tail
	if len(lines) != len(fieldNames) {
		return fmt.Errorf("header has %d lines, want %d", len(lines), len(fieldNames))
	}
	for i, name := range fieldNames {
		value, ok := strings.CutPrefix(lines[i], "# "+name+": ")
		if !ok {
			return fmt.Errorf("header line %d: want %q", i+2, name)
		}
		if err := h.set(name, strings.TrimSuffix(value, "\n")); err != nil {
			return fmt.Errorf("header %s: %v", name, err)
		}
	}
	return nil
}

func (h *header) set(name, value string) error {
	var err error
	switch name {
	case "id":
		h.ID, err = parseID(value)
	case "time":
		h.Time, err = parseTime(value)
	case "author":
		h.Meta.Author, err = parseQuoted(value)
	case "source":
		h.Meta.Source, err = parseQuoted(value)
	case "message":
		h.Meta.Message, err = parseQuoted(value)
	case "replaces":
		h.Replaces = noHash
		if value != noHash {
			h.Replaces, err = parseHash(value)
		}
	case "length":
		h.Length, err = strconv.ParseInt(value, 10, 64)
		if err == nil && (h.Length < 0 || h.Length > MaxConfigSize) {
			err = fmt.Errorf("%d out of range", h.Length)
		}
	}
	return err
}

// parseID accepts only plain decimal digits, no sign, no leading zeros.
func parseID(s string) (uint64, error) {
	id, err := strconv.ParseUint(s, 10, 64)
	if err != nil || id == 0 || strconv.FormatUint(id, 10) != s {
		return 0, fmt.Errorf("bad id %q", s)
	}
	return id, nil
}

func parseQuoted(s string) (string, error) {
	if !strings.HasPrefix(s, `"`) {
		return "", errors.New("not a double-quoted string")
	}
	v, err := strconv.Unquote(s)
	if err != nil {
		return "", err
	}
	if len(v) > MaxMetaSize {
		return "", fmt.Errorf("longer than %d bytes", MaxMetaSize)
	}
	return v, nil
}

// parseTime accepts only UTC, the form encode writes: an offset could move
// year 0 to year -1, which RFC 3339 cannot write back.
func parseTime(s string) (time.Time, error) {
	if !strings.HasSuffix(s, "Z") {
		return time.Time{}, fmt.Errorf("%q is not UTC", s)
	}
	return time.Parse(time.RFC3339Nano, s)
}

// parseHash accepts 64 lowercase hex digits, the only form encode writes.
func parseHash(s string) (string, error) {
	if len(s) != 2*sha256.Size || strings.Trim(s, "0123456789abcdef") != "" {
		return "", fmt.Errorf("bad sha256 %q", s)
	}
	return s, nil
}

// hashOf is the hex sha256 used in Version.SHA256 and "replaces".
func hashOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
