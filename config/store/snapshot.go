package store

import (
	"rampart/internal/atomicfile"

	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// entry is one verified version file.
type entry struct {
	body     []byte
	v        Version
	replaces string
}

// snapshot is what Load and Save learn before they act.
type snapshot struct {
	ids      []uint64 // all version files, newest first
	idsErr   error    // history unreadable: ids unknown, so no writes
	newest   *entry   // newest version that verifies, nil if none
	older    []uint64 // ids older than newest, not read yet
	cur      []byte   // rampart.yaml, nil when missing or unreadable
	handEdit bool     // cur is an edit no version records
}

// snapshot reads the newest verified version and rampart.yaml, reporting
// every file it skips through skip. An unreadable history is skipped too,
// so rampart.yaml alone can still boot the box.
func (s *Store) snapshot(skip func(string, error)) snapshot {
	var snap snapshot
	ids, err := s.ids()
	if err != nil {
		snap.idsErr = fmt.Errorf("list history: %w", err)
		skip(HistoryDir, err)
	}
	snap.ids = ids
	for i, id := range ids {
		e, err := s.read(id)
		if err != nil {
			skip(filepath.Join(HistoryDir, fileName(id)), err)
			continue
		}
		snap.newest, snap.older = &e, ids[i+1:]
		break
	}
	cur, err := readLimited(filepath.Join(s.dir, CurrentFile), MaxConfigSize)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		skip(CurrentFile, err)
	default:
		snap.cur, snap.handEdit = cur, isHandEdit(cur, snap.newest)
	}
	return snap
}

// isHandEdit tells an admin's edit from a current or merely stale
// rampart.yaml; see the package doc.
func isHandEdit(cur []byte, newest *entry) bool {
	if newest == nil {
		return true
	}
	sum := hashOf(cur)
	return sum != newest.v.SHA256 && sum != newest.replaces
}

// addVersion writes data as the version after snap.ids[0] and adds it to
// snap.ids. The caller holds the write hooks.
func (s *Store) addVersion(snap *snapshot, data []byte, meta Meta, replaces string) (entry, error) {
	if snap.idsErr != nil {
		return entry{}, snap.idsErr // the next id is unknown: never reuse one
	}
	var id uint64 = 1
	if len(snap.ids) > 0 {
		if snap.ids[0] == ^uint64(0) {
			return entry{}, errors.New("version ids exhausted")
		}
		id = snap.ids[0] + 1
	}
	if err := s.makeHistoryDir(); err != nil {
		return entry{}, err
	}
	h := header{ID: id, Time: s.opts.Now().UTC(), Meta: meta, Replaces: replaces, Length: int64(len(data))}
	if err := writeAtomic(s.historyDir(), fileName(id), encode(h, data)); err != nil {
		return entry{}, fmt.Errorf("write version %d: %w", id, err)
	}
	v := Version{ID: id, Time: h.Time, Meta: meta, Size: h.Length, SHA256: hashOf(data),
		File: filepath.Join(HistoryDir, fileName(id))}
	snap.ids = append([]uint64{id}, snap.ids...)
	return entry{body: data, v: v, replaces: replaces}, nil
}

func (s *Store) makeHistoryDir() error {
	err := os.Mkdir(s.historyDir(), 0o755)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create history: %w", err)
	}
	return atomicfile.SyncDir(s.dir)
}

// addHandEdit saves rampart.yaml as a version with HandEditMeta. The
// caller holds the write hooks and prunes.
func (s *Store) addHandEdit(snap *snapshot) (entry, error) {
	replaces := noHash
	if snap.newest != nil {
		replaces = snap.newest.v.SHA256
	}
	e, err := s.addVersion(snap, snap.cur, HandEditMeta(), replaces)
	if err != nil {
		return entry{}, fmt.Errorf("record hand edit: %w", err)
	}
	snap.handEdit = false
	return e, nil
}

// HandEditMeta is the Meta of a version picked up from a hand edit.
func HandEditMeta() Meta {
	return Meta{Source: HandEditSource, Message: "hand edit of " + CurrentFile}
}
