package webui

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"rampart/webui/audit"
	"rampart/webui/auth"
	"rampart/webui/ratelimit"
)

const (
	testHost     = "fw.test"
	testOrigin   = "https://" + testHost
	testPassword = "correct horse battery"
)

type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at            time.Time
	f             func()
	stopped, done bool
}

// AfterFunc runs f when Advance passes now+d, unless stopped first.
func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	tm := &fakeTimer{at: c.t.Add(d), f: f}
	c.timers = append(c.timers, tm)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		live := !tm.stopped && !tm.done
		tm.stopped = true
		return live
	}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock and then runs the timers that came due, in
// order, outside the lock (they may arm new timers).
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	var due []*fakeTimer
	for _, tm := range c.timers {
		if !tm.stopped && !tm.done && !tm.at.After(c.t) {
			tm.done = true
			due = append(due, tm)
		}
	}
	c.mu.Unlock()
	for _, tm := range due {
		tm.f()
	}
}

// env is one server with its files in a temp dir and a fake clock.
type env struct {
	t      *testing.T
	srv    *Server
	clk    *fakeClock
	be     *fakeBackend
	audit  *audit.FileLog
	state  auth.FileStateStore
	dir    string
	tokens []string // setup tokens issued, in order
}

func newEnv(t *testing.T, mods ...func(*Options)) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{
		t:     t,
		clk:   &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)},
		audit: audit.NewFileLog(filepath.Join(dir, "audit.log"), 0, 0),
		state: auth.FileStateStore{Path: filepath.Join(dir, "webui-state.json")},
		dir:   dir,
	}
	e.be = newFakeBackend(t, e.clk)
	opts := Options{
		Backend:        e.be,
		AfterFunc:      e.clk.AfterFunc,
		Now:            e.clk.Now,
		State:          e.state,
		Audit:          e.audit,
		PasswordParams: auth.TestParams(),
		RateLimit:      ratelimit.Config{PeerBurst: 100, GlobalBurst: 1000},
		OnSetupToken:   func(tok string, _ time.Time) { e.tokens = append(e.tokens, tok) },
	}
	for _, m := range mods {
		m(&opts)
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.srv = srv
	return e
}

func (e *env) setupToken() string {
	e.t.Helper()
	if len(e.tokens) == 0 {
		e.t.Fatal("no setup token was issued")
	}
	return e.tokens[len(e.tokens)-1]
}

// auditActions lists the audit log's actions in order.
func (e *env) auditActions() []string {
	e.t.Helper()
	entries, err := e.audit.Recent(1000)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, en := range entries {
		out = append(out, en.Action)
	}
	return out
}

// browser is a same-origin browser: it keeps the session cookie and sends
// Origin and Sec-Fetch-Site as a real one does.
type browser struct {
	e      *env
	remote string
	cookie string
	csrf   string // from the last page that had one
}

func (e *env) browser(remote string) *browser {
	return &browser{e: e, remote: remote}
}

func (b *browser) request(method, path, ctype string, body io.Reader) *http.Request {
	r := httptest.NewRequest(method, testOrigin+path, body)
	r.RemoteAddr = b.remote
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	if b.cookie != "" {
		r.AddCookie(&http.Cookie{Name: cookieName, Value: b.cookie})
	}
	if method != http.MethodGet {
		r.Header.Set("Origin", testOrigin)
		r.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	return r
}

var csrfRE = regexp.MustCompile(`name="csrf-token" content="([^"]+)"|name="csrf_token" value="([^"]+)"`)

// do serves r and takes any new cookie and CSRF token from the answer.
func (b *browser) do(r *http.Request) *http.Response {
	w := httptest.NewRecorder()
	b.e.srv.Handler().ServeHTTP(w, r)
	resp := w.Result()
	for _, c := range resp.Cookies() {
		if c.Name == cookieName {
			b.cookie = c.Value
			if c.MaxAge < 0 {
				b.cookie = ""
			}
		}
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(strings.NewReader(string(body)))
	if m := csrfRE.FindStringSubmatch(string(body)); m != nil {
		b.csrf = m[1] + m[2]
	}
	return resp
}

func (b *browser) get(path string) *http.Response {
	return b.do(b.request(http.MethodGet, path, "", nil))
}

// post sends a form with the browser's CSRF token.
func (b *browser) post(path string, form url.Values) *http.Response {
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form[csrfField]; !ok {
		form.Set(csrfField, b.csrf)
	}
	return b.do(b.request(http.MethodPost, path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode())))
}

// api sends JSON with the CSRF header, as app.js does.
func (b *browser) api(method, path string, body any) *http.Response {
	var rd io.Reader
	ctype := ""
	if body != nil {
		data, _ := json.Marshal(body)
		rd, ctype = strings.NewReader(string(data)), "application/json"
	}
	r := b.request(method, path, ctype, rd)
	r.Header.Set(csrfHeader, b.csrf)
	return b.do(r)
}

// setUp runs first-boot setup with testPassword.
func (e *env) setUp() {
	e.t.Helper()
	b := e.browser("192.0.2.200:5000")
	b.get("/setup")
	resp := b.post("/setup", url.Values{"token": {e.setupToken()}, "password": {testPassword}, "confirm": {testPassword}})
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("setup: status %d: %s", resp.StatusCode, readBody(resp))
	}
}

// login returns a logged-in browser at remote.
func (e *env) login(remote string) *browser {
	e.t.Helper()
	b := e.browser(remote)
	b.get("/login")
	if resp := b.post("/login", url.Values{"password": {testPassword}}); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		e.t.Fatalf("login: status %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	b.get("/") // picks up the session's CSRF token
	return b
}

func readBody(resp *http.Response) string {
	data, _ := io.ReadAll(resp.Body)
	return string(data)
}

func decode[T any](t *testing.T, resp *http.Response) T {
	t.Helper()
	var v T
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("decode %T: %v", v, err)
	}
	return v
}

func stringsReader(v url.Values) io.Reader { return strings.NewReader(v.Encode()) }
