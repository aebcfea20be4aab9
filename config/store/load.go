package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Load returns the newest config that verifies and that valid accepts
// (valid may be nil). A hand edit of rampart.yaml is recorded first and so
// is the newest candidate. Skipped files go to Options.Report; when nothing
// is usable the error wraps ErrNotFound and lists every reason.
func (s *Store) Load(valid func([]byte) error) ([]byte, Version, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var skipped []error
	skip := func(file string, problem error) {
		s.report(file, problem)
		skipped = append(skipped, fmt.Errorf("%s: %w", file, problem))
	}
	accept := func(e *entry) bool {
		if valid == nil {
			return true
		}
		if err := valid(e.body); err != nil {
			skip(e.v.File, fmt.Errorf("rejected: %w", err))
			return false
		}
		return true
	}
	snap := s.snapshot(skip)
	if snap.handEdit {
		if e := s.takeHandEdit(&snap); accept(&e) {
			return e.body, e.v, nil
		}
	}
	if snap.newest != nil && accept(snap.newest) {
		return snap.newest.body, snap.newest.v, nil
	}
	for _, id := range snap.older {
		e, err := s.read(id)
		if err != nil {
			skip(filepath.Join(HistoryDir, fileName(id)), err)
			continue
		}
		if accept(&e) {
			return e.body, e.v, nil
		}
	}
	err := fmt.Errorf("store: load: %w: no usable config in %s", ErrNotFound, s.dir)
	return nil, Version{}, errors.Join(append([]error{err}, skipped...)...)
}

// takeHandEdit records a hand edit. If that fails (say the stick stays
// read-only) the edit is still returned, as an unrecorded version with ID 0.
func (s *Store) takeHandEdit(snap *snapshot) entry {
	var e entry
	err := snap.idsErr // no hooks, no remount, when there is nothing to do
	if err == nil {
		err = s.writing(func() error {
			var err error
			if e, err = s.addHandEdit(snap); err != nil {
				return err
			}
			return s.prune(snap.ids)
		})
	}
	if err != nil {
		s.report(CurrentFile, err)
	}
	if e.v.ID != 0 {
		return e
	}
	v := Version{Time: s.opts.Now().UTC(), Meta: HandEditMeta(), Size: int64(len(snap.cur)),
		SHA256: hashOf(snap.cur), File: CurrentFile}
	return entry{body: snap.cur, v: v}
}

// List returns the recorded versions that verify, newest first; it writes
// nothing, so a pending hand edit shows only after Load or Save. Corrupt
// files are left out and go to Options.Report.
func (s *Store) List() ([]Version, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids, err := s.ids()
	if err != nil {
		return nil, fmt.Errorf("store: list: %w", err)
	}
	versions := []Version{}
	for _, id := range ids {
		e, err := s.read(id)
		if err != nil {
			s.report(filepath.Join(HistoryDir, fileName(id)), err)
			continue
		}
		versions = append(versions, e.v)
	}
	return versions, nil
}

// Get returns one version, e.g. to diff two versions or to revert by
// saving an old one again.
func (s *Store) Get(id uint64) ([]byte, Version, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.read(id)
	if errors.Is(err, os.ErrNotExist) {
		err = fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	if err != nil {
		return nil, Version{}, fmt.Errorf("store: get %d: %w", id, err)
	}
	return e.body, e.v, nil
}
