package webui

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

const testPassphrase = "correct-horse-battery" // testConfig's ha.auth.passphrase

func TestSecretPatterns(t *testing.T) {
	want := [][]string{
		{"ha", "auth", "passphrase"},
		{"ha", "auth", "previous", "*", "passphrase"},
		{"statesync", "secret"},
	}
	if diff := cmp.Diff(want, secretPatterns()); diff != "" {
		t.Errorf("secret paths from the rampart:\"secret\" tags (-want +got):\n%s", diff)
	}
}

func TestRedactDoc(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"block, comment kept", "ha:\n  auth:\n    key_id: 1\n    passphrase: hunter2-hunter2-hunter2 # the key\n",
			"ha:\n  auth:\n    key_id: 1\n    passphrase: <redacted> # the key\n"},
		{"flow, quoted", "ha: {auth: {key_id: 1, passphrase: 'it''s a secret, really'}}\nstatesync: {secret: \"a\\\"b\\u00e9 long enough\"}\n",
			"ha: {auth: {key_id: 1, passphrase: <redacted>}}\nstatesync: {secret: <redacted>}\n"},
		{"after multibyte text", "ha: {auth: {key_id: 1, passphrase: \"ééé-secret-secret\"}, groups: []} # é\n",
			"ha: {auth: {key_id: 1, passphrase: <redacted>}, groups: []} # é\n"},
		{"previous keys", "ha:\n  auth:\n    previous:\n      - {key_id: 2, passphrase: old-old-old-old-old}\n      - key_id: 3\n        passphrase: older-older-older\n",
			"ha:\n  auth:\n    previous:\n      - {key_id: 2, passphrase: <redacted>}\n      - key_id: 3\n        passphrase: <redacted>\n"},
		{"empty stays", "statesync: {secret: \"\", key_file: /perm/k}\n", "statesync: {secret: \"\", key_file: /perm/k}\n"},
		// Not editable in place: the document is written anew.
		{"block scalar", "statesync:\n  secret: |\n    line one of it\n    line two\n", "statesync:\n  secret: <redacted>\n"},
		{"multi-line plain", "statesync:\n  secret: first half\n    second half\n", "statesync:\n  secret: <redacted>\n"},
		{"through an alias", "hostname: &s sneaky-secret-value\nstatesync: {secret: *s}\n", "hostname: &s <redacted>\nstatesync: {secret: *s}\n"},
		{"not a string", "statesync: {secret: [a, b]}\n", "statesync: {secret: <redacted>}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := redactDoc([]byte(tc.in), nil, false)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, string(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if _, _, err := redactDoc([]byte("a: [\n"), nil, false); err == nil || !strings.Contains(err.Error(), "redact secrets") {
		t.Errorf("bad YAML: %v", err)
	}
}

func TestRedactPair(t *testing.T) {
	a := "ha:\n  auth: {key_id: 1, passphrase: first-secret-first}\nstatesync: {secret: same-secret-same-secret}\n"
	b := "ha:\n  auth: {key_id: 1, passphrase: second-secret-second}\nstatesync: {secret: same-secret-same-secret}\n"
	ra, rb, err := redactPair([]byte(a), []byte(b))
	if err != nil {
		t.Fatal(err)
	}
	wantA := "ha:\n  auth: {key_id: 1, passphrase: <redacted>}\nstatesync: {secret: <redacted> (unchanged)}\n"
	wantB := "ha:\n  auth: {key_id: 1, passphrase: <redacted> (changed)}\nstatesync: {secret: <redacted> (unchanged)}\n"
	if diff := cmp.Diff(wantA, string(ra)); diff != "" {
		t.Errorf("a (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantB, string(rb)); diff != "" {
		t.Errorf("b (-want +got):\n%s", diff)
	}
	// One side needs encoding anew: so does the other, so that the
	// diff shows no change of layout.
	c := "ha:\n  auth:\n    key_id: 1\n    passphrase: |\n      second-secret-second\n"
	ra, rc, err := redactPair([]byte(a), []byte(c))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(ra)+string(rc), "-second") || !strings.Contains(string(rc), "passphrase: <redacted> (changed)") {
		t.Errorf("a:\n%s\nc:\n%s", ra, rc)
	}
}

