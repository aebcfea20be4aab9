// Package audit records who changed what on the box, from where, and when:
// one JSON object per line, appended and fsynced. JSON escaping keeps a
// hostile name or summary from forging lines, and the file is bounded by
// rotation so a flood of failed logins cannot fill the stick.
package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
	"unicode/utf8"

	"rampart/internal/atomicfile"
	"rampart/internal/stickrw"
)

// Entry is one audited event.
type Entry struct {
	Time    time.Time         `json:"time"`
	Actor   string            `json:"actor"`  // "admin", "token:backup", or "-" before login
	Peer    string            `json:"peer"`   // the TCP peer address, never a forwarded header
	Action  string            `json:"action"` // dotted verb: login, login.failed, token.create, ...
	Summary string            `json:"summary"`
	Detail  map[string]string `json:"detail,omitempty"` // what changed, field by field
}

// Log records entries. Record must be durable when it returns nil.
type Log interface {
	Record(Entry) error
}

// Field bounds: an entry is evidence, not a place to store uploads.
const (
	maxField   = 256
	maxSummary = 2048
	maxDetail  = 64
)

// Defaults for FileLog.
const (
	DefaultMaxBytes = 1 << 20
	DefaultKeep     = 4
)

// FileLog appends entries to Path, rotating to Path.1 ... Path.Keep once
// Path would grow past MaxBytes. It is safe for concurrent use. It opens
// the file for each entry, so that a stick can be read-only in between.
type FileLog struct {
	// Stick is the stick Path is on, which Record remounts; nil for none.
	Stick *stickrw.Writer

	path     string
	maxBytes int64
	keep     int
	mu       sync.Mutex
}

// NewFileLog returns a FileLog; zero maxBytes and keep take the defaults
// (five files of 1 MiB: years of changes on a firewall).
func NewFileLog(path string, maxBytes int64, keep int) *FileLog {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if keep <= 0 {
		keep = DefaultKeep
	}
	return &FileLog{path: path, maxBytes: maxBytes, keep: keep}
}

// Record appends e as one line and fsyncs it.
func (l *FileLog) Record(e Entry) error {
	line, err := json.Marshal(bound(e))
	if err != nil {
		return fmt.Errorf("audit: encode: %w", err)
	}
	line = append(line, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.Stick.Do(func() error {
		if err := l.rotateFor(int64(len(line))); err != nil {
			return fmt.Errorf("audit: rotate %s: %w", l.path, err)
		}
		if err := appendSync(l.path, line); err != nil {
			return fmt.Errorf("audit: record: %w", err)
		}
		return nil
	})
}

// Recent returns up to n entries, newest last, from the current file only.
func (l *FileLog) Recent(n int) ([]Entry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	data, err := os.ReadFile(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit: read: %w", err)
	}
	var out []Entry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e Entry
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			out = append(out, e)
		}
	}
	return out[max(0, len(out)-n):], nil
}

func (l *FileLog) rotateFor(n int64) error {
	fi, err := os.Stat(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil || fi.Size()+n <= l.maxBytes {
		return err
	}
	for i := l.keep - 1; i >= 1; i-- {
		err := os.Rename(fmt.Sprintf("%s.%d", l.path, i), fmt.Sprintf("%s.%d", l.path, i+1))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return os.Rename(l.path, l.path+".1")
}

func appendSync(path string, line []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(line)
	if err == nil {
		err = f.Sync()
	}
	err = errors.Join(err, f.Close())
	if err == nil {
		err = atomicfile.SyncDir(filepath.Dir(path)) // the create or a rotation
	}
	return err
}

func bound(e Entry) Entry {
	e.Time = e.Time.UTC()
	e.Actor = truncate(e.Actor, maxField)
	e.Peer = truncate(e.Peer, maxField)
	e.Action = truncate(e.Action, maxField)
	e.Summary = truncate(e.Summary, maxSummary)
	if len(e.Detail) > 0 {
		d := make(map[string]string, min(len(e.Detail), maxDetail))
		for k, v := range e.Detail {
			if len(d) == maxDetail {
				d["…"] = fmt.Sprintf("%d more fields", len(e.Detail)-maxDetail)
				break
			}
			d[truncate(k, maxField)] = truncate(v, maxSummary)
		}
		e.Detail = d
	}
	return e
}

// truncate cuts s to at most n bytes on a rune boundary and marks the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
