package store

import (
	"rampart/internal/atomicfile"

	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// problems collects what a Store reports.
type problems []string

func (p *problems) report(file string, problem error) {
	*p = append(*p, file+": "+problem.Error())
}

// fakeClock ticks one second per reading.
func fakeClock() func() time.Time {
	now := testTime
	return func() time.Time { now = now.Add(time.Second); return now }
}

func openStore(t *testing.T, dir string, opts Options) (*Store, *problems) {
	t.Helper()
	var p problems
	if opts.Now == nil {
		opts.Now = fakeClock()
	}
	opts.Report = p.report
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s, &p
}

func mustSave(t *testing.T, s *Store, data string, meta Meta) Version {
	t.Helper()
	v, err := s.Save([]byte(data), meta)
	if err != nil {
		t.Fatalf("Save(%q): %v", data, err)
	}
	return v
}

func ids(vs []Version) []uint64 {
	var out []uint64
	for _, v := range vs {
		out = append(out, v.ID)
	}
	return out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSaveLoadListGet(t *testing.T) {
	dir := t.TempDir()
	s, p := openStore(t, dir, Options{})
	alice := Meta{Author: "alice", Source: "192.0.2.10", Message: "first"}
	bob := Meta{Author: "bob", Source: "192.0.2.11", Message: "second"}
	mustSave(t, s, "a: 1\n", alice)
	mustSave(t, s, "a: 2\n", bob)

	data, got, err := s.Load(nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := Version{ID: 2, Time: testTime.Add(2 * time.Second), Meta: bob, Size: 5,
		SHA256: hashOf([]byte("a: 2\n")), File: "history/00000002.yaml"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Load version (-want +got):\n%s", diff)
	}
	if string(data) != "a: 2\n" || readFile(t, filepath.Join(dir, CurrentFile)) != "a: 2\n" {
		t.Errorf("Load data = %q, rampart.yaml = %q, want both %q", data, readFile(t, filepath.Join(dir, CurrentFile)), "a: 2\n")
	}

	list, err := s.List()
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	first := Version{ID: 1, Time: testTime.Add(time.Second), Meta: alice, Size: 5,
		SHA256: hashOf([]byte("a: 1\n")), File: "history/00000001.yaml"}
	if diff := cmp.Diff([]Version{want, first}, list); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}

	data, got, err = s.Get(1)
	if err != nil || string(data) != "a: 1\n" {
		t.Fatalf("Get(1) = %q, %v", data, err)
	}
	if diff := cmp.Diff(first, got); diff != "" {
		t.Errorf("Get(1) version (-want +got):\n%s", diff)
	}
	if len(*p) != 0 {
		t.Errorf("reported problems: %q", *p)
	}
}

func TestPruneKeepsNewest(t *testing.T) {
	dir := t.TempDir()
	s, _ := openStore(t, dir, Options{Keep: 3})
	for i := range 10 {
		mustSave(t, s, fmt.Sprintf("n: %d\n", i), Meta{})
	}
	list, err := s.List()
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if diff := cmp.Diff([]uint64{10, 9, 8}, ids(list)); diff != "" {
		t.Errorf("ids after prune (-want +got):\n%s", diff)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, HistoryDir))
	if len(entries) != 3 {
		t.Errorf("history holds %d files, want 3", len(entries))
	}
}

func TestDefaultKeep(t *testing.T) {
	s, _ := openStore(t, t.TempDir(), Options{})
	for i := range DefaultKeep + 2 {
		mustSave(t, s, fmt.Sprint(i), Meta{})
	}
	list, _ := s.List()
	if len(list) != DefaultKeep || list[0].ID != DefaultKeep+2 {
		t.Errorf("kept %d versions, newest %d; want %d, newest %d", len(list), list[0].ID, DefaultKeep, DefaultKeep+2)
	}
}

// Ids never go down: not after pruning, not after reopening, not when the
// newest file is corrupt.
func TestIDsMonotonic(t *testing.T) {
	dir := t.TempDir()
	s, _ := openStore(t, dir, Options{Keep: 2})
	for range 5 {
		mustSave(t, s, "x", Meta{})
	}
	s, _ = openStore(t, dir, Options{Keep: 2})
	if v := mustSave(t, s, "y", Meta{}); v.ID != 6 {
		t.Errorf("after reopen: id %d, want 6", v.ID)
	}
	// With 6 corrupt, rampart.yaml ("y") becomes hand edit 7, then 8 is ours.
	writeFile(t, filepath.Join(dir, HistoryDir, fileName(6)), "torn")
	if v := mustSave(t, s, "z", Meta{}); v.ID != 8 {
		t.Errorf("after a corrupt newest file: id %d, want 8", v.ID)
	}
}

// A torn newest version file (power cut before rampart.yaml was replaced)
// falls back to the newest version that verifies.
func TestLoadSkipsCorruptNewest(t *testing.T) {
	body3 := []byte("a: 3\n")
	good3 := encode(header{ID: 3, Time: testTime, Replaces: hashOf([]byte("a: 2\n"))}, body3)
	tests := []struct {
		name, file, reason string
	}{
		{"truncated body", string(good3[:len(good3)-2]), "torn write"},
		{"truncated header", string(good3[:100]), "not terminated"},
		{"zero length", "", "first line"},
		{"bit flip", strings.Replace(string(good3), "a: 3", "a: 4", 1), "sha256 mismatch"},
		{"id of another file", string(encode(header{ID: 9, Replaces: noHash}, body3)), "header id 9"},
		{"too big", strings.Repeat("x", maxFileSize+1), "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s, p := openStore(t, dir, Options{})
			mustSave(t, s, "a: 1\n", Meta{})
			mustSave(t, s, "a: 2\n", Meta{})
			writeFile(t, filepath.Join(dir, HistoryDir, fileName(3)), tt.file)
			data, v, err := s.Load(nil)
			if err != nil || string(data) != "a: 2\n" || v.ID != 2 {
				t.Fatalf("Load = %q, id %d, %v; want version 2", data, v.ID, err)
			}
			if len(*p) != 1 || !strings.Contains((*p)[0], "history/00000003.yaml: ") || !strings.Contains((*p)[0], tt.reason) {
				t.Errorf("reported %q, want one problem with history/00000003.yaml: ...%s", *p, tt.reason)
			}
			if _, _, err := s.Get(3); err == nil {
				t.Errorf("Get(3) succeeded on a corrupt file")
			}
		})
	}
}

