package webui

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var newRule = map[string]any{"comment": "dns", "from": map[string]any{"interface": "lan"}, "protocol": "udp", "to": map[string]any{"ports": []any{53}}, "action": "accept"}

func TestChangeRevertsWhenNotConfirmed(t *testing.T) {
	e, b := adminEnv(t)
	api := script{e: e, token: e.token(b, "ci"), remote: "192.0.2.9:1"}
	before := e.be.runningConfig()
	versions, _ := e.be.History()

	resp := api.do(http.MethodPost, "/api/v1/rules", map[string]any{"item": newRule})
	if resp.Header.Get("Connection") != "close" {
		t.Error("the proposing response does not close its connection")
	}
	got := unmarshal[proposedBody](t, mustStatus(t, resp, http.StatusAccepted))
	if got.Key != "2" || got.Change.SecondsLeft != 120 {
		t.Errorf("proposed %+v; want key 2 and 120 s to confirm", got)
	}
	if r := e.be.runningConfig().Rules; len(r) != 3 || r[2].Comment != "dns" {
		t.Fatal("the change is not in force")
	}

	e.clk.Advance(119 * time.Second)
	if _, ok := e.srv.pendingChange(); !ok {
		t.Fatal("reverted before the deadline")
	}
	e.clk.Advance(time.Second)
	if _, ok := e.srv.pendingChange(); ok {
		t.Fatal("still pending after the deadline")
	}
	if e.be.runningConfig() != before {
		t.Error("the old config is not back in force")
	}
	after, _ := e.be.History()
	if len(after) != len(versions) {
		t.Errorf("an unconfirmed change was stored: %d versions, want %d", len(after), len(versions))
	}
	resp = api.do(http.MethodPost, "/api/v1/change/confirm", changeIDRequest{ID: got.Change.ID})
	mustStatus(t, resp, http.StatusNotFound)
	if acts := e.auditActions(); !strings.Contains(strings.Join(acts, " "), "config.propose config.expire") {
		t.Errorf("audit %q lacks propose then expire", acts)
	}
}

