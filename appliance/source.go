package appliance

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"rampart/config"
	"rampart/config/store"
	"rampart/internal/stickrw"
)

// Where the daemon's config comes from, and where the web UI keeps its
// state. The state dir is Options.StateDir (`--state-dir`), or else the
// directory of a config file named rampart.yaml, because that is what a
// config stick is: a config/store directory (rampart.yaml plus history/).
//
// With a state dir, its store is the source of truth: start and SIGHUP
// load its newest valid version (a hand edit of rampart.yaml is recorded
// as a version first), and the web UI saves confirmed changes there. A
// --config file elsewhere only seeds an empty store; so does the embedded
// default when there is no --config.
//
// Without a state dir (`rampart run --config /etc/fw.yaml`), the file is
// read as is, as before the UI existed, and the web UI stays off: it has
// nowhere to keep its password, certificate, audit log and history, and
// writing them next to a file the admin named elsewhere would surprise.

// source loads configs and, with a state dir, stores them.
type source struct {
	path string       // --config; "" for the embedded default
	dir  string       // the state dir; "" for none
	st   *store.Store // nil without a state dir
	// rw remounts the stick for writes to the state dir when the dir is
	// on the stick PID 1 mounted read-only; else nil.
	rw  *stickrw.Writer
	log *slog.Logger
}

// stateDirFor picks the state dir: the explicit one, else the directory
// of a config named rampart.yaml, else none.
func stateDirFor(configPath, stateDir string) string {
	if stateDir != "" {
		return stateDir
	}
	if configPath != "" && filepath.Base(configPath) == store.CurrentFile {
		return filepath.Dir(configPath)
	}
	return ""
}

// openSource opens the store in the state dir, making the directory if
// needed, and seeds it when it holds no config yet.
func openSource(configPath, stateDir string, log *slog.Logger) (*source, error) {
	s := &source{path: configPath, dir: stateDirFor(configPath, stateDir), log: log}
	if s.dir == "" {
		return s, nil
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, fmt.Errorf("appliance: state dir: %w", err)
	}
	s.rw = stickrw.FromEnv(os.Getenv, s.dir)
	st, err := store.Open(s.dir, store.Options{Around: s.rw.Do, Report: func(file string, problem error) {
		log.Warn("config store: skipped", "file", file, "problem", problem)
	}})
	if err != nil {
		return nil, fmt.Errorf("appliance: state dir: %w", err)
	}
	s.st = st
	if err := s.seed(); err != nil {
		return nil, err
	}
	return s, nil
}

// seed saves the --config file (or the embedded default) as the first
// version of a store that has neither versions nor a rampart.yaml. The
// file is validated first, so a bad one fails here naming itself.
func (s *source) seed() error {
	if s.ownsConfigFile() {
		return nil // rampart.yaml is the store's own: Load takes it as a hand edit
	}
	vs, err := s.st.List()
	if err != nil {
		return fmt.Errorf("appliance: state dir: %w", err)
	}
	if _, statErr := os.Stat(filepath.Join(s.dir, store.CurrentFile)); len(vs) > 0 || statErr == nil {
		if s.path != "" {
			s.log.Info("the store in the state dir is in force; the --config file only seeds an empty store", "config", s.path, "state_dir", s.dir)
		}
		return nil
	}
	data, from := config.DefaultYAML(), "the embedded default"
	if s.path != "" {
		if data, err = os.ReadFile(s.path); err != nil {
			return fmt.Errorf("appliance: load config: %w", err)
		}
		from = s.path
	}
	if _, err := config.Parse(s.seedName(), data); err != nil {
		return fmt.Errorf("appliance: load config: %w", err)
	}
	v, err := s.st.Save(data, store.Meta{Author: "rampart", Source: "seed", Message: "first version, from " + from})
	if err != nil {
		return fmt.Errorf("appliance: seed the store: %w", err)
	}
	s.log.Info("config store seeded", "from", from, "version", v.ID, "state_dir", s.dir)
	return nil
}

func (s *source) seedName() string {
	if s.path == "" {
		return "embedded default"
	}
	return s.path
}

// ownsConfigFile reports whether --config is the store's own rampart.yaml.
func (s *source) ownsConfigFile() bool {
	if s.path == "" {
		return false
	}
	a, err1 := filepath.Abs(s.path)
	b, err2 := filepath.Abs(filepath.Join(s.dir, store.CurrentFile))
	return err1 == nil && err2 == nil && a == b
}

// load returns the config to run and its stored version (ID 0 when it
// does not come from a store). At start a store falls back to its newest
// valid version, since a box must boot.
func (s *source) load() (*config.Config, store.Version, error) {
	return s.read(false)
}

// reload is load for SIGHUP: a newest version that does not validate (a
// botched hand edit of rampart.yaml) rejects the reload with its errors,
// as a bad file always did, rather than quietly re-applying an older one.
func (s *source) reload() (*config.Config, store.Version, error) {
	return s.read(true)
}

func (s *source) read(strict bool) (*config.Config, store.Version, error) {
	if s.st == nil {
		if s.path == "" {
			s.log.Warn("no config file given: running the embedded default config")
			return config.Default(), store.Version{}, nil
		}
		cfg, err := config.Load(s.path)
		if err != nil {
			return nil, store.Version{}, fmt.Errorf("appliance: load config: %w", err)
		}
		return cfg, store.Version{}, nil
	}
	name := filepath.Join(s.dir, store.CurrentFile)
	var rejected error
	data, v, err := s.st.Load(func(b []byte) error {
		_, err := config.Parse(name, b)
		if rejected == nil {
			rejected = err
		}
		return err
	})
	if err == nil && strict && rejected != nil {
		err = rejected
	}
	if err != nil {
		return nil, store.Version{}, fmt.Errorf("appliance: load config: %w", err)
	}
	cfg, err := config.Parse(name, data)
	if err != nil { // Load checked it; only a bug gets here
		return nil, store.Version{}, fmt.Errorf("appliance: load config: %w", err)
	}
	return cfg, v, nil
}

// describe names the source for log lines.
func (s *source) describe() string {
	switch {
	case s.st != nil:
		return "store " + s.dir
	case s.path == "":
		return "embedded default"
	}
	return s.path
}
