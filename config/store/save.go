package store

import (
	"fmt"
)

// Save stores data as the newest version and as rampart.yaml, then prunes
// the oldest versions beyond Keep. A pending hand edit of rampart.yaml is
// recorded first, so the history shows what this save replaced.
//
// When the version was committed but a later step failed (rampart.yaml,
// pruning, AfterWrite), Save returns the version together with the error.
func (s *Store) Save(data []byte, meta Meta) (Version, error) {
	if err := checkSave(data, meta); err != nil {
		return Version{}, fmt.Errorf("store: save: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := s.snapshot(s.report)
	if snap.idsErr != nil {
		return Version{}, fmt.Errorf("store: save: %w", snap.idsErr)
	}
	var saved entry
	err := s.writing(func() error {
		var err error
		saved, err = s.save(&snap, data, meta)
		return err
	})
	if err != nil {
		return saved.v, fmt.Errorf("store: save: %w", err)
	}
	return saved.v, nil
}

func (s *Store) save(snap *snapshot, data []byte, meta Meta) (entry, error) {
	if snap.handEdit {
		if _, err := s.addHandEdit(snap); err != nil {
			return entry{}, err
		}
	}
	replaces := noHash
	if snap.cur != nil {
		replaces = hashOf(snap.cur)
	}
	e, err := s.addVersion(snap, data, meta, replaces)
	if err != nil {
		return entry{}, err
	}
	if err := writeAtomic(s.dir, CurrentFile, data); err != nil {
		return e, fmt.Errorf("write %s: %w", CurrentFile, err)
	}
	return e, s.prune(snap.ids)
}

func checkSave(data []byte, meta Meta) error {
	if len(data) > MaxConfigSize {
		return fmt.Errorf("config is %d bytes, limit %d", len(data), MaxConfigSize)
	}
	fields := []struct{ name, value string }{
		{"author", meta.Author}, {"source", meta.Source}, {"message", meta.Message},
	}
	for _, f := range fields {
		if len(f.value) > MaxMetaSize {
			return fmt.Errorf("%s is %d bytes, limit %d", f.name, len(f.value), MaxMetaSize)
		}
	}
	return nil
}