// A corrupt newest file whose rampart.yaml was already written keeps its
// content: it is picked up as a hand edit.
func TestCorruptNewestAfterCurrentWritten(t *testing.T) {
	dir := t.TempDir()
	s, _ := openStore(t, dir, Options{})
	mustSave(t, s, "a: 1\n", Meta{})
	mustSave(t, s, "a: 2\n", Meta{})
	writeFile(t, filepath.Join(dir, HistoryDir, fileName(2)), "torn")
	data, v, err := s.Load(nil)
	if err != nil || string(data) != "a: 2\n" || v.ID != 3 || v.Meta != HandEditMeta() {
		t.Errorf("Load = %q, %+v, %v; want a: 2 as hand edit 3", data, v, err)
	}
}

func TestLoadValid(t *testing.T) {
	s, p := openStore(t, t.TempDir(), Options{})
	mustSave(t, s, "good\n", Meta{})
	mustSave(t, s, "bad\n", Meta{})
	valid := func(b []byte) error {
		if string(b) == "bad\n" {
			return errors.New("says bad")
		}
		return nil
	}
	data, v, err := s.Load(valid)
	if err != nil || string(data) != "good\n" || v.ID != 1 {
		t.Fatalf("Load = %q, id %d, %v; want version 1", data, v.ID, err)
	}
	if diff := cmp.Diff(problems{"history/00000002.yaml: rejected: says bad"}, *p); diff != "" {
		t.Errorf("reported (-want +got):\n%s", diff)
	}
}

func TestLoadNothing(t *testing.T) {
	dir := t.TempDir()
	s, _ := openStore(t, dir, Options{})
	if _, _, err := s.Load(nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("empty store: Load err = %v, want ErrNotFound", err)
	}
	mustSave(t, s, "bad", Meta{})
	_, _, err := s.Load(func([]byte) error { return errors.New("nope") })
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "history/00000001.yaml: rejected: nope") {
		t.Errorf("nothing valid: Load err = %v, want ErrNotFound listing the rejected file", err)
	}
}

