package audit

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"rampart/internal/stickrw"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func TestRecordAndRecent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l := NewFileLog(path, 0, 0)
	want := []Entry{
		{Time: t0, Actor: "-", Peer: "192.0.2.9", Action: "login.failed", Summary: "wrong password"},
		{Time: t0.Add(time.Second), Actor: "admin", Peer: "192.0.2.9", Action: "token.create", Summary: "created API token", Detail: map[string]string{"name": "backup"}},
	}
	for _, e := range want {
		if err := l.Record(e); err != nil {
			t.Fatal(err)
		}
	}
	got, err := l.Recent(10)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	data, _ := os.ReadFile(path)
	if n := strings.Count(string(data), "\n"); n != 2 {
		t.Errorf("file has %d lines, want 2", n)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestNoLineInjection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l := NewFileLog(path, 0, 0)
	l.Record(Entry{Time: t0, Actor: "admin\n{\"actor\":\"forged\"}", Action: "x", Summary: "a\r\nb"})
	data, _ := os.ReadFile(path)
	if n := strings.Count(string(data), "\n"); n != 1 {
		t.Errorf("one entry wrote %d lines:\n%s", n, data)
	}
}

func TestBounds(t *testing.T) {
	e := Entry{Actor: strings.Repeat("é", 300), Summary: strings.Repeat("s", 5000), Detail: map[string]string{}}
	for i := range 100 {
		e.Detail[strings.Repeat("k", i+1)] = "v"
	}
	b := bound(e)
	if len(b.Actor) > maxField+len("…") || !strings.HasSuffix(b.Actor, "…") || strings.ContainsRune(b.Actor, '\uFFFD') {
		t.Errorf("actor cut badly: %d bytes", len(b.Actor))
	}
	if len(b.Summary) != maxSummary+len("…") {
		t.Errorf("summary %d bytes, want %d", len(b.Summary), maxSummary+len("…"))
	}
	if len(b.Detail) != maxDetail+1 {
		t.Errorf("detail has %d fields, want %d and a marker", len(b.Detail), maxDetail)
	}
}

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	l := NewFileLog(path, 300, 2)
	for i := range 20 {
		if err := l.Record(Entry{Time: t0.Add(time.Duration(i) * time.Second), Actor: "admin", Action: "x", Summary: strings.Repeat("y", 50)}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		names = append(names, e.Name())
		fi, _ := e.Info()
		if fi.Size() > 300 {
			t.Errorf("%s is %d bytes, over the 300 bound", e.Name(), fi.Size())
		}
	}
	if diff := cmp.Diff([]string{"audit.log", "audit.log.1", "audit.log.2"}, names); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	recent, _ := l.Recent(1)
	if len(recent) != 1 || !recent[0].Time.Equal(t0.Add(19*time.Second)) {
		t.Errorf("newest entry %+v, want the 20th", recent)
	}
}

// On the stick, every entry is written between a read-write and a
// read-only remount (rampart/internal/stickrw).
func TestRecordRemountsStick(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	var log []string
	l := NewFileLog(path, 0, 0)
	l.Stick = &stickrw.Writer{Lock: filepath.Join(dir, "lock"), Remount: func(ro bool) error {
		_, err := os.Stat(path)
		log = append(log, fmt.Sprintf("ro=%v exists=%v", ro, err == nil))
		return nil
	}}
	if err := l.Record(Entry{Actor: "admin", Action: "login"}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"ro=false exists=false", "ro=true exists=true"}, log); diff != "" {
		t.Errorf("remounts (-want +got):\n%s", diff)
	}
}
