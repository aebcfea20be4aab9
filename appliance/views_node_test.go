package appliance

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"rampart/config"
	"rampart/webui"
)

func TestConfigSource(t *testing.T) {
	in := stickStatus{Present: true, Device: "/dev/sdb1", Dir: "/stick"}
	out := stickStatus{Present: false}
	for _, tc := range []struct {
		name, path, dir string
		st              stickStatus
		known           bool
		want            string
	}{
		{"the stick's store", "/stick/rampart.yaml", "/stick", in, true, webui.SourceStick},
		{"a stick without a config", "", "/stick", in, true, webui.SourceStick},
		{"stick pulled: PID 1's copy in RAM", "/run/rampart/rampart.yaml", "/run/rampart/state", out, true, webui.SourceRAM},
		{"no stick: the embedded default", "", "/run/rampart/state", out, true, webui.SourceDefault},
		{"a stick dir that only looks alike", "/sticky/rampart.yaml", "/sticky", in, true, webui.SourceRAM},
		{"plain rampart run --config", "/etc/fw.yaml", "", stickStatus{}, false, webui.SourceFile},
		{"plain rampart run", "", "", stickStatus{}, false, webui.SourceDefault},
	} {
		if got := configSource(tc.path, tc.dir, tc.st, tc.known); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestNode(t *testing.T) {
	dir := t.TempDir()
	stickFile := filepath.Join(dir, "stick.json")
	if err := os.WriteFile(stickFile, []byte(`{"present":true,"device":"/dev/sdb1","dir":"`+dir+`","since":"2026-11-22T03:00:00Z"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	started := time.Date(2026, 11, 22, 3, 0, 5, 0, time.UTC)
	d := &Daemon{
		opts: Options{Version: "v1.2.3"},
		cfg:  &config.Config{Hostname: "fw-a"},
		ui:   uiState{src: &source{path: filepath.Join(dir, "rampart.yaml"), dir: dir}, started: started, stickFile: stickFile},
	}
	d.ui.src.st = nil // describe() reads only the fields
	got := d.Node()
	if got.Uptime <= 0 {
		t.Errorf("uptime %v", got.Uptime)
	}
	got.Uptime = 0
	want := webui.NodeStatus{Version: "v1.2.3", Hostname: "fw-a", Started: started, ConfigSource: webui.SourceStick, ConfigPath: d.source(),
		StickKnown: true, StickPresent: true, StickDevice: "/dev/sdb1", StickSince: time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("node (-want +got):\n%s", diff)
	}

	for _, bad := range []string{"", "{", `{"present":"yes"}`} {
		if err := os.WriteFile(stickFile, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, known := readStickStatus(stickFile); known {
			t.Errorf("stick file %q read as known", bad)
		}
	}
	if _, known := readStickStatus(filepath.Join(dir, "none")); known {
		t.Error("a missing stick file read as known")
	}
}
