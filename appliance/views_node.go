package appliance

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"rampart/webui"
)

// stickStatusFile is where PID 1 says whether the config stick is in
// (boot.StickStatusFile; not imported, so the daemon does not link boot).
const stickStatusFile = "/run/rampart/stick.json"

// maxStickStatus bounds reading that file.
const maxStickStatus = 4096

// stickStatus is the file's content (boot.StickStatus).
type stickStatus struct {
	Present bool      `json:"present"`
	Device  string    `json:"device,omitempty"`
	Dir     string    `json:"dir,omitempty"`
	Since   time.Time `json:"since"`
}

// Node returns this node's build, uptime and config source.
func (d *Daemon) Node() webui.NodeStatus {
	cfg, _ := d.Running()
	n := webui.NodeStatus{Version: d.opts.Version, Started: d.ui.started, ConfigPath: d.source()}
	if cfg != nil {
		n.Hostname = cfg.Hostname
	}
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) == nil {
		n.Uptime = time.Duration(si.Uptime) * time.Second
	}
	st, known := readStickStatus(d.ui.stickFile)
	n.StickKnown, n.StickPresent, n.StickDevice, n.StickSince = known, st.Present, st.Device, st.Since
	n.ConfigSource = configSource(d.ui.src.path, d.ui.src.dir, st, known)
	return n
}

// readStickStatus reads PID 1's stick file; false when there is none
// (a plain `rampart run`) or it cannot be read.
func readStickStatus(path string) (stickStatus, bool) {
	if path == "" {
		path = stickStatusFile
	}
	var st stickStatus
	f, err := os.Open(path)
	if err != nil {
		return st, false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxStickStatus))
	if err != nil || json.Unmarshal(b, &st) != nil {
		return stickStatus{}, false
	}
	return st, true
}

// configSource says where the config in force lives: the stick's store
// (stick), a copy in RAM PID 1 made (ram: the stick was pulled, or PID 1
// keeps the state in RAM), the embedded default (default), or a file
// named with --config outside PID 1 (file).
func configSource(path, stateDir string, st stickStatus, known bool) string {
	switch {
	case known && st.Present && st.Dir != "" && stateDir != "" && within(stateDir, st.Dir):
		return webui.SourceStick
	case path == "":
		return webui.SourceDefault
	case known:
		return webui.SourceRAM
	}
	return webui.SourceFile
}

// within reports whether dir is root or below it.
func within(dir, root string) bool {
	rel, err := filepath.Rel(filepath.Clean(root), filepath.Clean(dir))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

var _ webui.NodeViewer = (*Daemon)(nil)
