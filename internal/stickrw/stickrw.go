// Package stickrw serialises writes to the config stick, which PID 1
// mounts read-only: one writer at a time, across processes, remounts it
// read-write, writes, flushes and remounts it read-only.
//
// The stick stays read-only between writes so that pulling it or cutting
// the power loses nothing that was acknowledged. Several processes write
// to it (PID 1's test writes, the daemon's config store, the web UI's
// state files), and a remount is for the whole mount: without one lock
// for all of them, one process would remount the stick read-only under
// another's write. The lock is an flock(2) on a file in /run/rampart,
// which the kernel drops when its holder dies, so a crash mid-write never
// wedges the next writer.
package stickrw

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"rampart/boot/stick"
)

// LockFile is the lock every writer to the stick takes, in PID 1's
// run directory (a tmpfs shared by every process of the box).
const LockFile = "/run/rampart/stick.lock"

// Writer runs writes to one mounted stick. A nil *Writer runs them
// directly: the state dir is not on a stick (a PC, a test, a pulled stick).
type Writer struct {
	// Lock is the lock file's path.
	Lock string
	// Remount switches the stick between read-write and read-only. Going
	// read-only must flush first (stick.Remount does).
	Remount func(readOnly bool) error
}

// New returns the Writer of the stick mounted on dir with file system
// fstype (stick.VFAT or stick.Ext4), locked through LockFile.
func New(dir, fstype string) *Writer {
	return &Writer{
		Lock:    LockFile,
		Remount: func(ro bool) error { return stick.Remount(dir, fstype, ro) },
	}
}

// FromEnv returns the Writer for files in stateDir: that of the stick
// PID 1 announced in stick.EnvDir and stick.EnvFS when stateDir is on
// it, else nil.
func FromEnv(getenv func(string) string, stateDir string) *Writer {
	dir, fs := getenv(stick.EnvDir), getenv(stick.EnvFS)
	if dir == "" || (fs != stick.VFAT && fs != stick.Ext4) || !within(dir, stateDir) {
		return nil
	}
	return New(dir, fs)
}

// within reports whether path is dir or below it.
func within(dir, path string) bool {
	if path == "" {
		return false
	}
	rel, err := filepath.Rel(filepath.Clean(dir), filepath.Clean(path))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// Do runs fn with the stick read-write and no other writer, then flushes
// the stick and makes it read-only again, also when fn fails. fn must not
// call Do: the lock does not nest. The error of Do joins fn's with those
// of the remounts; when the remount fails fn has not run.
func (w *Writer) Do(fn func() error) error {
	if w == nil {
		return fn()
	}
	f, err := os.OpenFile(w.Lock, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("stickrw: lock: %w", err)
	}
	defer f.Close() // also drops the lock
	if err := flock(f, unix.LOCK_EX); err != nil {
		return fmt.Errorf("stickrw: lock %s: %w", w.Lock, err)
	}
	if err := w.Remount(false); err != nil {
		// A failed switch may leave it either way: make sure it is read-only.
		return errors.Join(fmt.Errorf("stickrw: %w", err), w.readOnly())
	}
	return errors.Join(fn(), w.readOnly())
}

func (w *Writer) readOnly() error {
	if err := w.Remount(true); err != nil {
		return fmt.Errorf("stickrw: %w", err)
	}
	return nil
}

// flock takes the lock, retrying a wait a signal interrupted. The retries
// are bounded: a process that keeps being signalled gives up.
func flock(f *os.File, how int) error {
	var err error
	for range 100 {
		if err = unix.Flock(int(f.Fd()), how); !errors.Is(err, unix.EINTR) {
			return err
		}
	}
	return err
}
