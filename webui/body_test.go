package webui

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// chunked hides its length, so only the reading limit can stop it.
type chunked struct{ io.Reader }

func TestOversizedBodiesRefused(t *testing.T) {
	e := newEnv(t)
	e.setUp()
	b := e.login("192.0.2.1:1000")
	big := url.Values{"password": {strings.Repeat("x", 100<<10)}, csrfField: {b.csrf}}.Encode()
	for _, tc := range []struct {
		name string
		req  func() *http.Request
	}{
		{"declared form", func() *http.Request {
			return b.request(http.MethodPost, "/login", "application/x-www-form-urlencoded", strings.NewReader(big))
		}},
		{"undeclared form", func() *http.Request {
			r := b.request(http.MethodPost, "/login", "application/x-www-form-urlencoded", chunked{strings.NewReader(big)})
			r.ContentLength = -1
			return r
		}},
		{"undeclared JSON", func() *http.Request {
			r := b.request(http.MethodPost, "/api/v1/tokens", "application/json",
				chunked{strings.NewReader(`{"name":"` + strings.Repeat("x", 100<<10) + `"}`)})
			r.ContentLength = -1
			r.Header.Set(csrfHeader, b.csrf)
			return r
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if resp := b.do(tc.req()); resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Errorf("status %d, want 413: %s", resp.StatusCode, readBody(resp))
			}
		})
	}
	if resp := b.get("/"); resp.StatusCode != http.StatusOK {
		t.Error("the session did not survive oversized requests")
	}
}

func TestHostileFormInput(t *testing.T) {
	e := newEnv(t)
	b := e.browser("192.0.2.1:1000")
	b.get("/setup")
	for name, form := range map[string]url.Values{
		"binary token":     {"token": {"\x00\xff\xfe"}, "password": {testPassword}, "confirm": {testPassword}},
		"huge token":       {"token": {strings.Repeat("A", 30000)}, "password": {testPassword}, "confirm": {testPassword}},
		"repeated fields":  {"token": {"a", "b", "c"}, "password": {"x", "y"}},
		"markup in fields": {"token": {`"><script>alert(1)</script>`}, "password": {testPassword}, "confirm": {testPassword}},
	} {
		resp := b.post("/setup", form)
		body := readBody(resp)
		if resp.StatusCode != http.StatusUnauthorized || strings.Contains(body, "<script>alert") {
			t.Errorf("%s: status %d; want a clean 401", name, resp.StatusCode)
		}
	}
	r := b.request(http.MethodPost, "/setup", "application/x-www-form-urlencoded", strings.NewReader("%zz=%%&&="))
	if resp := b.do(r); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("malformed form: %d, want 400", resp.StatusCode)
	}
}
