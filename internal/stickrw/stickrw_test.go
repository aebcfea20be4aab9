package stickrw

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rampart/boot/stick"
)

// fakeMount is a stick whose mode is a file, so that processes share it:
// "rw" or "ro". Remounting to the mode it is in is the bug this package
// prevents (two writers overlapping), so it fails.
type fakeMount struct{ path string }

func (m fakeMount) remount(readOnly bool) error {
	want, from := "rw", "ro"
	if readOnly {
		want, from = "ro", "rw"
	}
	got, err := os.ReadFile(m.path)
	if err != nil {
		return err
	}
	if string(got) != from {
		return fmt.Errorf("remount to %s: the stick is %s: two writers overlap", want, got)
	}
	return os.WriteFile(m.path, []byte(want), 0o600)
}

func (m fakeMount) mode(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(m.path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func newFake(t *testing.T, dir string) (*Writer, fakeMount) {
	t.Helper()
	m := fakeMount{filepath.Join(dir, "mode")}
	if _, err := os.Stat(m.path); errors.Is(err, os.ErrNotExist) {
		if err := os.WriteFile(m.path, []byte("ro"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return &Writer{Lock: filepath.Join(dir, "stick.lock"), Remount: m.remount}, m
}

func TestDoRemountsAroundTheWrite(t *testing.T) {
	w, m := newFake(t, t.TempDir())
	var during string
	if err := w.Do(func() error { during = m.mode(t); return nil }); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"rw", "ro"}, []string{during, m.mode(t)}); diff != "" {
		t.Errorf("stick mode during and after the write (-want +got):\n%s", diff)
	}
}

func TestDoFailedWriteLeavesStickReadOnly(t *testing.T) {
	w, m := newFake(t, t.TempDir())
	boom := errors.New("disk full")
	if err := w.Do(func() error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("Do: %v, want %v", err, boom)
	}
	if got := m.mode(t); got != "ro" {
		t.Errorf("after a failed write the stick is %s, want ro", got)
	}
}

func TestDoFailedRemountSkipsTheWrite(t *testing.T) {
	var calls []bool
	w := &Writer{Lock: filepath.Join(t.TempDir(), "lock"), Remount: func(ro bool) error {
		calls = append(calls, ro)
		if !ro {
			return errors.New("EIO")
		}
		return nil
	}}
	ran := false
	if err := w.Do(func() error { ran = true; return nil }); err == nil || ran {
		t.Fatalf("Do: err %v, fn ran %v; want an error and no write", err, ran)
	}
	if diff := cmp.Diff([]bool{false, true}, calls); diff != "" {
		t.Errorf("remounts (read-only?) (-want +got):\n%s", diff)
	}
}

func TestNilWriterRunsDirectly(t *testing.T) {
	var w *Writer
	ran := false
	if err := w.Do(func() error { ran = true; return nil }); err != nil || !ran {
		t.Fatalf("Do: %v, ran %v", err, ran)
	}
}

func TestFromEnv(t *testing.T) {
	env := func(dir, fs string) func(string) string {
		return func(k string) string {
			return map[string]string{stick.EnvDir: dir, stick.EnvFS: fs}[k]
		}
	}
	for _, tt := range []struct {
		name, dir, fs, state string
		want                 bool
	}{
		{"state dir is the stick", "/stick", stick.VFAT, "/stick", true},
		{"state dir below the stick", "/stick", stick.Ext4, "/stick/state/", true},
		{"state dir in RAM", "/stick", stick.VFAT, "/run/rampart/state", false},
		{"a sibling that shares the prefix", "/stick", stick.VFAT, "/stick2", false},
		{"no stick", "", "", "/stick", false},
		{"unknown file system", "/stick", "ntfs", "/stick", false},
		{"no state dir", "/stick", stick.VFAT, "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := FromEnv(env(tt.dir, tt.fs), tt.state) != nil; got != tt.want {
				t.Errorf("FromEnv(%q, %q, state %q) configured: %v, want %v", tt.dir, tt.fs, tt.state, got, tt.want)
			}
		})
	}
}

// Writers in several processes, each writing several times: the fake
// stick's mode file fails any remount that finds another writer inside,
// and the writes themselves check they are alone and see it read-write.
func TestDoAcrossProcesses(t *testing.T) {
	const procs, writes = 4, 25
	dir := t.TempDir()
	newFake(t, dir) // the mode file, read-only
	cmds := make([]*exec.Cmd, procs)
	outs := make([]bytes.Buffer, procs)
	for i := range cmds {
		cmds[i] = exec.Command(os.Args[0], "-test.run=^TestHelperWriter$")
		cmds[i].Env = append(os.Environ(), "STICKRW_HELPER_DIR="+dir, "STICKRW_HELPER_WRITES="+strconv.Itoa(writes))
		cmds[i].Stdout, cmds[i].Stderr = &outs[i], &outs[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Errorf("writer %d: %v\n%s", i, err, outs[i].String())
		}
	}
	entries, err := os.ReadDir(filepath.Join(dir))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if filepath.Ext(e.Name()) == ".w" {
			n++
		}
	}
	if n != procs*writes {
		t.Errorf("%d writes landed, want %d", n, procs*writes)
	}
}

// TestHelperWriter is a writer process of TestDoAcrossProcesses.
func TestHelperWriter(t *testing.T) {
	dir := os.Getenv("STICKRW_HELPER_DIR")
	if dir == "" {
		t.Skip("a helper of TestDoAcrossProcesses")
	}
	writes, _ := strconv.Atoi(os.Getenv("STICKRW_HELPER_WRITES"))
	w, m := newFake(t, dir)
	inside := filepath.Join(dir, "inside")
	for i := range writes {
		err := w.Do(func() error {
			f, err := os.OpenFile(inside, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
			if err != nil {
				return fmt.Errorf("another writer is inside: %w", err)
			}
			f.Close()
			if mode := m.mode(t); mode != "rw" {
				return fmt.Errorf("writing while the stick is %s", mode)
			}
			name := filepath.Join(dir, fmt.Sprintf("%d-%d.w", os.Getpid(), i))
			return errors.Join(os.WriteFile(name, nil, 0o600), os.Remove(inside))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
