package webui

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLoginLogout(t *testing.T) {
	e := newEnv(t)
	e.setUp()
	b := e.browser("192.0.2.1:1000")
	if resp := b.get("/login?setup=done"); !strings.Contains(readBody(resp), "password is set") {
		t.Error("login page after setup lacks the notice")
	}
	if resp := b.post("/login", url.Values{"password": {"wrong password!"}}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong password: %d, want 401", resp.StatusCode)
	}
	if resp := b.get("/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("GET / after a failed login: %d, want a redirect", resp.StatusCode)
	}
	if resp := b.post("/login", url.Values{"password": {testPassword}}); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("login: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp := b.get("/")
	if body := readBody(resp); resp.StatusCode != http.StatusOK || !strings.Contains(body, "High availability") {
		t.Errorf("GET / logged in: %d %q", resp.StatusCode, body)
	}
	if resp := b.get("/login"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Errorf("GET /login logged in: %d, want 303 to /", resp.StatusCode)
	}
	who := decode[sessionInfo](t, b.api(http.MethodGet, "/api/v1/session", nil))
	if diff := cmp.Diff(sessionInfo{Actor: "admin", Via: "session"}, who); diff != "" {
		t.Errorf("whoami (-want +got):\n%s", diff)
	}
	sid := b.cookie
	resp = b.post("/logout", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" || b.cookie != "" {
		t.Errorf("logout: %d %q, cookie %q; want 303 to /login and the cookie cleared", resp.StatusCode, resp.Header.Get("Location"), b.cookie)
	}
	b.cookie = sid // a stolen or cached cookie is dead after logout
	if resp := b.get("/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("GET / with the logged-out cookie: %d, want a redirect", resp.StatusCode)
	}
	want := []string{"setup", "login.failed", "login", "logout"}
	if diff := cmp.Diff(want, e.auditActions()); diff != "" {
		t.Errorf("audit actions (-want +got):\n%s", diff)
	}
	entries, _ := e.audit.Recent(1)
	if got := entries[0]; got.Actor != "admin" || got.Peer != "192.0.2.1" || !got.Time.Equal(e.clk.Now()) {
		t.Errorf("logout entry %+v: want actor admin, peer 192.0.2.1, the fake clock's time", got)
	}
}

func TestSessionIdRotatesAtLogin(t *testing.T) {
	e := newEnv(t)
	e.setUp()
	b := e.browser("192.0.2.1:1000")
	b.cookie = "planted-by-an-attacker" // session fixation attempt
	b.get("/login")
	pre := b.cookie
	b.post("/login", url.Values{"password": {testPassword}})
	if b.cookie == pre || b.cookie == "" {
		t.Fatalf("session id %q did not rotate at login", b.cookie)
	}
	attacker := e.browser("198.51.100.1:1000")
	attacker.cookie = pre
	if resp := attacker.get("/"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the pre-login id is logged in: %d", resp.StatusCode)
	}
}

func TestSessionIdleExpiry(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.SessionIdle = 30 * time.Minute })
	e.setUp()
	b := e.login("192.0.2.1:1000")
	e.clk.Advance(29 * time.Minute)
	if resp := b.get("/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("after 29 idle minutes: %d, want 200", resp.StatusCode)
	}
	e.clk.Advance(29 * time.Minute)
	if resp := b.get("/"); resp.StatusCode != http.StatusOK {
		t.Fatalf("29 minutes after the last request: %d, want 200", resp.StatusCode)
	}
	e.clk.Advance(31 * time.Minute)
	if resp := b.get("/"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Errorf("after 31 idle minutes: %d %q, want 303 to /login", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := b.api(http.MethodGet, "/api/v1/session", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("API after idle expiry: %d, want 401", resp.StatusCode)
	}
}

func TestCookieAttributes(t *testing.T) {
	e := newEnv(t)
	e.setUp()
	b := e.browser("192.0.2.1:1000")
	b.get("/login")
	resp := b.post("/login", url.Values{"password": {testPassword}})
	var got *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == cookieName {
			got = c
		}
	}
	if got == nil {
		t.Fatalf("login set no %s cookie", cookieName)
	}
	want := http.Cookie{Name: "__Host-rampart_session", Value: got.Value, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode}
	got.Raw = ""
	if diff := cmp.Diff(want, *got); diff != "" {
		t.Errorf("cookie (-want +got):\n%s", diff)
	}
	if id, err := base64.RawURLEncoding.DecodeString(got.Value); err != nil || len(id) != 32 {
		t.Errorf("session id %q is not 256 bits of base64url", got.Value)
	}
}
