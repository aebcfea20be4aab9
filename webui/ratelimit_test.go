package webui

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rampart/webui/ratelimit"
)

func TestLoginRateLimitByPeerAddress(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.RateLimit = ratelimit.Config{PeerBurst: 3, PeerRate: 1e-6, GlobalBurst: 100, GlobalRate: 1}
	})
	e.setUp()
	guesser := e.browser("192.0.2.66:40000")
	guesser.get("/login")
	var got []int
	for i, xff := range []string{"", "", "", "10.0.0.1", "10.0.0.2", "198.51.100.7"} {
		r := guesser.request(http.MethodPost, "/login", "application/x-www-form-urlencoded",
			stringsReader(url.Values{"password": {"guess " + string(rune('a'+i)) + " xxxxxxxx"}, csrfField: {guesser.csrf}}))
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
			r.Header.Set("X-Real-IP", xff)
			r.Header.Set("Forwarded", "for="+xff)
		}
		got = append(got, guesser.do(r).StatusCode)
	}
	want := []int{401, 401, 401, 429, 429, 429}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	// Even the right password waits: the limit is checked first.
	if resp := guesser.post("/login", url.Values{"password": {testPassword}}); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("right password while limited: %d, want 429", resp.StatusCode)
	}
	// Another port on the same host is the same peer.
	samehost := e.browser("192.0.2.66:40001")
	samehost.get("/login")
	if resp := samehost.post("/login", url.Values{"password": {testPassword}}); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("same host, other port: %d, want 429", resp.StatusCode)
	}
	// The admin at another address is not locked out, even if the guesser
	// names the admin's address in a header.
	admin := e.browser("192.0.2.10:1000")
	admin.get("/login")
	r := admin.request(http.MethodPost, "/login", "application/x-www-form-urlencoded",
		stringsReader(url.Values{"password": {testPassword}, csrfField: {admin.csrf}}))
	r.Header.Set("X-Forwarded-For", "192.0.2.66")
	if resp := admin.do(r); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("admin from another address: %d, want 303", resp.StatusCode)
	}
}

func TestBearerFailuresAreRateLimited(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.RateLimit = ratelimit.Config{PeerBurst: 2, PeerRate: 1e-6, GlobalBurst: 100, GlobalRate: 1}
	})
	e.setUp()
	b := e.browser("192.0.2.66:40000")
	var got []int
	for range 4 {
		r := b.request(http.MethodGet, "/api/v1/session", "", nil)
		r.Header.Set("Authorization", "Bearer rpt_guess")
		got = append(got, b.do(r).StatusCode)
	}
	if diff := cmp.Diff([]int{401, 401, 429, 429}, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
}
