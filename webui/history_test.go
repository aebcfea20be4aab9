package webui

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// confirmPending confirms the pending change from a new request.
func confirmPending(t *testing.T, api script) {
	t.Helper()
	p := unmarshal[pendingView](t, mustStatus(t, api.do("GET", "/api/v1/change", nil), 200))
	if p.Pending == nil {
		t.Fatal("nothing pending")
	}
	mustStatus(t, api.do("POST", "/api/v1/change/confirm", changeIDRequest{ID: p.Pending.ID}), 200)
}

func TestHistoryDiffAndRevert(t *testing.T) {
	e, b := adminEnv(t)
	api := script{e: e, token: e.token(b, "ci"), remote: "192.0.2.9:1"}
	mustStatus(t, api.do("POST", "/api/v1/rules", map[string]any{"item": newRule, "message": "dns for the lan"}), 202)
	confirmPending(t, api)
	mustStatus(t, api.do("DELETE", "/api/v1/aliases/admins?message=x", nil), 422) // still used by a rule
	mustStatus(t, api.do("PUT", "/api/v1/aliases/admins", map[string]any{"item": map[string]any{"addresses": []any{"192.168.1.10/32", "192.168.1.11/32"}}}), 202)
	confirmPending(t, api)

	vs := unmarshal[versionsView](t, mustStatus(t, api.do("GET", "/api/v1/history", nil), 200)).Versions
	var ids []uint64
	for _, v := range vs {
		ids = append(ids, v.ID)
	}
	if diff := cmp.Diff([]uint64{3, 2, 1}, ids); diff != "" {
		t.Fatalf("versions (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(vs[1].Meta.Message, "dns for the lan (Filter rules: added rule") {
		t.Errorf("message %q", vs[1].Meta.Message)
	}

	d := unmarshal[diffView](t, mustStatus(t, api.do("GET", "/api/v1/history/diff?a=2&b=3", nil), 200))
	var changed []string
	for _, h := range d.Hunks {
		for _, l := range h.Lines {
			if l[0] != ' ' {
				changed = append(changed, l)
			}
		}
	}
	if diff := cmp.Diff([]string{"+      - 192.168.1.11/32"}, changed); diff != "" {
		t.Errorf("diff 2→3 (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"a=2", "a=2&b=99", "a=x&b=1", "a=0&b=1"} {
		resp := api.do("GET", "/api/v1/history/diff?"+bad, nil)
		if resp.StatusCode != 400 && resp.StatusCode != 404 {
			t.Errorf("diff?%s: %d", bad, resp.StatusCode)
		}
	}
	page := readBody(b.get("/history/diff?a=2&b=3"))
	if !strings.Contains(page, `<span class="ins">&#43;      - 192.168.1.11/32</span>`) {
		t.Error("the diff page lacks the inserted line")
	}
	if page := readBody(b.get("/history")); !strings.Contains(page, "dns for the lan") || !strings.Contains(page, "(running)") {
		t.Error("the history page lacks the versions")
	}

	// Revert to version 1 from the page: a change like any other.
	b.get("/history")
	resp := b.post("/history/1/revert", url.Values{})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revert: %d %s", resp.StatusCode, readBody(resp))
	}
	if n := len(e.be.runningConfig().Rules); n != 2 {
		t.Errorf("after revert to version 1: %d rules, want 2", n)
	}
	confirmPending(t, api)
	v1 := unmarshal[versionView](t, mustStatus(t, api.do("GET", "/api/v1/history/1", nil), 200))
	v4 := unmarshal[versionView](t, mustStatus(t, api.do("GET", "/api/v1/history/4", nil), 200))
	if v1.YAML != v4.YAML || v4.Version.Meta.Message != "revert to version 1" {
		t.Errorf("version 4 (%q) does not restore version 1", v4.Version.Meta.Message)
	}
	mustStatus(t, api.do("POST", "/api/v1/history/99/revert", nil), 404)
}

func TestHistoryKeepsFifty(t *testing.T) {
	e, b := adminEnv(t)
	api := script{e: e, token: e.token(b, "ci"), remote: "192.0.2.9:1"}
	for i := range 55 {
		mustStatus(t, api.do("PUT", "/api/v1/rules/0", map[string]any{"item": map[string]any{"comment": "v" + string(rune('A'+i)), "action": "accept"}}), 202)
		confirmPending(t, api)
	}
	vs := unmarshal[versionsView](t, mustStatus(t, api.do("GET", "/api/v1/history", nil), 200)).Versions
	if len(vs) < 50 {
		t.Errorf("%d versions kept, want at least 50", len(vs))
	}
}
