package webui

import (
	"context"
	"fmt"
	"sort"

	"github.com/labstack/echo/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Prometheus metrics, read from the Backend at scrape time: a collector
// of our own on a registry of our own (not the global default, so nothing
// else in the binary adds to it). Counters the daemon keeps (adverts,
// transitions, resyncs) are exported as Prometheus counters; durations it
// sums (apply, commit) as summaries without quantiles.
//
// /metrics needs the same authentication as the API: a session, or an
// API token as a bearer token (Prometheus: authorization.credentials_file).

const namespace = "rampart"

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(namespace+"_"+name, help, labels, nil)
}

// collector reads the Backend on every scrape.
type collector struct {
	s *Server

	groupState, transitions, advSent, advRecv, advRejected *prometheus.Desc

	syncConnected, syncCache, syncPending, syncLag, syncLagP99, syncResyncs, syncDrops, syncCommit *prometheus.Desc
	configInStep                                                                                   *prometheus.Desc

	applyDur, rulePackets, ruleBytes *prometheus.Desc
	conntrack                        *prometheus.Desc

	ifUp, ifRx, ifTx *prometheus.Desc
	changePending    *prometheus.Desc
}

func newCollector(s *Server) *collector {
	return &collector{
		s:           s,
		groupState:  desc("carp_group_state", "1 for the state each redundancy group is in on this node.", "group", "state"),
		transitions: desc("carp_transitions_total", "State transitions of the group on this node.", "group"),
		advSent:     desc("carp_adverts_sent_total", "Adverts sent for the group.", "group"),
		advRecv:     desc("carp_adverts_received_total", "Adverts accepted for the group.", "group"),
		advRejected: desc("carp_adverts_rejected_total", `Adverts rejected, by reason; group="" for adverts tied to no group of this node.`, "group", "reason"),

		syncConnected: desc("statesync_peer_connected", "1 while the state sync peer is connected."),
		syncCache:     desc("statesync_cache_entries", "The peer's connections held in the cache."),
		syncPending:   desc("statesync_pending_changes", "Connection changes waiting to be sent."),
		syncLag:       desc("statesync_lag_seconds", "From an event here to the peer's acknowledgement, last frame."),
		syncLagP99:    desc("statesync_lag_p99_seconds", "The 99th percentile of the lag over recent frames."),
		syncResyncs:   desc("statesync_resyncs_total", "Bulk updates sent, by reason.", "reason"),
		syncDrops:     desc("statesync_drops_total", "Changes, events and entries lost or refused, by reason.", "reason"),
		syncCommit:    desc("statesync_commit_duration_seconds", "Time to commit the cache into the kernel at takeover."),
		configInStep:  desc("configsync_in_step", "1 when the peer's shared config hash equals ours, 0 when it differs; absent when unknown."),

		applyDur:    desc("firewall_apply_duration_seconds", "Time to apply the ruleset."),
		rulePackets: desc("firewall_rule_packets_total", "Packets counted by a config item's rules.", "kind", "index", "comment"),
		ruleBytes:   desc("firewall_rule_bytes_total", "Bytes counted by a config item's rules.", "kind", "index", "comment"),
		conntrack:   desc("conntrack_entries", "Entries in the connection table."),

		ifUp:          desc("interface_up", "1 when the interface has carrier.", "role", "device"),
		ifRx:          desc("interface_receive_bytes_total", "Bytes received.", "role", "device"),
		ifTx:          desc("interface_transmit_bytes_total", "Bytes sent.", "role", "device"),
		changePending: desc("config_change_pending", "1 while a config change awaits confirmation."),
	}
}

// newMetrics builds the registry /metrics serves.
func (s *Server) newMetrics() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(newCollector(s)) // our descriptors are static and valid; a failure here is a bug caught by TestMetrics
	return reg
}

func (m *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.groupState, m.transitions, m.advSent, m.advRecv, m.advRejected,
		m.syncConnected, m.syncCache, m.syncPending, m.syncLag, m.syncLagP99, m.syncResyncs, m.syncDrops, m.syncCommit, m.configInStep,
		m.applyDur, m.rulePackets, m.ruleBytes, m.conntrack, m.ifUp, m.ifRx, m.ifTx, m.changePending} {
		ch <- d
	}
}

func (m *collector) Collect(ch chan<- prometheus.Metric) {
	m.collectHA(ch)
	m.collectSync(ch)
	m.collectFirewall(ch)
	m.collectInterfaces(ch)
	if res, err := m.s.be.Conntrack(context.Background(), ConnQuery{}); err == nil {
		ch <- prometheus.MustNewConstMetric(m.conntrack, prometheus.GaugeValue, float64(res.Total))
	}
	_, pending := m.s.pendingChange()
	ch <- prometheus.MustNewConstMetric(m.changePending, prometheus.GaugeValue, b2f(pending))
}

var carpStates = []string{"init", "backup", "master"}

