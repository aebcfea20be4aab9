package store

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rampart/internal/atomicfile"
)

func TestHandEditRecorded(t *testing.T) {
	dir := t.TempDir()
	s, p := openStore(t, dir, Options{})
	mustSave(t, s, "a: 1\n", Meta{Author: "alice"})
	writeFile(t, filepath.Join(dir, CurrentFile), "a: edited\n")

	for range 2 { // the second Load finds it recorded: no new version
		data, v, err := s.Load(nil)
		if err != nil || string(data) != "a: edited\n" {
			t.Fatalf("Load = %q, %v; want the hand edit", data, err)
		}
		want := Version{ID: 2, Time: v.Time, Meta: HandEditMeta(), Size: 10,
			SHA256: hashOf(data), File: "history/00000002.yaml"}
		if diff := cmp.Diff(want, v); diff != "" {
			t.Errorf("Load version (-want +got):\n%s", diff)
		}
	}
	writeFile(t, filepath.Join(dir, CurrentFile), "a: edited again\n")
	if v := mustSave(t, s, "a: 3\n", Meta{Author: "bob"}); v.ID != 4 {
		t.Errorf("Save id %d, want 4 after hand edit 3", v.ID)
	}
	list, _ := s.List()
	var got []string
	for _, v := range list {
		data, _, _ := s.Get(v.ID)
		got = append(got, v.Meta.Author+v.Meta.Source+" "+string(data))
	}
	want := []string{"bob a: 3\n", HandEditSource + " a: edited again\n", HandEditSource + " a: edited\n", "alice a: 1\n"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	if len(*p) != 0 {
		t.Errorf("reported %q", *p)
	}
}

// A stick prepared by hand holds only rampart.yaml: it becomes version 1.
func TestHandEditFreshStick(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, CurrentFile), "hostname: fw1\n")
	s, _ := openStore(t, dir, Options{})
	if data, v, err := s.Load(nil); err != nil || string(data) != "hostname: fw1\n" || v.ID != 1 {
		t.Errorf("Load = %q, id %d, %v; want version 1", data, v.ID, err)
	}
}

// A Save interrupted between its two renames leaves rampart.yaml holding
// the bytes it replaced: that is stale, not a hand edit.
func TestStaleCurrentIsNotHandEdit(t *testing.T) {
	dir := t.TempDir()
	s, p := openStore(t, dir, Options{})
	mustSave(t, s, "a: 1\n", Meta{})
	mustSave(t, s, "a: 2\n", Meta{})
	writeFile(t, filepath.Join(dir, CurrentFile), "a: 1\n")
	data, v, err := s.Load(nil)
	if err != nil || string(data) != "a: 2\n" || v.ID != 2 {
		t.Errorf("Load = %q, id %d, %v; want version 2", data, v.ID, err)
	}
	if v := mustSave(t, s, "a: 3\n", Meta{}); v.ID != 3 {
		t.Errorf("Save id %d, want 3", v.ID)
	}
	if got := readFile(t, filepath.Join(dir, CurrentFile)); got != "a: 3\n" || len(*p) != 0 {
		t.Errorf("rampart.yaml = %q, reported %q", got, *p)
	}
}

// A hand edit that valid rejects is kept in the history for the audit, but
// Load falls back to the newest valid version.
func TestHandEditInvalid(t *testing.T) {
	dir := t.TempDir()
	s, p := openStore(t, dir, Options{})
	mustSave(t, s, "a: 1\n", Meta{})
	writeFile(t, filepath.Join(dir, CurrentFile), "a: [\n")
	valid := func(b []byte) error {
		if strings.Contains(string(b), "[") {
			return errors.New("unclosed [")
		}
		return nil
	}
	for range 2 {
		if data, v, err := s.Load(valid); err != nil || string(data) != "a: 1\n" || v.ID != 1 {
			t.Errorf("Load = %q, id %d, %v; want version 1", data, v.ID, err)
		}
	}
	want := problems{"history/00000002.yaml: rejected: unclosed [", "history/00000002.yaml: rejected: unclosed ["}
	if diff := cmp.Diff(want, *p); diff != "" {
		t.Errorf("reported (-want +got):\n%s", diff)
	}
}

