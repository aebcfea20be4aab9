package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"rampart/internal/atomicfile"
)

// writeAtomic replaces dir/name with data. A crash leaves either the old
// file or the new one, plus at most one temp file that Open removes.
func writeAtomic(dir, name string, data []byte) error {
	return atomicfile.Write(filepath.Join(dir, name), data, 0)
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
			if strings.HasPrefix(e.Name(), atomicfile.TempPrefix) && e.Type().IsRegular() {
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
