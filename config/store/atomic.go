package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// tempPrefix names our temporary files; Open removes only these. The leading
// dot hides them from a casual listing on a PC.
const tempPrefix = ".rampart-store-tmp-"

// writeAtomic replaces dir/name with data: temp file in dir, write, fsync,
// rename, fsync dir. A crash leaves either the old file or the new one,
// plus at most one temp file.
func writeAtomic(dir, name string, data []byte) error {
	f, err := os.CreateTemp(dir, tempPrefix+"*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if err := writeSync(f, data); err != nil {
		return errors.Join(err, os.Remove(tmp))
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		return errors.Join(err, os.Remove(tmp))
	}
	return syncDir(dir)
}

func writeSync(f *os.File, data []byte) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// syncDir makes a rename or create in dir durable. Filesystems that cannot
// fsync a directory say EINVAL; there is nothing more to do on those.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if errors.Is(err, syscall.EINVAL) {
		err = nil
	}
	return errors.Join(err, d.Close())
}

// removeTemps deletes temp files an interrupted write left in the store
// and its history, taking the write hooks only if there are any.
func (s *Store) removeTemps() error {
	var temps []string
	for _, dir := range []string{s.dir, s.historyDir()} {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue // missing, or Load and Save will report it
		}
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), tempPrefix) && e.Type().IsRegular() {
				temps = append(temps, filepath.Join(dir, e.Name()))
			}
		}
	}
	if len(temps) == 0 {
		return nil
	}
	return s.writing(func() error {
		var errs []error
		for _, t := range temps {
			if err := os.Remove(t); err != nil && !errors.Is(err, os.ErrNotExist) {
				errs = append(errs, fmt.Errorf("remove temp file: %w", err))
			}
		}
		return errors.Join(errs...)
	})
}
