package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"rampart/internal/netns"
	"rampart/lab"
)

// benchPassword is the admin password the bench sets.
const benchPassword = "bench-ui-admin-password"

// requestTimeout bounds one request; a slower one counts as an error.
const requestTimeout = 10 * time.Second

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// client talks to the UI from the LAN client namespace.
type client struct {
	ns     *netns.NS
	tg     target
	base   string
	jar    http.CookieJar
	cookie []*http.Cookie // the admin session, for the load clients
	token  string         // an API token, for the load clients
}

func newClient(l *lab.Lab, tg target) (*client, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	return &client{ns: l.Client, tg: tg, base: "https://" + tg.addr.String(), jar: jar}, nil
}

// httpClient makes a client with its own connection pool that dials from
// the client namespace and accepts only the certificate the console
// printed.
func (c *client) httpClient(jar http.CookieJar) *http.Client {
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		var conn net.Conn
		err := c.ns.Do(func() error {
			var err error
			conn, err = (&net.Dialer{}).DialContext(ctx, network, addr)
			return err
		})
		return conn, err
	}
	tlsCfg := &tls.Config{
		InsecureSkipVerify: true, // self-signed: checked against the console's fingerprint below
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			return c.checkFingerprint(raw)
		},
	}
	return &http.Client{
		Jar:     jar,
		Timeout: requestTimeout,
		Transport: &http.Transport{DialContext: dial, TLSClientConfig: tlsCfg, MaxIdleConnsPerHost: 1,
			IdleConnTimeout: time.Minute},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func (c *client) checkFingerprint(raw [][]byte) error {
	if len(raw) == 0 {
		return errors.New("no certificate")
	}
	sum := sha256.Sum256(raw[0])
	var parts []string
	for _, b := range sum {
		parts = append(parts, fmt.Sprintf("%02X", b))
	}
	if got := strings.Join(parts, ":"); c.tg.fingerprint != "" && got != c.tg.fingerprint {
		return fmt.Errorf("certificate %s is not the one the console printed (%s)", got, c.tg.fingerprint)
	}
	return nil
}

// setUp sets the admin password with the setup token, logs in, and
// creates an API token, all through the UI's forms and API.
func (c *client) setUp(ctx context.Context, setupToken string) error {
	hc := c.httpClient(c.jar)
	csrf, err := c.formToken(hc, "/setup")
	if err != nil {
		return err
	}
	if err := c.postForm(hc, "/setup", url.Values{"csrf_token": {csrf}, "token": {setupToken},
		"password": {benchPassword}, "confirm": {benchPassword}}, "/login"); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	if csrf, err = c.formToken(hc, "/login"); err != nil {
		return err
	}
	if err := c.postForm(hc, "/login", url.Values{"csrf_token": {csrf}, "username": {"admin"}, "password": {benchPassword}}, "/"); err != nil {
		return fmt.Errorf("login: %w", err)
	}
	u, _ := url.Parse(c.base + "/")
	c.cookie = c.jar.Cookies(u)
	return c.createToken(hc)
}

// formToken GETs path and returns its form's CSRF token.
func (c *client) formToken(hc *http.Client, path string) (string, error) {
	resp, err := hc.Get(c.base + path)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := csrfRE.FindSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		return "", fmt.Errorf("GET %s: %s, no form token", path, resp.Status)
	}
	return string(m[1]), nil
}

// postForm posts a form and expects a redirect to where.
func (c *client) postForm(hc *http.Client, path string, form url.Values, where string) error {
	resp, err := hc.PostForm(c.base+path, form)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, where) {
		return fmt.Errorf("POST %s: %s to %q, want a redirect to %s: %.300s", path, resp.Status, loc, where, body)
	}
	return nil
}

func (c *client) createToken(hc *http.Client) error {
	page, err := hc.Get(c.base + "/")
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	m := regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`).FindSubmatch(body)
	if m == nil {
		return fmt.Errorf("dashboard: %s, no csrf meta", page.Status)
	}
	req, _ := http.NewRequest(http.MethodPost, c.base+"/api/v1/tokens", bytes.NewReader([]byte(`{"name":"bench-ui"}`)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", string(m[1]))
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var tok struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusCreated || tok.Token == "" {
		return fmt.Errorf("create API token: %s (%v)", resp.Status, err)
	}
	c.token = tok.Token
	return nil
}

// sample is one timed request.
type sample struct {
	api bool
	d   time.Duration
	err bool
}

// load runs n clients for d, each on its own connection, alternating the
// dashboard (with the session cookie) and the status API (with the token).
func (c *client) load(ctx context.Context, n int, d time.Duration) result {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	out := make([][]sample, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = c.worker(ctx, i%2 == 1)
		}()
	}
	wg.Wait()
	res := result{duration: d, clients: n}
	var all []time.Duration
	for _, ss := range out {
		for _, s := range ss {
			res.requests++
			if s.err {
				res.errors++
				continue
			}
			all = append(all, s.d)
			if s.api {
				res.api = append(res.api, s.d)
			} else {
				res.dash = append(res.dash, s.d)
			}
		}
	}
	for _, s := range [][]time.Duration{all, res.dash, res.api} {
		slices.Sort(s)
	}
	res.p50, res.p99 = percentile(all, 50), percentile(all, 99)
	return res
}

// worker requests until ctx ends; api picks which request goes first.
func (c *client) worker(ctx context.Context, api bool) []sample {
	hc := c.httpClient(nil)
	var out []sample
	for ctx.Err() == nil {
		s := c.once(ctx, hc, api)
		if ctx.Err() != nil && s.err {
			break // cut off by the end of the run, not a failure
		}
		out = append(out, s)
		api = !api
	}
	hc.CloseIdleConnections()
	return out
}

func (c *client) once(ctx context.Context, hc *http.Client, api bool) sample {
	path := "/"
	if api {
		path = "/api/v1/status"
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if api {
		req.Header.Set("Authorization", "Bearer "+c.token)
	} else {
		for _, ck := range c.cookie {
			req.AddCookie(ck)
		}
	}
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		return sample{api: api, err: true}
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	return sample{api: api, d: d, err: err != nil || resp.StatusCode != http.StatusOK}
}
