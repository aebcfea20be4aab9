package webui

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var inlineHandler = regexp.MustCompile(`\son[a-z]+=`)

func TestDashboard(t *testing.T) {
	e, b := adminEnv(t)
	e.srv.sampleTraffic()
	e.be.ifs[0].RxBytes += 15000
	e.clk.Advance(15 * time.Second)
	e.srv.sampleTraffic()
	page := readBody(b.get("/"))
	for _, want := range []string{
		"vhid 1", `state-master">master`, `state-backup">backup</span> b prio 100`,
		"connected", "Peer flows cached", "<svg", "<polyline", "lan <small>eth0</small>",
		"backup → <strong>master</strong>", "<td>ssh</td>",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("dashboard lacks %q", want)
		}
	}
	if rules := readBody(b.get("/rules")); !strings.Contains(rules, "7 pkts / 420B") {
		t.Error("the rules page lacks the hit counter of rule 2")
	}
	st := unmarshal[statusView](t, mustStatus(t, b.api("GET", "/api/v1/status", nil), 200))
	if st.Version.ID != 1 || st.HA.Groups[0].State != "master" || len(st.Interfaces) != 1 || st.Pending != nil {
		t.Errorf("status %+v", st)
	}
	tr := unmarshal[trafficView](t, mustStatus(t, b.api("GET", "/api/v1/interfaces/lan/traffic", nil), 200))
	if len(tr.Rx) != 1 || tr.Rx[0].V == nil || *tr.Rx[0].V != 1000 {
		t.Errorf("traffic %+v; want one point of 1000 B/s", tr)
	}
	mustStatus(t, b.api("GET", "/api/v1/interfaces/dmz/traffic", nil), 404)
}

func TestPagesRender(t *testing.T) {
	_, b := adminEnv(t)
	for _, path := range []string{"/", "/rules", "/ha", "/connections", "/log", "/history", "/history/1", "/change",
		"/edit/rules", "/edit/rules/0", "/edit/aliases/admins", "/edit/port_forwards/0", "/edit/masquerade", "/edit/groups/0", "/edit/health_checks"} {
		resp := b.get(path)
		body := readBody(resp)
		if resp.StatusCode != 200 || !strings.Contains(body, "</html>") {
			t.Errorf("GET %s: %d", path, resp.StatusCode)
		}
		if strings.Contains(body, "<script>") || strings.Contains(body, " style=") || inlineHandler.MatchString(body) {
			t.Errorf("GET %s has inline script or style", path)
		}
	}
	for _, path := range []string{"/edit/nosuch", "/edit/rules/9", "/edit/aliases/nosuch", "/history/99", "/history/x"} {
		if resp := b.get(path); resp.StatusCode != 404 && resp.StatusCode != 400 {
			t.Errorf("GET %s: %d, want 404 or 400", path, resp.StatusCode)
		}
	}
}

func TestConnections(t *testing.T) {
	e, b := adminEnv(t)
	page := readBody(b.get("/connections?q=" + url.QueryEscape(":443 tcp")))
	if !strings.Contains(page, "2 connection(s) matching") || !strings.Contains(page, "192.168.1.10:40000") || strings.Contains(page, "5353") {
		t.Errorf("search :443 tcp: %s", page[strings.Index(page, "<main>"):])
	}
	api := script{e: e, token: e.token(b, "ci"), remote: "192.0.2.9:1"}
	got := unmarshal[ConnPage](t, mustStatus(t, api.do("GET", "/api/v1/conntrack?q=192.0.2&offset=1&limit=1", nil), 200))
	if got.Total != 3 || len(got.Entries) != 1 || got.Entries[0].Proto != "udp" {
		t.Errorf("page 2 of 1: %+v", got)
	}
	mustStatus(t, api.do("GET", "/api/v1/conntrack?limit=501", nil), 400)
	for _, tc := range []struct {
		q    string
		want bool
	}{{"", true}, {"TCP", true}, {"192.168.1.10:40000", true}, {"established 192.0.2.1", true}, {"udp :443", false}} {
		if got := MatchConn(e.be.conns[0], tc.q); got != tc.want {
			t.Errorf("MatchConn(%q) = %v", tc.q, got)
		}
	}
}

