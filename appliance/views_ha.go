package appliance

import (
	"rampart/webui"
)

// The HA and state sync views. HA reads what carp/driver exposes today:
// each group's state, the node-wide advert counters, and the transitions
// from the log ring. The peer's side of a group (its node, state and
// priority as its adverts show them) and per-group counters need an
// accessor on the driver; until it has one those fields stay empty.
// StateSync reads statesync's status through sync.go.

// HA returns carp's view of this node.
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
	var states map[uint8]string
	var sent, accepted uint64
	if drv != nil {
		states = map[uint8]string{}
		for vhid, s := range drv.States() {
			states[vhid] = s.String()
		}
		c := drv.Counters()
		sent, accepted, st.Rejected = c.Sent, c.Accepted, c.Rejected
	}
	perGroup := map[uint8]uint64{}
	for _, t := range st.Transitions {
		perGroup[t.VHID]++
	}
	for _, g := range cfg.HA.Groups {
		gs := webui.GroupStatus{VHID: g.VHID, State: "init", Priority: g.Priority, Transitions: perGroup[g.VHID], Rejected: map[string]uint64{}}
		if s, ok := states[g.VHID]; ok {
			gs.State = s
		}
		if len(cfg.HA.Groups) == 1 { // the driver counts per node; one group owns them all
			gs.AdvertsSent, gs.AdvertsReceived, gs.Rejected = sent, accepted, st.Rejected
		}
		st.Groups = append(st.Groups, gs)
	}
	return st
}

// StateSync returns conntrack replication's status (sync.go).
func (d *Daemon) StateSync() webui.SyncStatus {
	cfg, _ := d.Running()
	return d.syncStatus(cfg)
}
