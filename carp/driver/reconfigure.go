package driver

import (
	"bytes"
	"reflect"
	"time"

	"rampart/carp"
	"rampart/config"
)

// Reconfigure applies a new config in place when only what can change
// live changed: maintenance, keys, health checks, notify. Anything else
// (groups, priorities, VIPs, interfaces, peers) returns ErrRestart.
func (d *Driver) Reconfigure(cfg *config.Config) error {
	if cfg == nil || cfg.HA == nil {
		return ErrRestart
	}
	np, err := newPlan(cfg, d.epoch)
	if err != nil {
		return err
	}
	if !reflect.DeepEqual(np, d.plan) {
		return ErrRestart
	}
	ha := cfg.HA
	secret, ring, err := d.keyring(ha)
	if err != nil {
		return err
	}
	if !sameSecrets(secret, d.secret) {
		d.secret, d.ring = secret, ring
		d.post(func(l *loop, now time.Time) { d.swapKeys(l, ring) })
		d.log.Info("carp: advert keys changed", "key_id", ha.Auth.KeyID)
	}
	if ha.Maintenance != d.ha.Maintenance {
		d.SetMaintenance(ha.Maintenance)
	}
	if ha.Notify != d.ha.Notify {
		d.rep.setNotifier(newNotifier(ha.Notify, d.log))
	}
	if !reflect.DeepEqual(ha.HealthChecks, d.ha.HealthChecks) {
		d.stopHealth()
		for _, hc := range d.ha.HealthChecks {
			d.Promote(carp.CauseHealth, hc.Name)
		}
		d.startHealth(ha.HealthChecks, false)
	}
	d.ha = ha
	return nil
}

// swapKeys replaces the keyring and with it the receiver (its replay
// windows are per key ring); the old receiver's counts are kept.
func (d *Driver) swapKeys(l *loop, ring *carp.Keyring) {
	old := l.recv
	l.ring, l.recv = ring, carp.NewReceiver(d.plan.node, ring)
	d.recv.Store(l.recv)
	oc := old.Counts()
	d.recvMu.Lock()
	d.recvBase.Accepted += oc.Accepted
	if d.recvBase.Rejected == nil {
		d.recvBase.Rejected = map[carp.Reason]uint64{}
	}
	for r, n := range oc.Rejected {
		d.recvBase.Rejected[r] += n
	}
	d.recvMu.Unlock()
}

func sameSecrets(a, b []carp.Secret) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ID != b[i].ID || !bytes.Equal(a[i].Bytes, b[i].Bytes) {
			return false
		}
	}
	return true
}
