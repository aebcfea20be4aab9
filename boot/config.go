package boot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"rampart/boot/stick"
	"rampart/config"
	"rampart/config/store"
	"rampart/internal/stickrw"
)

// Where PID 1 keeps things.
const (
	stickDir = "/stick"       // the config stick's mount point
	runDir   = "/run/rampart" // state in RAM
	// runConfig is the copy of the stick's config the appliance runs
	// from, so that it keeps running, and restarts, when the stick is
	// pulled.
	runConfig = runDir + "/rampart.yaml"
	// stickWait bounds the search for the stick: USB storage appears
	// late, a second or more after the host controller.
	stickWait = 15 * time.Second
)

// bootConfig is the config PID 1 starts the appliance with.
type bootConfig struct {
	path     string // the file for --config; empty for the embedded default
	hostname string
	mount    *stick.Mount // nil without a stick
	store    *store.Store // nil without a stick
	version  store.Version
}

// findConfig waits for the stick, mounts it read-only and loads the
// newest config on it that is valid. Without a stick, or with one that
// holds no valid config, it returns the embedded default: a box that
// boots is better than one that doesn't.
// loadFS loads the file system's module before the mount.
func findConfig(ctx context.Context, log *slog.Logger, loadFS func(fstype string)) (*bootConfig, error) {
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		return nil, fmt.Errorf("boot: %w", err)
	}
	dev, err := stick.DefaultFinder.Wait(ctx, stick.Label, stickWait, 100*time.Millisecond)
	if err != nil {
		return nil, err
	}
	def := &bootConfig{hostname: config.Default().Hostname}
	if dev == nil {
		return def, nil
	}
	loadFS(dev.FSType)
	m, err := stick.MountRO(dev, stickDir)
	if err != nil {
		log.Error("config stick found but not mounted", "device", dev.Path, "err", err)
		return def, nil
	}
	log.Info("config stick mounted read-only", "device", dev.Path, "fs", dev.FSType, "dir", stickDir)
	// The appliance writes to the stick too: the same lock for both.
	st, err := store.Open(stickDir, store.Options{
		Around: stickrw.New(m.Dir, dev.FSType).Do,
		Report: func(file string, problem error) {
			log.Warn("config store", "file", file, "problem", problem)
		},
	})
	if err != nil {
		log.Error("config store unusable", "err", err)
		return &bootConfig{hostname: def.hostname, mount: m}, nil
	}
	bc := &bootConfig{hostname: def.hostname, mount: m, store: st}
	data, v, err := st.Load(validConfig)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			log.Error("no valid config on the stick", "err", err)
		}
		return bc, nil
	}
	cfg, _ := config.Parse(store.CurrentFile, data)
	if err := writeRunConfig(data); err != nil {
		return nil, err
	}
	bc.path, bc.hostname, bc.version = runConfig, cfg.Hostname, v
	return bc, nil
}

// validConfig is what the store checks each version with: a config the
// appliance would refuse is no better than a torn one.
func validConfig(data []byte) error {
	_, err := config.Parse(store.CurrentFile, data)
	return err
}

func writeRunConfig(data []byte) error {
	tmp := filepath.Join(runDir, ".rampart.yaml.tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("boot: %w", err)
	}
	if err := os.Rename(tmp, runConfig); err != nil {
		return fmt.Errorf("boot: %w", err)
	}
	return nil
}
