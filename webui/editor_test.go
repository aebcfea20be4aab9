package webui

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fieldErrorsOf reads the form page: field name -> its error messages.
func fieldErrorsOf(body string) map[string][]string {
	out := map[string][]string{}
	fields := regexp.MustCompile(`(?s)<div class="field invalid">.*?name="([^"]+)".*?</div>`).FindAllStringSubmatch(body, -1)
	for _, f := range fields {
		for _, m := range regexp.MustCompile(`<p class="field-error">([^<]*)</p>`).FindAllStringSubmatch(f[0], -1) {
			out[f[1]] = append(out[f[1]], m[1])
		}
	}
	return out
}

func TestRuleFormErrorsAtTheField(t *testing.T) {
	e, b := adminEnv(t)
	applies := e.be.applyCount()
	b.get("/edit/rules")
	resp := b.post("/edit/rules", url.Values{
		"comment": {"web"}, "action": {"accept"}, "protocol": {"tcp"},
		"from.alias":     {"nosuch"},
		"to.addresses":   {"192.0.2.10, 300.1.1.1"},
		"to.ports":       {"443"},
		"from.interface": {"dmz"},
	})
	body := readBody(resp)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422: %s", resp.StatusCode, body)
	}
	got := fieldErrorsOf(body)
	for _, field := range []string{"from.alias", "to.addresses", "from.interface"} {
		if len(got[field]) == 0 {
			t.Errorf("no error at %s; errors: %q", field, got)
		}
	}
	if len(got) != 3 {
		t.Errorf("errors at %d fields, want 3: %q", len(got), got)
	}
	if !strings.Contains(body, `value="192.0.2.10, 300.1.1.1"`) {
		t.Error("the form lost what was typed")
	}
	if e.be.applyCount() != applies {
		t.Error("an invalid config was applied")
	}
	if _, ok := e.srv.pendingChange(); ok {
		t.Error("an invalid config became a pending change")
	}
}

