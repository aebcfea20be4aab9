package store

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// fileName is the only name a version file may have: the id, zero padded so
// a listing on a PC sorts, and .yaml because the file is still YAML.
func fileName(id uint64) string { return fmt.Sprintf("%08d.yaml", id) }

// idOf parses a version file name; ok is false for any other name.
func idOf(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, ".yaml")
	if !ok || len(digits) < 8 {
		return 0, false
	}
	id, err := parseID(strings.TrimLeft(digits, "0"))
	if err != nil || fileName(id) != name {
		return 0, false
	}
	return id, true
}

// ids lists the version ids on disk, newest first, corrupt files included.
func (s *Store) ids() ([]uint64, error) {
	entries, err := os.ReadDir(s.historyDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ids []uint64
	for _, e := range entries {
		if id, ok := idOf(e.Name()); ok && e.Type().IsRegular() {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	slices.Reverse(ids)
	return ids, nil
}

// read loads and verifies one version file.
func (s *Store) read(id uint64) (entry, error) {
	rel := filepath.Join(HistoryDir, fileName(id))
	file, err := readLimited(filepath.Join(s.dir, rel), maxFileSize)
	if err != nil {
		return entry{}, err
	}
	h, body, err := parse(file)
	if err != nil {
		return entry{}, err
	}
	if h.ID != id {
		return entry{}, fmt.Errorf("%w: header id %d in the file for id %d", ErrCorrupt, h.ID, id)
	}
	v := Version{ID: id, Time: h.Time, Meta: h.Meta, Size: h.Length, SHA256: hashOf(body), File: rel}
	return entry{body: body, v: v, replaces: h.Replaces}, nil
}

// readLimited reads a whole file but refuses one larger than limit bytes.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return data, nil
}

// prune deletes versions beyond Keep, oldest first. ids is newest first and
// ids[0] is the version just written, so the newest is never deleted.
func (s *Store) prune(ids []uint64) error {
	if len(ids) <= s.opts.Keep {
		return nil
	}
	var errs []error
	for _, id := range slices.Backward(ids[s.opts.Keep:]) {
		err := os.Remove(filepath.Join(s.historyDir(), fileName(id)))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("prune: %w", err))
		}
	}
	return errors.Join(errs...)
}
