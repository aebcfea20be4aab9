package webui

import (
	"strings"
	"testing"
	"time"
)

// TestDashboardLive: /dashboard/live is the dashboard's live part alone,
// the same markup the page has in #live, and it follows the backend
// within liveTTL, the time a drawing is served again.
func TestDashboardLive(t *testing.T) {
	e, b := adminEnv(t)
	page := readBody(b.get("/"))
	for _, want := range []string{`id="live" data-source="/dashboard/live"`, `id="live-status"`, `<script src="/static/app.js" defer>`} {
		if !strings.Contains(page, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	resp := b.get("/dashboard/live")
	frag := readBody(resp)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("fragment: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if strings.Contains(frag, "<html") || strings.Contains(frag, "<header") || inlineHandler.MatchString(frag) || strings.Contains(frag, "<script") {
		t.Errorf("the fragment is more than the live part:\n%s", frag)
	}
	if !strings.Contains(page, strings.TrimSpace(frag)) {
		t.Error("the page's live part differs from the fragment")
	}

	e.be.mu.Lock()
	g := &e.be.ha.Groups[0]
	g.State, g.Demotion = "backup", 50
	g.PeerState, g.PeerDemotion, g.PeerMessage, g.PeerSeen = "master", 0, "advert", e.clk.Now().Add(-time.Second)
	e.be.mu.Unlock()
	if again := readBody(b.get("/dashboard/live")); again != frag {
		t.Error("the live part was drawn again within liveTTL")
	}
	e.clk.Advance(liveTTL)
	frag = readBody(b.get("/dashboard/live"))
	for _, want := range []string{
		`<td class="ours"><span class="badge state-backup">backup</span> prio 200, <span class="badge warn">demoted 50</span>`,
		`<td class="peer"><span class="badge state-master">master</span> b prio 100<br><small>last advert 2026-03-01 11:59:59 UTC`,
	} {
		if !strings.Contains(frag, want) {
			t.Errorf("fragment lacks %q:\n%s", want, frag)
		}
	}

	// The System card, and the same in the API.
	for _, want := range []string{`<dt>Version</dt><dd><code>v0.9-test</code>`, `<dt>Uptime</dt><dd>1h30m0s`,
		`<span class="badge bad">in RAM only</span>`, `<code>store /run/rampart/state</code>`, `<span class="badge bad">absent</span>`} {
		if !strings.Contains(frag, want) {
			t.Errorf("System card lacks %q", want)
		}
	}
	st := unmarshal[statusView](t, mustStatus(t, b.api("GET", "/api/v1/status", nil), 200))
	if st.Node == nil || st.Node.ConfigSource != SourceRAM || st.Node.Version != "v0.9-test" {
		t.Errorf("status node %+v", st.Node)
	}

	// Without a session the fragment is a redirect to the login, which
	// app.js reads as the end of the session.
	if resp := e.browser("192.0.2.77:1").get("/dashboard/live"); resp.StatusCode != 303 || resp.Header.Get("Location") != "/login" {
		t.Errorf("no session: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}