func (m *collector) collectHA(ch chan<- prometheus.Metric) {
	ha := m.s.be.HA()
	for _, g := range ha.Groups {
		group := fmt.Sprint(g.VHID)
		for _, st := range carpStates {
			ch <- prometheus.MustNewConstMetric(m.groupState, prometheus.GaugeValue, b2f(g.State == st), group, st)
		}
		ch <- prometheus.MustNewConstMetric(m.transitions, prometheus.CounterValue, float64(g.Transitions), group)
		ch <- prometheus.MustNewConstMetric(m.advSent, prometheus.CounterValue, float64(g.AdvertsSent), group)
		ch <- prometheus.MustNewConstMetric(m.advRecv, prometheus.CounterValue, float64(g.AdvertsReceived), group)
		for _, r := range sortedKeys(g.Rejected) {
			ch <- prometheus.MustNewConstMetric(m.advRejected, prometheus.CounterValue, float64(g.Rejected[r]), group, r)
		}
	}
	for _, r := range sortedKeys(ha.Rejected) {
		ch <- prometheus.MustNewConstMetric(m.advRejected, prometheus.CounterValue, float64(ha.Rejected[r]), "", r)
	}
}

func (m *collector) collectSync(ch chan<- prometheus.Metric) {
	st := m.s.be.StateSync()
	if st.Enabled {
		ch <- prometheus.MustNewConstMetric(m.syncConnected, prometheus.GaugeValue, b2f(st.Connected))
		ch <- prometheus.MustNewConstMetric(m.syncCache, prometheus.GaugeValue, float64(st.CacheEntries))
		ch <- prometheus.MustNewConstMetric(m.syncPending, prometheus.GaugeValue, float64(st.Pending))
		ch <- prometheus.MustNewConstMetric(m.syncLag, prometheus.GaugeValue, st.Lag.Seconds())
		ch <- prometheus.MustNewConstMetric(m.syncLagP99, prometheus.GaugeValue, st.LagP99.Seconds())
		for _, r := range sortedKeys(st.Resyncs) {
			ch <- prometheus.MustNewConstMetric(m.syncResyncs, prometheus.CounterValue, float64(st.Resyncs[r]), r)
		}
		for _, r := range sortedKeys(st.Drops) {
			ch <- prometheus.MustNewConstMetric(m.syncDrops, prometheus.CounterValue, float64(st.Drops[r]), r)
		}
		ch <- summary(m.syncCommit, st.Commit)
	}
	switch m.s.configSync().State {
	case "in_step":
		ch <- prometheus.MustNewConstMetric(m.configInStep, prometheus.GaugeValue, 1)
	case "differs":
		ch <- prometheus.MustNewConstMetric(m.configInStep, prometheus.GaugeValue, 0)
	}
}

func (m *collector) collectFirewall(ch chan<- prometheus.Metric) {
	fw, err := m.s.be.Firewall()
	if err != nil {
		return
	}
	ch <- summary(m.applyDur, fw.Apply)
	for _, rc := range fw.Counters {
		labels := []string{rc.Kind, fmt.Sprint(rc.Index), rc.Comment}
		ch <- prometheus.MustNewConstMetric(m.rulePackets, prometheus.CounterValue, float64(rc.Packets), labels...)
		ch <- prometheus.MustNewConstMetric(m.ruleBytes, prometheus.CounterValue, float64(rc.Bytes), labels...)
	}
}

func (m *collector) collectInterfaces(ch chan<- prometheus.Metric) {
	ifs, err := m.s.be.Interfaces()
	if err != nil {
		return
	}
	for _, i := range ifs {
		ch <- prometheus.MustNewConstMetric(m.ifUp, prometheus.GaugeValue, b2f(i.Up), i.Role, i.Device)
		ch <- prometheus.MustNewConstMetric(m.ifRx, prometheus.CounterValue, float64(i.RxBytes), i.Role, i.Device)
		ch <- prometheus.MustNewConstMetric(m.ifTx, prometheus.CounterValue, float64(i.TxBytes), i.Role, i.Device)
	}
}

func summary(d *prometheus.Desc, t Timing) prometheus.Metric {
	return prometheus.MustNewConstSummary(d, t.Count, t.Sum.Seconds(), nil)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func sortedKeys(m map[string]uint64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// getMetrics serves the registry in the Prometheus text format. Errors
// of single metrics are logged and the rest is served.
func (s *Server) getMetrics(c *echo.Context) error {
	h := promhttp.HandlerFor(s.metrics, promhttp.HandlerOpts{
		ErrorLog:            slogPrinter{s},
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 2,
	})
	h.ServeHTTP(c.Response(), c.Request())
	return nil
}

type slogPrinter struct{ s *Server }

func (p slogPrinter) Println(v ...any) { p.s.log.Warn("webui: metrics", "err", fmt.Sprint(v...)) }