func TestConfirmStoresAndNeedsANewConnection(t *testing.T) {
	e, b := adminEnv(t)
	api := script{e: e, token: e.token(b, "ci"), remote: "192.0.2.9:1"}
	oldConn := e.srv.marks.Add(1) // a connection accepted before the change
	ch := unmarshal[proposedBody](t, mustStatus(t, api.do(http.MethodPost, "/api/v1/rules", map[string]any{"item": newRule}), http.StatusAccepted)).Change

	// The same connection, or any opened before the apply, is refused.
	r := b.request(http.MethodPost, "/api/v1/change/confirm", "application/json", strings.NewReader(`{"id":"`+ch.ID+`"}`))
	r.Header.Set(csrfHeader, b.csrf)
	resp := b.do(onConn(r, oldConn))
	body := mustStatus(t, resp, http.StatusConflict)
	if !strings.Contains(body, "new connection") || resp.Header.Get("Connection") != "close" {
		t.Errorf("old connection: %s, Connection %q; want a refusal that closes it", body, resp.Header.Get("Connection"))
	}
	// So are pages served on it: they close it, so the browser reconnects.
	if resp := b.do(onConn(b.request(http.MethodGet, "/rules", "", nil), oldConn)); resp.Header.Get("Connection") != "close" {
		t.Error("a page on an old connection while a change is pending keeps the connection open")
	}
	if _, ok := e.srv.pendingChange(); !ok {
		t.Fatal("a refused confirmation ended the change")
	}

	// A new connection confirms: the browser's form.
	b.get("/change")
	resp = b.post("/change/confirm", url.Values{"id": {ch.ID}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/change?done=confirmed" {
		t.Fatalf("confirm: %d %s", resp.StatusCode, readBody(resp))
	}
	versions, _ := e.be.History()
	if len(versions) != 2 || versions[0].Meta.Author != "token:ci" || !strings.Contains(versions[0].Meta.Message, `added rule "dns"`) {
		t.Errorf("stored versions %+v; want a second one by token:ci about the rule", versions)
	}
	data, _, _ := e.be.Version(versions[0].ID)
	if !strings.Contains(string(data), "comment: dns") {
		t.Error("the stored version lacks the new rule")
	}
	e.clk.Advance(time.Hour)
	if r := e.be.runningConfig().Rules; len(r) != 3 {
		t.Error("a confirmed change was reverted")
	}
}

// A real listener: a keep-alive connection opened before the change
// cannot confirm it; the refusal closes it, and the retry, on a new
// connection, succeeds.
func TestConfirmOverRealConnections(t *testing.T) {
	e, b := adminEnv(t)
	tok := e.token(b, "ci")
	srv := newLocalServer(t, e.srv)
	call := func(c *http.Client, method, path, body string) (*http.Response, string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return resp, readBody(resp)
	}
	early := &http.Client{Transport: &http.Transport{}}
	defer early.CloseIdleConnections()
	if resp, _ := call(early, "GET", "/api/v1/session", ""); resp.StatusCode != 200 {
		t.Fatal("session over a keep-alive connection failed")
	}
	proposer := &http.Client{Transport: &http.Transport{}}
	defer proposer.CloseIdleConnections()
	resp, body := call(proposer, "PUT", "/api/v1/rules/0", `{"item":{"comment":"lan out","from":{"interface":"lan"},"action":"accept","log":true}}`)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("propose: %d %s", resp.StatusCode, body)
	}
	id := unmarshal[proposedBody](t, body).Change.ID
	resp, body = call(early, "POST", "/api/v1/change/confirm", `{"id":"`+id+`"}`)
	if resp.StatusCode != http.StatusConflict || !resp.Close {
		t.Fatalf("confirm on the old connection: %d (close %v) %s; want 409 and the connection closed", resp.StatusCode, resp.Close, body)
	}
	resp, body = call(early, "POST", "/api/v1/change/confirm", `{"id":"`+id+`"}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("confirm on a new connection: %d %s", resp.StatusCode, body)
	}
}

func TestOneChangeAtATimeAndRevert(t *testing.T) {
	e, b := adminEnv(t)
	api := script{e: e, token: e.token(b, "ci"), remote: "192.0.2.9:1"}
	ch := unmarshal[proposedBody](t, mustStatus(t, api.do(http.MethodPost, "/api/v1/rules", map[string]any{"item": newRule}), http.StatusAccepted)).Change

	for _, tc := range []struct {
		name, method, path string
		body               any
	}{
		{"another rule", "POST", "/api/v1/rules", map[string]any{"item": newRule}},
		{"whole config", "PUT", "/api/v1/config", map[string]any{"yaml": testConfig}},
		{"maintenance", "PUT", "/api/v1/maintenance", map[string]any{"enabled": true}},
		{"history revert", "POST", "/api/v1/history/1/revert", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := mustStatus(t, api.do(tc.method, tc.path, tc.body), http.StatusConflict)
			if !strings.Contains(body, "pending") {
				t.Errorf("body %s does not say a change is pending", body)
			}
		})
	}
	// The form shows the refusal on the form, keeping the input.
	b.get("/edit/rules")
	resp := b.post("/edit/rules", url.Values{"comment": {"kept input"}, "action": {"accept"}})
	if body := readBody(resp); resp.StatusCode != http.StatusConflict || !strings.Contains(body, "kept input") {
		t.Errorf("form while pending: %d; want 409 with the input kept", resp.StatusCode)
	}

	mustStatus(t, api.do(http.MethodPost, "/api/v1/change/revert", changeIDRequest{ID: "other"}), http.StatusConflict)
	mustStatus(t, api.do(http.MethodPost, "/api/v1/change/revert", changeIDRequest{ID: ch.ID}), http.StatusNoContent)
	if r := e.be.runningConfig().Rules; len(r) != 2 {
		t.Errorf("after revert %d rules, want 2", len(r))
	}
	got := unmarshal[pendingView](t, mustStatus(t, api.do(http.MethodGet, "/api/v1/change", nil), http.StatusOK))
	if diff := cmp.Diff(pendingView{}, got); diff != "" {
		t.Errorf("pending after revert (-want +got):\n%s", diff)
	}
}

func TestFailedApplyChangesNothing(t *testing.T) {
	e, b := adminEnv(t)
	api := script{e: e, token: e.token(b, "ci"), remote: "192.0.2.9:1"}
	e.be.applyErr = errKernel
	body := mustStatus(t, api.do(http.MethodPost, "/api/v1/rules", map[string]any{"item": newRule}), http.StatusUnprocessableEntity)
	if !strings.Contains(body, "previous config stays in force") || !strings.Contains(body, "operation not permitted") {
		t.Errorf("body %s", body)
	}
	if _, ok := e.srv.pendingChange(); ok {
		t.Error("a failed apply left a pending change")
	}
}

func TestFailedAutomaticRevertIsRetried(t *testing.T) {
	e, b := adminEnv(t)
	api := script{e: e, token: e.token(b, "ci"), remote: "192.0.2.9:1"}
	before := e.be.runningConfig()
	mustStatus(t, api.do(http.MethodPost, "/api/v1/rules", map[string]any{"item": newRule}), http.StatusAccepted)
	e.be.applyErr = errKernel
	e.clk.Advance(120 * time.Second)
	if _, ok := e.srv.pendingChange(); !ok {
		t.Fatal("a failed revert ended the change")
	}
	mustStatus(t, api.do(http.MethodPost, "/api/v1/rules", map[string]any{"item": newRule}), http.StatusConflict)
	e.clk.Advance(revertRetry)
	if _, ok := e.srv.pendingChange(); ok || e.be.runningConfig() != before {
		t.Error("the retried revert did not restore the old config")
	}
	if acts := strings.Join(e.auditActions(), " "); !strings.Contains(acts, "config.revert.failed config.expire") {
		t.Errorf("audit %q", acts)
	}
}