func TestRuleEditorAddEditMoveDelete(t *testing.T) {
	e, b := adminEnv(t)
	confirm := func() {
		t.Helper()
		v, ok := e.srv.pendingChange()
		if !ok {
			t.Fatal("nothing pending")
		}
		b.get("/change")
		if resp := b.post("/change/confirm", url.Values{"id": {v.ID}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("confirm: %d %s", resp.StatusCode, readBody(resp))
		}
	}
	comments := func() []string {
		var out []string
		for _, r := range e.be.runningConfig().Rules {
			out = append(out, r.Comment)
		}
		return out
	}
	b.get("/edit/rules?pos=0")
	resp := b.post("/edit/rules?pos=0", url.Values{"comment": {"block bad"}, "action": {"drop"}, "from.addresses": {"198.51.100.0/24"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/change?done=proposed" {
		t.Fatalf("add: %d %s", resp.StatusCode, readBody(resp))
	}
	confirm()
	if diff := cmp.Diff([]string{"block bad", "lan out", "ssh"}, comments()); diff != "" {
		t.Errorf("after add (-want +got):\n%s", diff)
	}

	// Editing keeps keys the form does not show (chain: input stays).
	page := readBody(b.get("/edit/rules/2"))
	if !strings.Contains(page, `value="admins"`) {
		t.Error("the edit form is not filled in")
	}
	b.post("/edit/rules/2", url.Values{"comment": {"ssh from admins"}, "action": {"accept"}, "protocol": {"tcp"}, "chain": {"input"}, "from.alias": {"admins"}, "to.ports": {"22, 2222"}, "log": {"on"}})
	confirm()
	r := e.be.runningConfig().Rules[2]
	if r.Comment != "ssh from admins" || !r.Log || len(r.To.Ports) != 2 || r.Chain != "input" {
		t.Errorf("edited rule %+v", r)
	}

	b.get("/rules")
	b.post("/edit/rules/2/move", url.Values{"dir": {"up"}})
	confirm()
	if diff := cmp.Diff([]string{"block bad", "ssh from admins", "lan out"}, comments()); diff != "" {
		t.Errorf("after move (-want +got):\n%s", diff)
	}
	b.get("/rules")
	b.post("/edit/rules/0/delete", nil)
	confirm()
	if diff := cmp.Diff([]string{"ssh from admins", "lan out"}, comments()); diff != "" {
		t.Errorf("after delete (-want +got):\n%s", diff)
	}
	if resp := b.post("/edit/rules/9/delete", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("delete of a missing rule: %d", resp.StatusCode)
	}
}

func TestDeletingAReferencedAliasIsRefused(t *testing.T) {
	e, b := adminEnv(t)
	b.get("/rules")
	resp := b.post("/edit/aliases/admins/delete", nil)
	body := readBody(resp)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "rules[1].from.alias") {
		t.Errorf("status %d; want 422 naming rules[1].from.alias: %s", resp.StatusCode, body)
	}
	if _, ok := e.be.runningConfig().Aliases["admins"]; !ok {
		t.Error("the alias was deleted")
	}
}

func TestSectionAPI(t *testing.T) {
	e, b := adminEnv(t)
	api := script{e: e, token: e.token(b, "ci"), remote: "192.0.2.9:1"}
	list := unmarshal[itemsView](t, mustStatus(t, api.do("GET", "/api/v1/nat/port-forwards", nil), 200))
	if len(list.Items) != 1 || list.Items[0].Item["to"] != "192.168.1.20" || list.Items[0].Key != "0" {
		t.Errorf("port forwards %+v", list)
	}

	for _, tc := range []struct {
		name, method, path string
		body               any
		want               int
		wantFields         []fieldError
	}{
		{"bad port forward", "POST", "/api/v1/nat/port-forwards",
			map[string]any{"item": map[string]any{"in": "wan", "protocol": "tcp", "port": 70000, "to": "192.168.1.21"}}, 422,
			[]fieldError{{Path: "nat.port_forwards[1].port", Field: "port"}}},
		{"unknown key in an item", "POST", "/api/v1/aliases",
			map[string]any{"name": "web", "item": map[string]any{"addresses": []any{"192.0.2.0/24"}, "colour": "red"}}, 422,
			[]fieldError{{Path: "aliases.web.colour", Field: "-"}}},
		{"bad alias name", "POST", "/api/v1/aliases",
			map[string]any{"name": "9lives", "item": map[string]any{"addresses": []any{"192.0.2.0/24"}}}, 422,
			[]fieldError{{Path: "aliases.9lives", Field: "name"}}},
		{"group priority", "PUT", "/api/v1/ha/groups/0",
			map[string]any{"item": map[string]any{"vhid": 1, "priority": 255, "vips": []any{map[string]any{"interface": "lan", "address": "192.168.1.1/24"}}}}, 422,
			[]fieldError{{Path: "ha.groups[0].priority", Field: "priority"}}},
		{"alias exists", "POST", "/api/v1/aliases", map[string]any{"name": "admins", "item": map[string]any{"addresses": []any{"192.0.2.1"}}}, 409, nil},
		{"no item", "POST", "/api/v1/rules", map[string]any{"message": "x"}, 400, nil},
		{"name on a list", "POST", "/api/v1/rules", map[string]any{"name": "x", "item": newRule}, 400, nil},
		{"missing index", "PUT", "/api/v1/rules/7", map[string]any{"item": newRule}, 404, nil},
		{"index not a number", "GET", "/api/v1/rules/first", nil, 404, nil},
		{"move without to", "POST", "/api/v1/rules/0/move", map[string]any{}, 400, nil},
		{"masquerade cannot move", "POST", "/api/v1/nat/masquerade/0/move", map[string]any{"to": 0}, 405, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := mustStatus(t, api.do(tc.method, tc.path, tc.body), tc.want)
			if tc.wantFields == nil {
				return
			}
			got := unmarshal[invalidBody](t, body).Fields
			for i := range got {
				got[i].Message = ""
			}
			if diff := cmp.Diff(tc.wantFields, got); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
		})
	}
	if _, ok := e.srv.pendingChange(); ok {
		t.Fatal("a refused edit left a change pending")
	}
	got := unmarshal[proposedBody](t, mustStatus(t, api.do("POST", "/api/v1/rules/1/move", map[string]any{"to": 0}), 202))
	if got.Key != "0" || e.be.runningConfig().Rules[0].Comment != "ssh" {
		t.Errorf("move: key %q, first rule %q", got.Key, e.be.runningConfig().Rules[0].Comment)
	}
}

func TestPutConfig(t *testing.T) {
	e, b := adminEnv(t)
	api := script{e: e, token: e.token(b, "ci"), remote: "192.0.2.9:1"}
	cur := unmarshal[configView](t, mustStatus(t, api.do("GET", "/api/v1/config", nil), 200))
	if cur.Version.ID != 1 || cur.Pending || len(cur.Hash) != 64 || !strings.Contains(cur.YAML, "hostname: fw-a") || cur.Config["hostname"] != "fw-a" {
		t.Errorf("GET /config: %+v", cur)
	}

	bad := strings.Replace(testConfig, "action: accept}\n  - {comment: ssh", "action: allow}\n  - {comment: ssh", 1)
	got := unmarshal[invalidBody](t, mustStatus(t, api.do("PUT", "/api/v1/config", map[string]any{"yaml": bad}), 422))
	if len(got.Fields) != 1 || got.Fields[0].Path != "rules[0].action" || got.Fields[0].Line != 10 || got.Fields[0].Col == 0 {
		t.Errorf("fields %+v; want rules[0].action at line 10", got.Fields)
	}
	asJSON := cur.Config
	asJSON["hostname"] = "fw-one"
	mustStatus(t, api.do("PUT", "/api/v1/config", map[string]any{"config": asJSON, "message": "rename"}), 202)
	if e.be.runningConfig().Hostname != "fw-one" {
		t.Error("PUT /config did not apply")
	}
	mustStatus(t, api.do("PUT", "/api/v1/config", map[string]any{"yaml": testConfig, "config": asJSON}), 400)
	mustStatus(t, api.do("PUT", "/api/v1/config", map[string]any{"yaml": testConfig}), 409)
}

func TestPutConfigBodyLimit(t *testing.T) {
	e, b := adminEnv(t)
	api := script{e: e, token: e.token(b, "ci"), remote: "192.0.2.9:1"}
	huge := strings.Repeat("#", 100<<10) + "\n" + testConfig // over the 64 KiB default, under the config limit
	mustStatus(t, api.do("PUT", "/api/v1/config", map[string]any{"yaml": huge}), 202)
	mustStatus(t, api.do("POST", "/api/v1/aliases", map[string]any{"name": "big", "item": map[string]any{"comment": strings.Repeat("x", 70<<10)}}), 413)
}
