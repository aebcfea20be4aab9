package appliance

import (
	"time"

	"rampart/carp"
	"rampart/carp/driver"
	"rampart/config"
	"rampart/webui"
)

// The HA and state sync views. HA reads carp/driver's Groups: each
// group's state, demotion and advert counters, and the last advert heard
// from the peer; the transitions come from the log ring. StateSync reads
// statesync's status through sync.go.

// HA returns carp's view of this node and of the peer.
func (d *Daemon) HA() webui.HAStatus {
	d.ui.mu.Lock()
	cfg, drv := d.cfg, d.ha
	d.ui.mu.Unlock()
	if cfg == nil || cfg.HA == nil {
		return webui.HAStatus{Groups: []webui.GroupStatus{}, Transitions: []webui.Transition{}}
	}
	st := webui.HAStatus{
		Enabled: drv != nil, NodeID: cfg.HA.NodeID, Maintenance: cfg.HA.Maintenance,
		Transitions: d.ui.logs.recentTransitions(), Rejected: map[string]uint64{},
	}
	var groups []driver.GroupStatus
	if drv != nil {
		groups = drv.Groups()
		st.Rejected = drv.Counters().Rejected
	}
	st.Groups = groupViews(cfg.HA, groups, st.Transitions, st.Rejected, d.ui.now())
	return st
}

// groupViews joins the configured groups with what the driver reports
// (nothing while it is not running): config order, every group listed.
func groupViews(ha *config.HA, groups []driver.GroupStatus, ts []webui.Transition, rejected map[string]uint64, now time.Time) []webui.GroupStatus {
	perGroup := map[uint8]uint64{}
	for _, t := range ts {
		perGroup[t.VHID]++
	}
	byVHID := map[uint8]driver.GroupStatus{}
	for _, g := range groups {
		byVHID[g.VHID] = g
	}
	out := make([]webui.GroupStatus, 0, len(ha.Groups))
	for _, g := range ha.Groups {
		gs := webui.GroupStatus{VHID: g.VHID, State: "init", Priority: g.Priority, Transitions: perGroup[g.VHID], Rejected: map[string]uint64{}}
		if dg, ok := byVHID[g.VHID]; ok {
			gs.State, gs.Demotion = dg.State.String(), dg.Demotion
			gs.AdvertsSent, gs.AdvertsReceived = dg.Sent, dg.Received
			if dg.Peer != "" {
				gs.PeerNode, gs.PeerPriority, gs.PeerDemotion = dg.Peer, dg.PeerPriority, dg.PeerDemotion
				gs.PeerMessage, gs.PeerSeen = dg.PeerType.String(), dg.PeerSeen
				gs.PeerState = peerState(dg, time.Duration(g.AdvBase), now)
			}
		}
		if len(ha.Groups) == 1 { // the receiver counts rejections per node; one group owns them all
			gs.Rejected = rejected
		}
		out = append(out, gs)
	}
	return out
}

// peerAdverts is how many advert intervals may pass without one before
// the peer no longer counts as master: the master down interval less the
// skew (carp/doc.go), so the UI says silent no later than a backup acts.
const peerAdverts = 3

// peerState reads the peer's state from its last message: only a master
// advertises.
func peerState(g driver.GroupStatus, advbase time.Duration, now time.Time) string {
	switch {
	case g.PeerType != carp.TypeAdvert:
		return "backup" // it bowed out or stepped down
	case advbase > 0 && now.Sub(g.PeerSeen) > peerAdverts*advbase:
		return "silent"
	}
	return "master"
}

// StateSync returns conntrack replication's status (sync.go).
func (d *Daemon) StateSync() webui.SyncStatus {
	cfg, _ := d.Running()
	return d.syncStatus(cfg)
}
