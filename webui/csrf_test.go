package webui

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestCSRF(t *testing.T) {
	e := newEnv(t)
	e.setUp()
	b := e.login("192.0.2.1:1000")
	other := e.browser("192.0.2.2:1000")
	other.get("/login") // a pre-login session with its own token
	for _, tc := range []struct {
		name  string
		tweak func(*http.Request)
		want  int
	}{
		{"right token", func(*http.Request) {}, http.StatusCreated},
		{"right token, no Origin or Sec-Fetch-Site (curl)", func(r *http.Request) {
			r.Header.Del("Origin")
			r.Header.Del("Sec-Fetch-Site")
		}, http.StatusCreated},
		{"missing token", func(r *http.Request) { r.Header.Del(csrfHeader) }, http.StatusForbidden},
		{"wrong token", func(r *http.Request) { r.Header.Set(csrfHeader, "AAAA"+b.csrf[4:]) }, http.StatusForbidden},
		{"another session's token", func(r *http.Request) { r.Header.Set(csrfHeader, other.csrf) }, http.StatusForbidden},
		{"cross-origin", func(r *http.Request) { r.Header.Set("Origin", "https://evil.example") }, http.StatusForbidden},
		{"plain-http origin", func(r *http.Request) { r.Header.Set("Origin", "http://"+testHost) }, http.StatusForbidden},
		{"null origin, same-origin fetch (a form post under no-referrer)", func(r *http.Request) {
			r.Header.Set("Origin", "null")
			r.Header.Set("Sec-Fetch-Site", "same-origin")
		}, http.StatusCreated},
		{"null origin, no Sec-Fetch-Site", func(r *http.Request) {
			r.Header.Set("Origin", "null")
			r.Header.Del("Sec-Fetch-Site")
		}, http.StatusForbidden},
		{"null origin, cross-site fetch", func(r *http.Request) {
			r.Header.Set("Origin", "null")
			r.Header.Set("Sec-Fetch-Site", "cross-site")
		}, http.StatusForbidden},
		{"cross-site fetch", func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") }, http.StatusForbidden},
		{"same-site fetch", func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "same-site") }, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := b.request(http.MethodPost, "/api/v1/tokens", "application/json",
				strings.NewReader(`{"name":"`+tc.name+`"}`))
			r.Header.Set(csrfHeader, b.csrf)
			tc.tweak(r)
			if resp := b.do(r); resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tc.want, readBody(resp))
			}
		})
	}
}

func TestCSRFOnForms(t *testing.T) {
	e := newEnv(t)
	e.setUp()
	b := e.login("192.0.2.1:1000")
	for name, form := range map[string]url.Values{
		"no token":    {csrfField: {""}},
		"wrong token": {csrfField: {"x" + b.csrf}},
	} {
		if resp := b.post("/logout", form); resp.StatusCode != http.StatusForbidden {
			t.Errorf("logout with %s: %d, want 403", name, resp.StatusCode)
		}
	}
	if resp := b.get("/"); resp.StatusCode != http.StatusOK {
		t.Error("a refused logout logged out")
	}
	// Login is guarded too (login CSRF would log the victim into the
	// attacker's session).
	fresh := e.browser("192.0.2.3:1000")
	if resp := fresh.post("/login", url.Values{"password": {testPassword}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("login without a form session: %d, want 403", resp.StatusCode)
	}
	// The token of a pre-login session dies with the rotated id.
	fresh.get("/login")
	preToken := fresh.csrf
	fresh.post("/login", url.Values{"password": {testPassword}})
	if resp := fresh.post("/logout", url.Values{csrfField: {preToken}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("pre-login token after login: %d, want 403", resp.StatusCode)
	}
}

func TestBearerIsExemptFromCSRFNotAuth(t *testing.T) {
	e := newEnv(t)
	e.setUp()
	b := e.login("192.0.2.1:1000")
	created := decode[tokenInfo](t, b.api(http.MethodPost, "/api/v1/tokens", map[string]string{"name": "script"}))

	script := func(auth, origin string) *http.Response {
		r := b.request(http.MethodPost, "/api/v1/tokens", "application/json", strings.NewReader(`{"name":"from script `+origin+`"}`))
		r.Header.Del("Cookie")
		r.Header.Set("Origin", origin)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		return b.do(r)
	}
	if resp := script("bearer "+created.Token, "https://evil.example"); resp.StatusCode != http.StatusCreated {
		t.Errorf("bearer without CSRF token: %d, want 201: %s", resp.StatusCode, readBody(resp))
	}
	if resp := script("", testOrigin); resp.StatusCode != http.StatusForbidden {
		t.Errorf("no credentials at all: %d, want 403 from the CSRF check", resp.StatusCode)
	}
	for _, auth := range []string{"Bearer rpt_wrong", "Basic YWRtaW46eA==", "Bearer", "Bearer " + created.Token + "x"} {
		if resp := script(auth, testOrigin); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("Authorization %q: %d, want 401", auth, resp.StatusCode)
		}
	}
	// A bad token is not rescued by a valid cookie.
	r := b.request(http.MethodGet, "/api/v1/session", "", nil)
	r.Header.Set("Authorization", "Bearer rpt_wrong")
	if resp := b.do(r); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("bad bearer with a good cookie: %d, want 401", resp.StatusCode)
	}
}
