package webui

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	e.setUp()
	b := e.login("192.0.2.1:1000")
	anon := e.browser("192.0.2.2:1000")
	for _, tc := range []struct {
		name  string
		resp  func() *http.Response
		code  int
		cache string
	}{
		{"dashboard", func() *http.Response { return b.get("/") }, 200, "no-store"},
		{"login page", func() *http.Response { return anon.get("/login") }, 200, "no-store"},
		{"not found", func() *http.Response { return anon.get("/nope") }, 404, "no-store"},
		{"CSRF refusal", func() *http.Response { return anon.post("/login", url.Values{csrfField: {"x"}}) }, 403, "no-store"},
		{"API 401", func() *http.Response { return anon.get("/api/v1/session") }, 401, "no-store"},
		{"API", func() *http.Response { return b.get("/api/v1/session") }, 200, "no-store"},
		{"stylesheet", func() *http.Response { return anon.get("/static/app.css") }, 200, "public, max-age=3600"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := tc.resp()
			want := map[string]string{
				"Content-Security-Policy":   "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
				"X-Content-Type-Options":    "nosniff",
				"X-Frame-Options":           "DENY",
				"Referrer-Policy":           "no-referrer",
				"Strict-Transport-Security": "max-age=31536000",
				"Cache-Control":             tc.cache,
				"Status":                    http.StatusText(tc.code),
			}
			got := map[string]string{"Status": http.StatusText(resp.StatusCode)}
			for k := range want {
				if k != "Status" {
					got[k] = resp.Header.Get(k)
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
		})
	}
}

// The CSP forbids inline script and style; the pages must not need them.
func TestPagesHaveNoInlineScriptOrStyle(t *testing.T) {
	e := newEnv(t)
	anon := e.browser("192.0.2.2:1000")
	pages := map[string]string{"setup": readBody(anon.get("/setup")), "error": readBody(anon.get("/nope"))}
	e.setUp()
	pages["login"] = readBody(anon.get("/login"))
	pages["dashboard"] = readBody(e.login("192.0.2.1:1000").get("/"))
	inline := regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>\s*[^<\s]|<script>|<style|\sstyle=|\son[a-z]+=|javascript:`)
	for name, body := range pages {
		if m := inline.FindString(body); m != "" {
			t.Errorf("%s page has inline code %q", name, m)
		}
		if !regexp.MustCompile(`<script src="/static/app.js" defer></script>`).MatchString(body) {
			t.Errorf("%s page does not load /static/app.js", name)
		}
	}
}

func TestStaticFiles(t *testing.T) {
	e := newEnv(t)
	b := e.browser("192.0.2.2:1000")
	for path, want := range map[string]string{
		"/static/app.css":        "text/css; charset=utf-8",
		"/static/app.js":         "text/javascript; charset=utf-8",
		"/static/":               "",
		"/static/..%2fserver.go": "",
		"/static/missing.js":     "",
	} {
		resp := b.get(path)
		got := ""
		if resp.StatusCode == http.StatusOK {
			got = resp.Header.Get("Content-Type")
		}
		if got != want {
			t.Errorf("GET %s: status %d, type %q; want type %q", path, resp.StatusCode, got, want)
		}
	}
}
