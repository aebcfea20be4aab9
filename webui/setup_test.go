package webui

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestFirstBootHasNoDefaultPassword(t *testing.T) {
	e := newEnv(t)
	if len(e.tokens) != 1 {
		t.Fatalf("New issued %d setup tokens, want 1 for the console", len(e.tokens))
	}
	if tok, _, ok := e.srv.SetupToken(); !ok || tok != e.setupToken() {
		t.Errorf("SetupToken() = %q, %v; want the issued token", tok, ok)
	}
	b := e.browser("192.0.2.1:1000")
	if resp := b.get("/login"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/setup" {
		t.Errorf("GET /login before setup: %d %q, want 303 to /setup", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := b.get("/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("GET / before setup: %d, want a redirect", resp.StatusCode)
	}
	b.get("/setup")
	for _, pw := range []string{"", "admin", "rampart", "password", testPassword} {
		before := b.cookie
		resp := b.post("/login", url.Values{"password": {pw}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/setup" || b.cookie != before {
			t.Errorf("POST /login %q before setup: %d %q, cookie changed %v; want 303 to /setup and no session",
				pw, resp.StatusCode, resp.Header.Get("Location"), b.cookie != before)
		}
	}
	if resp := b.api(http.MethodGet, "/api/v1/session", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("API before setup: %d, want 401", resp.StatusCode)
	}
}

func TestSetup(t *testing.T) {
	e := newEnv(t)
	tok := e.setupToken()
	b := e.browser("192.0.2.1:1000")
	resp := b.get("/setup")
	if resp.StatusCode != http.StatusOK || b.csrf == "" || b.cookie == "" {
		t.Fatalf("GET /setup: %d, csrf %q, cookie %q", resp.StatusCode, b.csrf, b.cookie)
	}
	for _, tc := range []struct {
		name                     string
		token, password, confirm string
		want                     int
	}{
		{"wrong token", strings.Repeat("A", len(tok)), testPassword, testPassword, http.StatusUnauthorized},
		{"no token", "", testPassword, testPassword, http.StatusUnauthorized},
		{"short password", tok, "short", "short", http.StatusBadRequest},
		{"passwords differ", tok, testPassword, testPassword + "!", http.StatusBadRequest},
		{"password is the token", tok, tok, tok, http.StatusBadRequest},
	} {
		resp := b.post("/setup", url.Values{"token": {tc.token}, "password": {tc.password}, "confirm": {tc.confirm}})
		if resp.StatusCode != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
	if st, _ := e.state.Load(); st.Admin != nil {
		t.Fatal("a refused setup stored a password")
	}
	resp = b.post("/setup", url.Values{"token": {strings.ToLower(tok)}, "password": {testPassword}, "confirm": {testPassword}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?setup=done" {
		t.Fatalf("setup with the token: %d %q: %s", resp.StatusCode, resp.Header.Get("Location"), readBody(resp))
	}
	st, err := e.state.Load()
	if err != nil || st.Admin == nil || !strings.HasPrefix(st.Admin.Hash, "$argon2id$") || strings.Contains(st.Admin.Hash, testPassword) {
		t.Fatalf("stored state %+v, %v; want an argon2id hash", st.Admin, err)
	}

	// The token is single-use: setup is over for good.
	if _, _, ok := e.srv.SetupToken(); ok {
		t.Error("SetupToken still offers a token after setup")
	}
	resp = b.post("/setup", url.Values{"token": {tok}, "password": {"another password!"}, "confirm": {"another password!"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Errorf("second setup: %d %q, want 303 to /login", resp.StatusCode, resp.Header.Get("Location"))
	}
	if again, _ := e.state.Load(); again.Admin.Hash != st.Admin.Hash {
		t.Error("a second setup replaced the password")
	}
	if resp := b.get("/setup"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("GET /setup after setup: %d, want a redirect", resp.StatusCode)
	}
	want := []string{"setup.failed", "setup.failed", "setup"}
	if diff := cmp.Diff(want, e.auditActions()); diff != "" {
		t.Errorf("audit actions (-want +got):\n%s", diff)
	}
}

func TestSetupTokenExpires(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.SetupTokenTTL = time.Hour })
	old := e.setupToken()
	b := e.browser("192.0.2.1:1000")
	b.get("/setup")
	e.clk.Advance(time.Hour)
	form := url.Values{"token": {old}, "password": {testPassword}, "confirm": {testPassword}}
	if resp := b.post("/setup", form); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("expired token: status %d, want 401", resp.StatusCode)
	}
	b.get("/setup") // reissues and "prints" a new token
	if len(e.tokens) != 2 || e.setupToken() == old {
		t.Fatalf("tokens issued %d, want a fresh second one", len(e.tokens))
	}
	form.Set("token", e.setupToken())
	form.Del(csrfField)
	if resp := b.post("/setup", form); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("fresh token: status %d, want 303", resp.StatusCode)
	}
}