func TestLogs(t *testing.T) {
	e, b := adminEnv(t)
	api := script{e: e, token: e.token(b, "ci"), remote: "192.0.2.9:1"}
	got := unmarshal[logView](t, mustStatus(t, api.do("GET", "/api/v1/logs?after=1", nil), 200))
	if diff := cmp.Diff(logView{Lines: []LogLine{e.be.logs[1]}, Next: 2}, got); diff != "" {
		t.Errorf("logs (-want +got):\n%s", diff)
	}
	got = unmarshal[logView](t, mustStatus(t, api.do("GET", "/api/v1/logs?after=2", nil), 200))
	if len(got.Lines) != 0 || got.Next != 2 {
		t.Errorf("nothing new: %+v", got)
	}
	mustStatus(t, api.do("GET", "/api/v1/logs?after=-1", nil), 400)
	if page := readBody(b.get("/log")); !strings.Contains(page, `data-source="/api/v1/logs"`) {
		t.Error("the log page does not point its script at the API")
	}
}

func TestMaintenancePersists(t *testing.T) {
	e, b := adminEnv(t)
	b.get("/ha")
	resp := b.post("/maintenance", url.Values{"enabled": {"1"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("maintenance: %d %s", resp.StatusCode, readBody(resp))
	}
	if !e.be.runningConfig().HA.Maintenance {
		t.Error("maintenance not applied")
	}
	if _, ok := e.srv.pendingChange(); ok {
		t.Error("maintenance waits for a confirmation; it is one button")
	}
	vs, _ := e.be.History()
	data, _, _ := e.be.Version(vs[0].ID)
	if len(vs) != 2 || !strings.Contains(string(data), "maintenance: true") {
		t.Error("maintenance mode was not stored, so it would not survive a reboot")
	}
	if page := readBody(b.get("/ha?done=maintenance")); !strings.Contains(page, "Leave maintenance mode") {
		t.Error("the HA page does not offer to leave maintenance mode")
	}
	if acts := strings.Join(e.auditActions(), " "); !strings.Contains(acts, "maintenance.on") {
		t.Errorf("audit %q", acts)
	}
	// Without HA configured there is nothing to maintain.
	cfg := e.be.runningConfig()
	noHA := *cfg
	noHA.HA = nil
	e.be.mu.Lock()
	e.be.running = &noHA
	e.be.mu.Unlock()
	if resp := b.post("/maintenance", url.Values{"enabled": {"0"}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("maintenance without HA: %d", resp.StatusCode)
	}
}

func TestNoBackend(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.Backend = nil })
	e.setUp()
	b := e.login("192.0.2.1:1000")
	if resp := b.get("/rules"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/rules without a backend: %d", resp.StatusCode)
	}
	if resp := b.api("POST", "/api/v1/rules", map[string]any{"item": newRule}); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("POST /api/v1/rules without a backend: %d", resp.StatusCode)
	}
	if resp := b.get("/"); resp.StatusCode != http.StatusOK {
		t.Errorf("dashboard without a backend: %d", resp.StatusCode)
	}
}

// TestTrafficGraphKept: a drawn graph is served again until the next
// sample, and redrawn after it.
func TestTrafficGraphKept(t *testing.T) {
	e, _ := adminEnv(t)
	e.srv.sampleTraffic()
	role := e.be.ifs[0].Role
	first := e.srv.trafficGraph(role)
	if again := e.srv.trafficGraph(role); &again[0] != &first[0] {
		t.Error("the graph was drawn again without a new sample")
	}
	e.be.ifs[0].RxBytes += 15000
	e.clk.Advance(15 * time.Second)
	e.srv.sampleTraffic()
	if next := e.srv.trafficGraph(role); &next[0] == &first[0] {
		t.Error("the graph was not redrawn after a new sample")
	}
}
