package auth

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
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
