package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// File and directory names inside a store.
const (
	// CurrentFile is the plain current config an admin reads on a PC.
	CurrentFile = "rampart.yaml"
	// HistoryDir holds one file per version.
	HistoryDir = "history"
	// DefaultKeep is the number of versions kept when Options.Keep is 0;
	// the web UI promises at least 50.
	DefaultKeep = 64
	// HandEditSource is Meta.Source of a version picked up from a hand
	// edit of rampart.yaml.
	HandEditSource = "hand-edit"
)

// ErrNotFound means there is no such version, or no config at all.
var ErrNotFound = errors.New("not found")

// Options tune a Store. The zero value is usable.
type Options struct {
	// Keep is how many versions to keep; 0 means DefaultKeep.
	Keep int
	// BeforeWrite runs before the store writes anything, e.g. to remount
	// the stick read-write. If it fails nothing is written.
	BeforeWrite func() error
	// AfterWrite runs after every BeforeWrite, even when the write failed,
	// e.g. to remount the stick read-only.
	AfterWrite func() error
	// Around, if set, runs each write, hooks included: e.g. stickrw's Do,
	// which shuts out the writes of other processes and has the stick
	// read-write meanwhile.
	Around func(write func() error) error
	// Now is the clock for version times; nil means time.Now.
	Now func() time.Time
	// Report hears about every problem the store worked around: a file
	// skipped and why, a hand edit that could not be recorded. It may be nil.
	Report func(file string, problem error)
}

// Meta says who made a version, from where, and why: the audit trail.
type Meta struct {
	Author  string `json:"author"`
	Source  string `json:"source"` // e.g. the client IP, or HandEditSource
	Message string `json:"message"`
}

// Version describes one stored config.
type Version struct {
	// ID increases with every version and never goes down. It is 0 only
	// for a hand edit Load could not record.
	ID     uint64    `json:"id"`
	Time   time.Time `json:"time"`
	Meta   Meta      `json:"meta"`
	Size   int64     `json:"size"`
	SHA256 string    `json:"sha256"` // hex sha256 of the config bytes
	// File is the path relative to the store directory.
	File string `json:"file"`
}

// Store is a directory of versioned configs. Methods are serialised.
type Store struct {
	dir  string
	opts Options
	mu   sync.Mutex
}

// Open opens the store in dir, which must exist, and removes temporary
// files left by an interrupted write (through the write hooks; a failure
// there is reported, not returned).
func Open(dir string, opts Options) (*Store, error) {
	if opts.Keep < 0 {
		return nil, fmt.Errorf("store: open: Keep %d is negative", opts.Keep)
	}
	if opts.Keep == 0 {
		opts.Keep = DefaultKeep
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("store: open: %s is not a directory", dir)
	}
	s := &Store{dir: dir, opts: opts}
	// Debris is harmless; a read-only stick must still boot.
	if err := s.removeTemps(); err != nil {
		s.report(dir, err)
	}
	return s, nil
}

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) historyDir() string { return filepath.Join(s.dir, HistoryDir) }

func (s *Store) report(file string, problem error) {
	if s.opts.Report != nil {
		s.opts.Report(file, problem)
	}
}

// writing runs fn between the BeforeWrite and AfterWrite hooks, inside
// Around.
func (s *Store) writing(fn func() error) error {
	if s.opts.Around != nil {
		return s.opts.Around(func() error { return s.hooked(fn) })
	}
	return s.hooked(fn)
}

func (s *Store) hooked(fn func() error) error {
	if s.opts.BeforeWrite != nil {
		if err := s.opts.BeforeWrite(); err != nil {
			err = fmt.Errorf("before write: %w", err)
			return errors.Join(err, s.afterWrite())
		}
	}
	return errors.Join(fn(), s.afterWrite())
}

func (s *Store) afterWrite() error {
	if s.opts.AfterWrite == nil {
		return nil
	}
	if err := s.opts.AfterWrite(); err != nil {
		return fmt.Errorf("after write: %w", err)
	}
	return nil
}
