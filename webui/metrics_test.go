package webui

import (
	"net/http"
	"strings"
	"testing"
)

func TestMetrics(t *testing.T) {
	e, b := adminEnv(t)
	tok := e.token(b, "prometheus")
	if resp := e.browser("192.0.2.77:1").get("/metrics"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("/metrics without credentials: %d, want 401", resp.StatusCode)
	}
	r := e.browser("192.0.2.77:1").request("GET", "/metrics", "", nil)
	r.Header.Set("Authorization", "Bearer rpt_wrong")
	if resp := e.browser("192.0.2.77:1").do(r); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("/metrics with a wrong token: %d, want 401", resp.StatusCode)
	}
	r = e.browser("192.0.2.77:1").request("GET", "/metrics", "", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	resp := e.browser("192.0.2.77:1").do(r)
	body := mustStatus(t, resp, http.StatusOK)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("content type %q", ct)
	}
	for _, want := range []string{
		`rampart_carp_group_state{group="1",state="master"} 1`,
		`rampart_carp_group_state{group="1",state="backup"} 0`,
		`rampart_carp_transitions_total{group="1"} 2`,
		`rampart_carp_adverts_sent_total{group="1"} 100`,
		`rampart_carp_adverts_received_total{group="1"} 5`,
		`rampart_carp_adverts_rejected_total{group="1",reason="auth"} 3`,
		`rampart_carp_adverts_rejected_total{group="",reason="version"} 1`,
		`rampart_statesync_cache_entries 42`,
		`rampart_statesync_lag_seconds 0.002`,
		`rampart_statesync_resyncs_total{reason="connect"} 1`,
		`rampart_statesync_commit_duration_seconds_count 1`,
		`rampart_statesync_commit_duration_seconds_sum 0.03`,
		`rampart_firewall_apply_duration_seconds_count 3`,
		`rampart_firewall_rule_packets_total{comment="ssh",index="1",kind="rule"} 7`,
		`rampart_firewall_rule_bytes_total{comment="ssh",index="1",kind="rule"} 420`,
		`rampart_conntrack_entries 3`,
		`rampart_interface_up{device="eth0",role="lan"} 1`,
		`rampart_config_change_pending 0`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, "go_goroutines") {
		t.Error("the default registry's collectors leaked in")
	}
}
