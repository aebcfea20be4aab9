package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"rampart/internal/atomicfile"
	"rampart/internal/stickrw"
)

// StateVersion is the state file format this build writes and reads.
const StateVersion = 1

// maxStateBytes bounds the state file: one hash and at most 32 tokens.
const maxStateBytes = 256 << 10

// State is what the web UI must remember across reboots. Sessions are not
// in it on purpose: a reboot logs everyone out.
type State struct {
	Version int         `json:"version"`
	Admin   *Credential `json:"admin,omitempty"` // nil until setup
	Tokens  []APIToken  `json:"api_tokens,omitempty"`
}

// Credential is the admin's password hash.
type Credential struct {
	Hash    string    `json:"argon2id"`
	Changed time.Time `json:"changed"`
}

// StateStore loads and saves State. The caller decides where it lives (the
// config stick); Load returns a zero State, not an error, when none exists.
type StateStore interface {
	Load() (State, error)
	Save(State) error
}

// FileStateStore keeps State as JSON in one file, replaced atomically and
// readable by root only.
type FileStateStore struct {
	Path  string
	Stick *stickrw.Writer // the stick Path is on, which Save remounts; nil for none
}

// Load reads the state file; a missing file is a first boot.
func (f FileStateStore) Load() (State, error) {
	data, err := atomicfile.ReadLimited(f.Path, maxStateBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return State{Version: StateVersion}, nil
	}
	if err != nil {
		return State{}, fmt.Errorf("auth: load state: %w", err)
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return State{}, fmt.Errorf("auth: load state %s: %w", f.Path, err)
	}
	if s.Version != StateVersion {
		return State{}, fmt.Errorf("auth: load state %s: version %d, this build reads %d", f.Path, s.Version, StateVersion)
	}
	return s, nil
}

// Save replaces the state file.
func (f FileStateStore) Save(s State) error {
	s.Version = StateVersion
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("auth: save state: %w", err)
	}
	err = f.Stick.Do(func() error { return atomicfile.Write(f.Path, append(data, '\n'), 0o600) })
	if err != nil {
		return fmt.Errorf("auth: save state: %w", err)
	}
	return nil
}