func TestGetErrors(t *testing.T) {
	dir := t.TempDir()
	s, _ := openStore(t, dir, Options{})
	mustSave(t, s, "a", Meta{})
	if _, _, err := s.Get(7); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(7) err = %v, want ErrNotFound", err)
	}
	writeFile(t, filepath.Join(dir, HistoryDir, fileName(1)), "junk")
	if _, _, err := s.Get(1); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Get(corrupt) err = %v, want ErrCorrupt", err)
	}
}

// Files that are not named like versions are none of our business.
func TestForeignFilesIgnored(t *testing.T) {
	dir := t.TempDir()
	s, p := openStore(t, dir, Options{Keep: 1})
	mustSave(t, s, "a", Meta{})
	for _, name := range []string{"7.yaml", "00000009.yml", "notes.txt", "99999999.YAML"} {
		writeFile(t, filepath.Join(dir, HistoryDir, name), "hello")
	}
	if err := os.Mkdir(filepath.Join(dir, HistoryDir, fileName(50)), 0o755); err != nil {
		t.Fatal(err)
	}
	if v := mustSave(t, s, "b", Meta{}); v.ID != 2 {
		t.Errorf("Save id %d, want 2", v.ID)
	}
	list, _ := s.List()
	entries, _ := os.ReadDir(filepath.Join(dir, HistoryDir))
	if len(list) != 1 || len(entries) != 6 || len(*p) != 0 {
		t.Errorf("List %v, %d files, reported %q; want 1 version, 6 files, no problems", ids(list), len(entries), *p)
	}
}

func TestOpenRemovesOnlyTempFiles(t *testing.T) {
	dir := t.TempDir()
	s, _ := openStore(t, dir, Options{})
	mustSave(t, s, "a", Meta{})
	temps := []string{atomicfile.TempPrefix + "123", filepath.Join(HistoryDir, atomicfile.TempPrefix+"x")}
	others := []string{"other.txt", "rampart-store-tmp-1", filepath.Join(HistoryDir, "notes")}
	for _, name := range slices.Concat(temps, others) {
		writeFile(t, filepath.Join(dir, name), "debris")
	}
	var hooks []string
	opts := Options{
		BeforeWrite: func() error { hooks = append(hooks, "before"); return nil },
		AfterWrite:  func() error { hooks = append(hooks, "after"); return nil },
	}
	openStore(t, dir, opts)
	for _, name := range temps {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: still there (%v)", name, err)
		}
	}
	for _, name := range others {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s: %v, want it kept", name, err)
		}
	}
	openStore(t, dir, opts) // nothing to clean: no hooks
	if diff := cmp.Diff([]string{"before", "after"}, hooks); diff != "" {
		t.Errorf("hooks (-want +got):\n%s", diff)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	writeFile(t, file, "")
	for _, tt := range []struct {
		dir  string
		opts Options
	}{
		{filepath.Join(dir, "missing"), Options{}},
		{file, Options{}},
		{dir, Options{Keep: -1}},
	} {
		if _, err := Open(tt.dir, tt.opts); err == nil {
			t.Errorf("Open(%s, %+v) succeeded", tt.dir, tt.opts)
		}
	}
}

func TestSaveLimits(t *testing.T) {
	s, _ := openStore(t, t.TempDir(), Options{})
	long := strings.Repeat("m", MaxMetaSize+1)
	for _, m := range []Meta{{Author: long}, {Source: long}, {Message: long}} {
		if _, err := s.Save([]byte("a"), m); err == nil {
			t.Errorf("Save with a %d-byte meta field succeeded", len(long))
		}
	}
	if _, err := s.Save(make([]byte, MaxConfigSize+1), Meta{}); err == nil {
		t.Errorf("Save of %d bytes succeeded", MaxConfigSize+1)
	}
}

// Debris on a stick that stays read-only is harmless: Open reports it and
// carries on.
func TestOpenReadOnlyWithDebris(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, atomicfile.TempPrefix+"1"), "debris")
	s, p := openStore(t, dir, Options{BeforeWrite: func() error { return errors.New("read-only") }})
	if s == nil || len(*p) != 1 || !strings.Contains((*p)[0], "read-only") {
		t.Errorf("Open reported %q, want the read-only error", *p)
	}
}
