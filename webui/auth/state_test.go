package auth

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"rampart/internal/stickrw"
)

func TestFileStateStore(t *testing.T) {
	dir := t.TempDir()
	st := FileStateStore{Path: filepath.Join(dir, "webui-state.json")}
	got, err := st.Load()
	if err != nil {
		t.Fatalf("Load on first boot: %v", err)
	}
	if diff := cmp.Diff(State{Version: StateVersion}, got); diff != "" {
		t.Errorf("first-boot state (-want +got):\n%s", diff)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	_, tok, _ := NewAPIToken("backup", now)
	want := State{Version: StateVersion, Admin: &Credential{Hash: "$argon2id$x", Changed: now}, Tokens: []APIToken{tok}}
	if err := st.Save(want); err != nil {
		t.Fatal(err)
	}
	got, err = st.Load()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	fi, err := os.Stat(st.Path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, want 0600", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after Save, want only the state file", len(entries))
	}
}

func TestFileStateStoreRejectsBadFiles(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"garbage":     "not json",
		"new version": `{"version": 99}`,
		"huge":        `{"version": 1, "x": "` + string(make([]byte, maxStateBytes)) + `"}`,
	} {
		p := filepath.Join(dir, "state.json")
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := (FileStateStore{Path: p}).Load(); err == nil {
			t.Errorf("%s: Load succeeded", name)
		}
	}
}

// On the stick, Save writes between a read-write and a read-only remount
// (rampart/internal/stickrw).
func TestFileStateStoreRemountsStick(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "webui-state.json")
	var log []string
	st := FileStateStore{Path: path, Stick: &stickrw.Writer{Lock: filepath.Join(dir, "lock"), Remount: func(ro bool) error {
		_, err := os.Stat(path)
		log = append(log, fmt.Sprintf("ro=%v exists=%v", ro, err == nil))
		return nil
	}}}
	if err := st.Save(State{}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"ro=false exists=false", "ro=true exists=true"}, log); diff != "" {
		t.Errorf("remounts (-want +got):\n%s", diff)
	}
}