// On a stick that stays read-only the hand edit is still used, unrecorded.
func TestHandEditReadOnly(t *testing.T) {
	dir := t.TempDir()
	s, _ := openStore(t, dir, Options{})
	mustSave(t, s, "a: 1\n", Meta{})
	writeFile(t, filepath.Join(dir, CurrentFile), "a: edited\n")
	var afterCalls int
	s, p := openStore(t, dir, Options{
		BeforeWrite: func() error { return errors.New("remount: read-only") },
		AfterWrite:  func() error { afterCalls++; return nil },
	})
	data, v, err := s.Load(nil)
	if err != nil || string(data) != "a: edited\n" {
		t.Fatalf("Load = %q, %v; want the hand edit", data, err)
	}
	want := Version{Time: v.Time, Meta: HandEditMeta(), Size: 10, SHA256: hashOf(data), File: CurrentFile}
	if diff := cmp.Diff(want, v); diff != "" {
		t.Errorf("Load version (-want +got):\n%s", diff)
	}
	if len(*p) != 1 || !strings.Contains((*p)[0], "remount: read-only") || afterCalls != 1 {
		t.Errorf("reported %q, AfterWrite ran %d times; want the remount error, 1", *p, afterCalls)
	}
	if list, _ := s.List(); len(list) != 1 {
		t.Errorf("List has %d versions, want 1", len(list))
	}
}

func TestHooks(t *testing.T) {
	errBefore, errAfter := errors.New("before failed"), errors.New("after failed")
	tests := []struct {
		name          string
		before, after error
		wantErr       error
		wantID        uint64
		wantFiles     int
	}{
		{"ok", nil, nil, nil, 1, 1},
		{"before fails: nothing written", errBefore, nil, errBefore, 0, 0},
		{"after fails: saved anyway", nil, errAfter, errAfter, 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			var log []string
			s, _ := openStore(t, dir, Options{
				BeforeWrite: func() error { log = append(log, "before"); return tt.before },
				AfterWrite:  func() error { log = append(log, "after"); return tt.after },
			})
			v, err := s.Save([]byte("a"), Meta{})
			if !errors.Is(err, tt.wantErr) || v.ID != tt.wantID {
				t.Errorf("Save = id %d, %v; want id %d, %v", v.ID, err, tt.wantID, tt.wantErr)
			}
			entries, _ := os.ReadDir(filepath.Join(dir, HistoryDir))
			if diff := cmp.Diff([]string{"before", "after"}, log); diff != "" || len(entries) != tt.wantFiles {
				t.Errorf("%d version files, want %d; hooks (-want +got):\n%s", len(entries), tt.wantFiles, diff)
			}
		})
	}
}

// Around holds every write, hooks included: stickrw's lock and remount.
func TestAround(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, atomicfile.TempPrefix+"1"), "debris")
	var log []string
	s, _ := openStore(t, dir, Options{
		BeforeWrite: func() error { log = append(log, "before"); return nil },
		AfterWrite:  func() error { log = append(log, "after"); return nil },
		Around: func(write func() error) error {
			log = append(log, "lock")
			err := write()
			log = append(log, "unlock")
			return err
		},
	})
	mustSave(t, s, "a", Meta{})
	writeFile(t, filepath.Join(dir, CurrentFile), "b") // a hand edit: Load records it
	if _, _, err := s.Load(nil); err != nil {
		t.Fatal(err)
	}
	once := []string{"lock", "before", "after", "unlock"}
	if diff := cmp.Diff(slices.Concat(once, once, once), log); diff != "" {
		t.Errorf("open, save, load of a hand edit (-want +got):\n%s", diff)
	}
	boom := errors.New("remount failed")
	s, _ = openStore(t, dir, Options{Around: func(func() error) error { return boom }})
	if _, err := s.Save([]byte("c"), Meta{}); !errors.Is(err, boom) {
		t.Errorf("Save = %v, want %v", err, boom)
	}
}

// An unreadable history must not stop rampart.yaml from booting the box,
// and must stop writes, which could reuse an id.
func TestUnreadableHistory(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, HistoryDir), "not a directory")
	writeFile(t, filepath.Join(dir, CurrentFile), "a: 1\n")
	s, p := openStore(t, dir, Options{})
	data, v, err := s.Load(nil)
	if err != nil || string(data) != "a: 1\n" || v.ID != 0 || v.File != CurrentFile {
		t.Errorf("Load = %q, %+v, %v; want rampart.yaml unrecorded", data, v, err)
	}
	if len(*p) != 2 || !strings.HasPrefix((*p)[0], HistoryDir+": ") {
		t.Errorf("reported %q, want history and the unrecorded hand edit", *p)
	}
	if _, err := s.Save([]byte("a: 2\n"), Meta{}); err == nil {
		t.Errorf("Save succeeded with an unreadable history")
	}
	if got := readFile(t, filepath.Join(dir, CurrentFile)); got != "a: 1\n" {
		t.Errorf("rampart.yaml = %q after a refused Save", got)
	}
}