func TestRestoreDoc(t *testing.T) {
	stored := treeSecretsOf(t, "ha:\n  auth: {key_id: 1, passphrase: current-key-current}\n  groups: []\n")
	for _, tc := range []struct {
		name, in, want, err string
	}{
		{"same place", "ha:\n  auth: {key_id: 1, passphrase: <redacted>} # kept\n",
			"ha:\n  auth: {key_id: 1, passphrase: \"current-key-current\"} # kept\n", ""},
		{"quoted placeholder", "ha:\n  auth:\n    key_id: 1\n    passphrase: \"<redacted>\"\n",
			"ha:\n  auth:\n    key_id: 1\n    passphrase: \"current-key-current\"\n", ""},
		{"rotation: the key moves to previous by its key_id",
			"ha:\n  auth:\n    key_id: 2\n    passphrase: brand-new-passphrase\n    previous: [{key_id: 1, passphrase: <redacted>}]\n",
			"ha:\n  auth:\n    key_id: 2\n    passphrase: brand-new-passphrase\n    previous: [{key_id: 1, passphrase: \"current-key-current\"}]\n", ""},
		{"a new value replaces", "ha:\n  auth: {key_id: 1, passphrase: another-one-entirely}\n",
			"ha:\n  auth: {key_id: 1, passphrase: another-one-entirely}\n", ""},
		{"nothing stored there", "statesync:\n  secret: <redacted>\n", "",
			"request:2:11: statesync.secret: <redacted> keeps the stored secret, but none is stored here; send the secret itself"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := restoreDoc("request", []byte(tc.in), stored)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, string(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func treeSecretsOf(t *testing.T, doc string) []secretSite {
	t.Helper()
	tree := map[string]any{}
	if err := yaml.Unmarshal([]byte(doc), &tree); err != nil {
		t.Fatal(err)
	}
	return treeSecrets(tree)
}

// noSecret fails when body shows the passphrase.
func noSecret(t *testing.T, what, body string) {
	t.Helper()
	if strings.Contains(body, testPassphrase) || strings.Contains(body, "new-passphrase-for-the-pair") {
		t.Errorf("%s shows a secret:\n%s", what, body)
	}
}

func TestAPIConfigSecrets(t *testing.T) {
	e, b := adminEnv(t)
	api := script{e: e, token: e.token(b, "ci"), remote: "192.0.2.9:1"}

	body := mustStatus(t, api.do("GET", "/api/v1/config", nil), 200)
	noSecret(t, "GET /api/v1/config", body)
	cv := unmarshal[configView](t, body)
	if !strings.Contains(cv.YAML, "passphrase: <redacted>") {
		t.Errorf("yaml:\n%s", cv.YAML)
	}
	if got := cv.Config["ha"].(map[string]any)["auth"].(map[string]any)["passphrase"]; got != secretPlaceholder {
		t.Errorf("config.ha.auth.passphrase = %v", got)
	}

	// The document as GET gave it, sent back with an edit: the stored
	// passphrase stays in force.
	edited := strings.Replace(cv.YAML, "hostname: fw-a", "hostname: fw-a2", 1)
	mustStatus(t, api.do("PUT", "/api/v1/config", map[string]any{"yaml": edited}), 202)
	if got := e.be.runningConfig(); got.Hostname != "fw-a2" || got.HA.Auth.Passphrase != testPassphrase {
		t.Errorf("after PUT yaml: hostname %q, passphrase %q", got.Hostname, got.HA.Auth.Passphrase)
	}
	mustStatus(t, api.do("POST", "/api/v1/change/revert", changeIDRequest{ID: pendingID(t, api)}), 204)

	// The same with the tree.
	cv.Config["hostname"] = "fw-a3"
	mustStatus(t, api.do("PUT", "/api/v1/config", map[string]any{"config": cv.Config}), 202)
	if got := e.be.runningConfig(); got.Hostname != "fw-a3" || got.HA.Auth.Passphrase != testPassphrase {
		t.Errorf("after PUT config: hostname %q, passphrase %q", got.Hostname, got.HA.Auth.Passphrase)
	}
	mustStatus(t, api.do("POST", "/api/v1/change/revert", changeIDRequest{ID: pendingID(t, api)}), 204)

	// The placeholder where nothing is stored is refused at its path.
	bad := cv.YAML + "statesync: {enabled: false, secret: <redacted>}\n"
	resp := unmarshal[invalidBody](t, mustStatus(t, api.do("PUT", "/api/v1/config", map[string]any{"yaml": bad}), 422))
	if len(resp.Fields) != 1 || resp.Fields[0].Path != "statesync.secret" || !strings.Contains(resp.Fields[0].Message, "send the secret itself") {
		t.Errorf("422 fields %+v", resp.Fields)
	}

	// A real value replaces the secret; the diff, the version and the
	// pending change say it changed and never show it.
	cv.Config["ha"].(map[string]any)["auth"].(map[string]any)["passphrase"] = "new-passphrase-for-the-pair"
	mustStatus(t, api.do("PUT", "/api/v1/config", map[string]any{"config": cv.Config}), 202)
	if got := e.be.runningConfig().HA.Auth.Passphrase; got != "new-passphrase-for-the-pair" {
		t.Errorf("passphrase %q after a new value", got)
	}
	page := readBody(b.get("/change"))
	noSecret(t, "/change", page)
	if !strings.Contains(page, "&lt;redacted&gt; (changed)") {
		t.Errorf("/change does not say the passphrase changed:\n%s", page)
	}
	confirmPending(t, api)

	d := mustStatus(t, api.do("GET", "/api/v1/history/diff?a=1&b=2", nil), 200)
	noSecret(t, "diff", d)
	var changed []string
	for _, h := range unmarshal[diffView](t, d).Hunks {
		for _, l := range h.Lines {
			if l[0] != ' ' {
				changed = append(changed, l)
			}
		}
	}
	want := []string{"-hostname: fw-a", "+hostname: fw-a3", "-    passphrase: <redacted>", "+    passphrase: <redacted> (changed)"}
	if diff := cmp.Diff(want, changed); diff != "" {
		t.Errorf("diff 1→2 (-want +got):\n%s", diff)
	}
	for _, path := range []string{"/history/2", "/history/diff?a=1&b=2"} {
		noSecret(t, path, readBody(b.get(path)))
	}
	v := mustStatus(t, api.do("GET", "/api/v1/history/2", nil), 200)
	noSecret(t, "/api/v1/history/2", v)
	if !strings.Contains(unmarshal[versionView](t, v).YAML, "passphrase: <redacted>\n") {
		t.Errorf("version 2:\n%s", v)
	}
}

func pendingID(t *testing.T, api script) string {
	t.Helper()
	p := unmarshal[pendingView](t, mustStatus(t, api.do("GET", "/api/v1/change", nil), 200))
	if p.Pending == nil {
		t.Fatal("nothing pending")
	}
	return p.Pending.ID
}
