package webui

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// adminEnv is a set-up server with a logged-in browser.
func adminEnv(t *testing.T, mods ...func(*Options)) (*env, *browser) {
	t.Helper()
	e := newEnv(t, mods...)
	e.setUp()
	return e, e.login("192.0.2.1:1000")
}

// token makes an API token with b and returns its secret.
func (e *env) token(b *browser, name string) string {
	e.t.Helper()
	resp := b.api(http.MethodPost, "/api/v1/tokens", map[string]string{"name": name})
	if resp.StatusCode != http.StatusCreated {
		e.t.Fatalf("create token: %d %s", resp.StatusCode, readBody(resp))
	}
	return decode[tokenInfo](e.t, resp).Token
}

// script is an API client with a token; each request is a new
// connection, as for curl.
type script struct {
	e      *env
	token  string
	remote string
}

func (s script) do(method, path string, body any) *http.Response {
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = strings.NewReader(string(data))
	}
	r := s.e.browser(s.remote).request(method, path, "", rd)
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	r.Header.Set("Authorization", "Bearer "+s.token)
	w := &recorder{header: http.Header{}}
	s.e.srv.Handler().ServeHTTP(w, r)
	return w.result()
}

// onConn sends r as if on a connection that got mark: a connection the
// server accepted at that point.
func onConn(r *http.Request, mark uint64) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), connMarkKey{}, mark))
}

// recorder is a minimal ResponseWriter (httptest's would do; this one
// keeps the test independent of its buffering details).
type recorder struct {
	header http.Header
	code   int
	body   strings.Builder
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.body.Write(b)
}
func (r *recorder) result() *http.Response {
	return &http.Response{StatusCode: r.code, Header: r.header, Body: io.NopCloser(strings.NewReader(r.body.String()))}
}

func mustStatus(t *testing.T, resp *http.Response, want int) string {
	t.Helper()
	body := readBody(resp)
	if resp.StatusCode != want {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, want, body)
	}
	return body
}

func unmarshal[T any](t *testing.T, body string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("decode %T from %s: %v", v, body, err)
	}
	return v
}
