package boot

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"rampart/boot/stick"
)

// StickStatusFile tells the appliance (and so the web UI) whether the
// config stick is in. Changes made while it is out live only in RAM.
const StickStatusFile = runDir + "/stick.json"

// StickStatus is the content of StickStatusFile.
type StickStatus struct {
	Present bool      `json:"present"`
	Device  string    `json:"device,omitempty"`
	Dir     string    `json:"dir,omitempty"`
	Since   time.Time `json:"since"`
}

// stickWatch notices a pulled stick and keeps the status file current.
type stickWatch struct {
	log *slog.Logger
	mu  sync.Mutex
	m   *stick.Mount // nil once pulled
}

func (w *stickWatch) mount() *stick.Mount {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.m
}

// run polls until ctx ends. A pulled stick's mount is detached; the
// appliance keeps running from the copy in RAM.
func (w *stickWatch) run(ctx context.Context, interval time.Duration) {
	w.publish()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		m := w.mount()
		if m == nil || stick.DefaultFinder.Present(m.Dev) {
			continue
		}
		w.log.Error("CONFIG STICK REMOVED: running from the copy in RAM; changes are not saved until it is back and the box restarts", "device", m.Dev.Path)
		if err := m.Detach(); err != nil {
			w.log.Warn("stick", "err", err)
		}
		w.mu.Lock()
		w.m = nil
		w.mu.Unlock()
		w.publish()
	}
}

func (w *stickWatch) publish() {
	st := StickStatus{Since: time.Now().UTC()}
	if m := w.mount(); m != nil {
		st.Present, st.Device, st.Dir = true, m.Dev.Path, m.Dir
	}
	b, _ := json.Marshal(st)
	tmp := filepath.Join(runDir, ".stick.json.tmp")
	if err := os.WriteFile(tmp, b, 0o644); err == nil {
		_ = os.Rename(tmp, StickStatusFile)
	}
}
