package webui

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"rampart/webui/audit"
)

func TestAPITokens(t *testing.T) {
	e := newEnv(t)
	e.setUp()
	b := e.login("192.0.2.1:1000")
	resp := b.api(http.MethodPost, "/api/v1/tokens", map[string]string{"name": "backup"})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, readBody(resp))
	}
	created := decode[tokenInfo](t, resp)
	if !strings.HasPrefix(created.Token, "rpt_") || created.ID == "" {
		t.Fatalf("created %+v: want an id and an rpt_ secret", created)
	}
	state, _ := os.ReadFile(e.state.Path)
	if strings.Contains(string(state), created.Token) {
		t.Error("the state file holds the token secret")
	}

	script := e.browser("192.0.2.50:1000")
	bearer := func(method, path, body string) *http.Response {
		var r *http.Request
		if body == "" {
			r = script.request(method, path, "", nil)
		} else {
			r = script.request(method, path, "application/json", strings.NewReader(body))
		}
		r.Header.Set("Authorization", "Bearer "+created.Token)
		return script.do(r)
	}
	who := decode[sessionInfo](t, bearer(http.MethodGet, "/api/v1/session", ""))
	if diff := cmp.Diff(sessionInfo{Actor: "token:backup", Via: "token"}, who); diff != "" {
		t.Errorf("whoami with a token (-want +got):\n%s", diff)
	}
	second := decode[tokenInfo](t, bearer(http.MethodPost, "/api/v1/tokens", `{"name":"monitoring"}`))
	list := decode[tokenList](t, b.api(http.MethodGet, "/api/v1/tokens", nil))
	want := tokenList{Tokens: []tokenInfo{
		{ID: created.ID, Name: "backup", Created: e.clk.Now()},
		{ID: second.ID, Name: "monitoring", Created: e.clk.Now()},
	}}
	if diff := cmp.Diff(want, list); diff != "" {
		t.Errorf("list (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		name, method, path, ctype, body string
		want                            int
	}{
		{"empty name", "POST", "/api/v1/tokens", "application/json", `{"name":""}`, 400},
		{"control characters", "POST", "/api/v1/tokens", "application/json", `{"name":"a\nb"}`, 400},
		{"long name", "POST", "/api/v1/tokens", "application/json", `{"name":"` + strings.Repeat("n", 65) + `"}`, 400},
		{"unknown field", "POST", "/api/v1/tokens", "application/json", `{"name":"x","admin":true}`, 400},
		{"not JSON", "POST", "/api/v1/tokens", "application/json", `{"name":`, 400},
		{"two objects", "POST", "/api/v1/tokens", "application/json", `{"name":"x"}{"name":"y"}`, 400},
		{"wrong type", "POST", "/api/v1/tokens", "application/json", `{"name":42}`, 400},
		{"form body", "POST", "/api/v1/tokens", "application/x-www-form-urlencoded", `name=x`, 415},
		{"duplicate", "POST", "/api/v1/tokens", "application/json", `{"name":"backup"}`, 409},
		{"revoke unknown", "DELETE", "/api/v1/tokens/0123456789abcdef", "", "", 404},
		{"method", "PUT", "/api/v1/tokens", "application/json", `{}`, 405},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r *http.Request
			if tc.body == "" {
				r = b.request(tc.method, tc.path, tc.ctype, nil)
			} else {
				r = b.request(tc.method, tc.path, tc.ctype, strings.NewReader(tc.body))
			}
			r.Header.Set(csrfHeader, b.csrf)
			resp := b.do(r)
			body := readBody(resp)
			if resp.StatusCode != tc.want || !strings.Contains(body, `"error"`) {
				t.Errorf("status %d body %s; want %d and a JSON error", resp.StatusCode, body, tc.want)
			}
		})
	}

	if resp := bearer(http.MethodDelete, "/api/v1/tokens/"+created.ID, ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if resp := bearer(http.MethodGet, "/api/v1/session", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoked token: %d, want 401", resp.StatusCode)
	}

	entries, _ := e.audit.Recent(100)
	var got []audit.Entry
	for _, en := range entries {
		if strings.HasPrefix(en.Action, "token.") {
			got = append(got, en)
		}
	}
	wantAudit := []audit.Entry{
		{Actor: "admin", Peer: "192.0.2.1", Action: "token.create", Summary: `created API token "backup"`, Detail: map[string]string{"id": created.ID, "name": "backup"}},
		{Actor: "token:backup", Peer: "192.0.2.50", Action: "token.create", Summary: `created API token "monitoring"`, Detail: map[string]string{"id": second.ID, "name": "monitoring"}},
		{Actor: "token:backup", Peer: "192.0.2.50", Action: "token.revoke", Summary: `revoked API token "backup"`, Detail: map[string]string{"id": created.ID, "name": "backup"}},
	}
	if diff := cmp.Diff(wantAudit, got, cmpopts.IgnoreFields(audit.Entry{}, "Time")); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
}

func TestAPITokenLimit(t *testing.T) {
	e := newEnv(t)
	e.setUp()
	b := e.login("192.0.2.1:1000")
	var codes []int
	for i := range 33 {
		codes = append(codes, b.api(http.MethodPost, "/api/v1/tokens", map[string]string{"name": "t" + string(rune('A'+i))}).StatusCode)
	}
	if codes[31] != http.StatusCreated || codes[32] != http.StatusConflict {
		t.Errorf("token 32 got %d, token 33 got %d; want 201 then 409", codes[31], codes[32])
	}
}
