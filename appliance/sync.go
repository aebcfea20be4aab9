package appliance

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"rampart/carp"
	"rampart/carp/driver"
	"rampart/config"
	"rampart/statesync"
	"rampart/webui"
)

// State sync in the daemon: a statesync.Node runs while the config has
// statesync enabled, is restarted when its settings change on reload, and
// is wired into the carp driver in two places: the driver's pre-master
// hook commits the peer's flows before the VIPs are added and announced,
// and the boot hold lasts until the peer's first bulk update is in (or
// statesync's alarm ends the wait).

// Bounds of the node's (re)starts: NewNode fails until the sync address
// exists, and Run returns when a part fails.
const (
	syncRetryMin = 100 * time.Millisecond
	syncRetryMax = 5 * time.Second
	// syncStopTimeout bounds the wait for a stopped node to close.
	syncStopTimeout = 5 * time.Second
	// bootHoldMax bounds the boot hold whatever statesync does: its own
	// bulk timeout plus time for the node to start.
	bootHoldMax = statesync.DefaultBulkTimeout + 30*time.Second
)

// syncState is the daemon's part for state sync.
// The carp loop's hook reads run without taking mu, which a reload holds
// while it waits for a node to stop.
type syncState struct {
	mu  sync.Mutex              // start, stop and reload
	ctx context.Context         // the daemon's, for restarts on reload
	run atomic.Pointer[syncRun] // nil: state sync off

	commitMu sync.Mutex
	commits  webui.Timing // pre-master commits since start

	purge atomic.Int64 // statesync.purge_timeout, as a time.Duration
	peer  linkPeer     // config sync over the link (configpeer.go)
}

// syncRun is one statesync.Node and the goroutine that (re)starts it.
type syncRun struct {
	settings syncSettings
	cancel   context.CancelFunc
	done     chan struct{} // closed when the goroutine has ended
	started  chan struct{} // closed once a node exists

	mu      sync.Mutex
	node    *statesync.Node
	lastErr string
}

// syncSettings are what a node is made from; a change restarts it.
type syncSettings struct {
	local, peer netip.Addr
	port        uint16
	secret      string
}

// startSync starts state sync when the config enables it. Errors of the
// config (no sync address, no secret) are logged: the firewall runs on,
// without replication.
func (d *Daemon) startSync(ctx context.Context, cfg *config.Config) {
	d.sync.peer.d = d
	d.setPurge(cfg)
	d.sync.mu.Lock()
	defer d.sync.mu.Unlock()
	d.sync.ctx = ctx
	d.startSyncLocked(cfg)
}

func (d *Daemon) startSyncLocked(cfg *config.Config) {
	s := cfg.StateSync
	if s == nil || !s.Enabled || d.sync.ctx == nil {
		return
	}
	set, err := syncSettingsOf(cfg)
	if err != nil {
		d.log.Error("state sync not started", "err", err)
		return
	}
	ctx, cancel := context.WithCancel(d.sync.ctx)
	r := &syncRun{settings: set, cancel: cancel, done: make(chan struct{}), started: make(chan struct{})}
	d.sync.run.Store(r)
	go d.runSync(ctx, r, syncFilter(cfg))
	d.log.Info("state sync starting", "local", set.local, "peer", set.peer, "port", set.port)
}

// runSync makes the node, retrying while NewNode fails (the sync address
// may not be up yet), and runs it, restarting it after a failure, with a
// bounded exponential backoff, until ctx ends.
func (d *Daemon) runSync(ctx context.Context, r *syncRun, f statesync.Filter) {
	defer close(r.done)
	id, err := statesync.DeriveIdentity([]byte(r.settings.secret), r.settings.local, r.settings.peer)
	if err != nil {
		r.fail(fmt.Errorf("appliance: state sync identity: %w", err))
		d.log.Error("state sync not started", "err", err)
		return
	}
	wait := syncRetryMin
	for attempt := 0; ctx.Err() == nil; attempt++ {
		n, err := statesync.NewNode(statesync.Config{
			Local: r.settings.local, Peer: r.settings.peer, Port: r.settings.port,
			Identity: id, Filter: f, Logger: d.log, OnRequest: d.onSyncRequest,
		})
		if err == nil {
			r.mu.Lock()
			first := r.node == nil
			r.node, r.lastErr = n, ""
			r.mu.Unlock()
			if first {
				close(r.started)
			} else {
				// A new node's cache is empty: the restart takes what the
				// peer's next bulk update sends.
				d.log.Info("state sync restarted")
			}
			err = n.Run(ctx)
			if ctx.Err() != nil {
				return
			}
			wait = syncRetryMin
		}
		r.fail(err)
		if attempt%20 == 0 { // a missing address may take a while: say so now and then
			d.log.Warn("state sync not running; retrying", "err", err, "in", wait.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, syncRetryMax)
	}
}

func (r *syncRun) fail(err error) {
	if err == nil {
		err = errors.New("statesync: node stopped")
	}
	r.mu.Lock()
	r.lastErr = err.Error()
	r.mu.Unlock()
}

func (r *syncRun) current() (*statesync.Node, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.node, r.lastErr
}

// stop ends the node and waits, bounded, for its sockets to close.
func (r *syncRun) stop() error {
	r.cancel()
	select {
	case <-r.done:
		return nil
	case <-time.After(syncStopTimeout):
		return errors.New("appliance: state sync did not stop in time")
	}
}

// stopSync stops state sync; the daemon calls it after the HA driver has
// bowed out.
func (d *Daemon) stopSync() {
	d.sync.mu.Lock()
	defer d.sync.mu.Unlock()
	d.stopSyncLocked()
}

func (d *Daemon) stopSyncLocked() {
	r := d.sync.run.Load()
	if r == nil {
		return
	}
	d.sync.run.Store(nil)
	if err := r.stop(); err != nil {
		d.log.Warn("state sync stop", "err", err)
	}
	d.log.Info("state sync stopped")
}

// reloadSync follows a reloaded config: it starts, stops or restarts the
// node when the section or its settings changed, and otherwise only hands
// the node the new filter.
func (d *Daemon) reloadSync(cfg *config.Config) {
	d.setPurge(cfg)
	d.sync.mu.Lock()
	defer d.sync.mu.Unlock()
	r := d.sync.run.Load()
	on := cfg.StateSync != nil && cfg.StateSync.Enabled
	switch {
	case r == nil:
		d.startSyncLocked(cfg)
	case !on:
		d.log.Info("state sync disabled")
		d.stopSyncLocked()
	default:
		set, err := syncSettingsOf(cfg)
		if err == nil && set == r.settings {
			if n, _ := r.current(); n != nil {
				n.SetFilter(syncFilter(cfg))
			}
			return
		}
		d.log.Info("state sync settings changed: restarting state sync")
		d.stopSyncLocked()
		d.startSyncLocked(cfg)
	}
}

// syncSettingsOf reads the node's settings from the config: the local
// address is the sync interface's address in the peer's subnet (or else
// its first of the peer's family).
func syncSettingsOf(cfg *config.Config) (syncSettings, error) {
	s := cfg.StateSync
	set := syncSettings{peer: s.Peer, port: s.Port}
	if set.port == 0 {
		set.port = config.DefaultStateSyncPort
	}
	itf := cfg.Interfaces[s.Interface]
	if itf == nil {
		return set, fmt.Errorf("appliance: state sync: no interface %q", s.Interface)
	}
	for _, p := range itf.Addresses {
		if p.Addr().Is4() != s.Peer.Is4() {
			continue
		}
		if !set.local.IsValid() || p.Contains(s.Peer) {
			set.local = p.Addr()
		}
	}
	if !set.local.IsValid() {
		return set, fmt.Errorf("appliance: state sync: interface %q has no address of the peer's family", s.Interface)
	}
	secret, err := statesync.SecretFromConfig(s, os.ReadFile)
	if err != nil {
		return set, fmt.Errorf("appliance: state sync: %w", err)
	}
	set.secret = string(secret)
	return set, nil
}

// syncFilter: the firewall's own addresses (configured, present on the
// box, and the VIPs) and the ignored networks (the sync link's subnets
// and statesync.ignore).
func syncFilter(cfg *config.Config) statesync.Filter {
	var f statesync.Filter
	for _, itf := range cfg.Interfaces {
		for _, p := range itf.Addresses {
			f.Local = append(f.Local, p.Addr())
		}
	}
	if cfg.HA != nil {
		for _, g := range cfg.HA.Groups {
			for _, v := range g.VIPs {
				f.Local = append(f.Local, v.Address.Addr())
			}
		}
	}
	if addrs, err := net.InterfaceAddrs(); err == nil { // DHCP and the like
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(n.IP); ok {
					f.Local = append(f.Local, ip.Unmap())
				}
			}
		}
	}
	if s := cfg.StateSync; s != nil {
		if itf := cfg.Interfaces[s.Interface]; itf != nil {
			for _, p := range itf.Addresses {
				f.Ignore = append(f.Ignore, p.Masked())
			}
		}
		f.Ignore = append(f.Ignore, s.Ignore...)
	}
	slices.SortFunc(f.Local, func(a, b netip.Addr) int { return a.Compare(b) })
	f.Local = slices.Compact(f.Local)
	return f
}

// syncBeforeMaster is the carp driver's pre-master hook: it commits the
// peer's flows into the kernel before the VIPs come up. A node that is
// master of another group already (active-active) commits only what its
// table lacks: its live entries are newer than any cached state.
func (d *Daemon) syncBeforeMaster(ctx context.Context, drv *driver.Driver) error {
	r := d.sync.run.Load()
	if r == nil {
		return nil
	}
	n, lastErr := r.current()
	if n == nil {
		return fmt.Errorf("appliance: state sync not running: %s", lastErr)
	}
	commit := n.BeforeMaster
	if drv != nil {
		for _, s := range drv.States() {
			if s == carp.Master {
				commit = n.AlsoMaster
			}
		}
	}
	start := time.Now()
	err := commit(ctx)
	took := time.Since(start)
	d.sync.commitMu.Lock()
	t := &d.sync.commits
	t.Count++
	t.Sum += took
	t.Last = took
	d.sync.commitMu.Unlock()
	return err
}

// syncHook returns the driver options' pre-master hook; it does nothing
// while state sync is off. drv is filled in once the driver exists.
func (d *Daemon) syncHook(drv **driver.Driver) func(context.Context) error {
	return func(ctx context.Context) error { return d.syncBeforeMaster(ctx, *drv) }
}

// setPurge keeps the purge timeout apart from the node's settings: a
// change must not restart the node and empty its cache.
func (d *Daemon) setPurge(cfg *config.Config) {
	if s := cfg.StateSync; s != nil {
		d.sync.purge.Store(int64(s.PurgeTimeout))
	}
}

// purgeMax bounds a handover's purge: a dump and timeout updates of the
// whole table.
const purgeMax = 30 * time.Second

// purgeSettle is how long a node must stay without a master group before
// it purges: a flap (two nodes settling at start, a preemption after a
// blip) hands flows away and back within moments, and a flow that stalled
// meanwhile must find its entry as it left it.
const purgeSettle = 3 * time.Second

// watchHandover subscribes to the driver's transitions: when this node
// stops being master of its last group and stays so for purgeSettle, the
// flows it forwarded are the peer's now, and statesync shortens their
// kernel timeouts (AfterMaster) so that none outlives its connection here
// as a zombie. Becoming master again first cancels the purge.
func (d *Daemon) watchHandover(drv *driver.Driver) {
	var mu sync.Mutex
	var pending *time.Timer
	masterOfAny := func() bool {
		for _, s := range drv.States() {
			if s == carp.Master {
				return true
			}
		}
		return false
	}
	drv.OnTransition(func(group uint8, from, to carp.State, _ carp.Why) {
		mu.Lock()
		defer mu.Unlock()
		if to == carp.Master && pending != nil {
			pending.Stop()
			pending = nil
		}
		if from != carp.Master || to == carp.Master || masterOfAny() || pending != nil {
			return
		}
		pending = time.AfterFunc(purgeSettle, func() {
			mu.Lock()
			pending = nil
			mu.Unlock()
			if !masterOfAny() {
				d.purgeHandedOver()
			}
		})
	})
}

// purgeHandedOver runs statesync's AfterMaster, bounded by purgeMax.
func (d *Daemon) purgeHandedOver() {
	r := d.sync.run.Load()
	if r == nil {
		return
	}
	n, _ := r.current()
	if n == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), purgeMax)
	defer cancel()
	_, _ = n.AfterMaster(ctx, time.Duration(d.sync.purge.Load())) // logs its outcome
}

// releaseBootHold ends the driver's boot hold: at once without state
// sync, else once the peer's first bulk update is in (statesync ends the
// wait with an alarm after its bulk timeout; bootHoldMax bounds it here
// too, for a node that never starts). A node that hears no peer at all,
// neither adverts nor a sync session, within lonelyAfter has no one to
// take state from: it is alone (the peer is off or not yet installed)
// and waits no longer, so a lone box boots as fast as one without HA.
func (d *Daemon) releaseBootHold(drv *driver.Driver) {
	d.watchHandover(drv) // here, not in ha.go, to keep state sync's wiring in one file
	r := d.sync.run.Load()
	if r == nil {
		drv.Promote(carp.CauseBoot, "")
		return
	}
	cfg, _ := d.Running()
	lonely := lonelyAfter(cfg)
	d.log.Info("ha boot hold: waiting for state sync's bulk update", "alone_after", lonely.String())
	go func() {
		d.log.Info("ha boot hold released: " + d.waitBulk(r, drv, lonely))
		drv.Promote(carp.CauseBoot, "")
	}()
}

// bootHoldPoll is how often the boot hold looks for a peer.
const bootHoldPoll = 100 * time.Millisecond

// waitBulk waits, bounded by bootHoldMax, for the peer's first bulk
// update, and says why it stopped waiting.
func (d *Daemon) waitBulk(r *syncRun, drv *driver.Driver, lonely time.Duration) string {
	start := time.Now()
	tick := time.NewTicker(bootHoldPoll)
	defer tick.Stop()
	for range int(bootHoldMax/bootHoldPoll) + 1 {
		n, _ := r.current()
		if n != nil {
			select {
			case <-n.BulkDone():
				if a := n.Status().Receiver.Alarm; a != "" {
					return "no state sync bulk update in time: " + a
				}
				return "state sync bulk update done"
			default:
			}
		}
		if time.Since(start) >= lonely && !peerHeard(drv, n) {
			return fmt.Sprintf("no peer heard in %v (no adverts, no sync session): nothing to take over", lonely)
		}
		select {
		case <-r.done:
			return "state sync stopped"
		case <-tick.C:
		}
	}
	return "no state sync bulk update in time"
}

// peerHeard reports whether the peer shows any sign of life: an advert
// accepted in any group, or a sync session either way.
func peerHeard(drv *driver.Driver, n *statesync.Node) bool {
	for _, g := range drv.Groups() {
		if !g.PeerSeen.IsZero() {
			return true
		}
	}
	if n == nil {
		return false
	}
	st := n.Status()
	return st.Sender.PeerConnected || st.Receiver.PeerConnected || st.Sender.Connects > 0
}

// lonelyAfter is how long a booting node listens for its peer before it
// concludes it is alone: three adverts of its slowest group (CARP's
// master-down interval) and a second for a peer that is starting too.
func lonelyAfter(cfg *config.Config) time.Duration {
	var adv time.Duration
	if cfg != nil && cfg.HA != nil {
		for _, g := range cfg.HA.Groups {
			adv = max(adv, time.Duration(g.AdvBase))
		}
	}
	if adv == 0 {
		adv = time.Duration(config.DefaultAdvBase)
	}
	return 3*adv + time.Second
}

// syncDrops gathers statesync's losses and refusals by reason into m.
func syncDrops(m map[string]uint64, s statesync.Status) {
	for k, v := range s.Sender.Drops {
		m[k] += v
	}
	for k, v := range s.Source.Gaps {
		m["gap_"+k] += v
	}
	for k, v := range s.Receiver.Drops {
		m[k] += v
	}
	if c := s.Receiver.LastCommit; c != nil {
		for k, v := range c.Refused {
			m["commit_"+k] += uint64(v)
		}
	}
}

// syncStatus returns state sync's view for the web UI.
func (d *Daemon) syncStatus(cfg *config.Config) webui.SyncStatus {
	st := webui.SyncStatus{Resyncs: map[string]uint64{}, Drops: map[string]uint64{}}
	if cfg == nil || cfg.StateSync == nil || !cfg.StateSync.Enabled {
		return st
	}
	st.Enabled = true
	d.sync.commitMu.Lock()
	st.Commit = d.sync.commits
	d.sync.commitMu.Unlock()
	r := d.sync.run.Load()
	if r == nil {
		st.LastError = "state sync is not running: see the log"
		return st
	}
	n, lastErr := r.current()
	if n == nil {
		st.LastError = lastErr
		return st
	}
	s := n.Status()
	st.Connected = s.Sender.PeerConnected && s.Receiver.PeerConnected
	st.Lag, st.LagP99 = s.Sender.Lag, s.Sender.LagP99
	if s.Receiver.LastSyncAge >= 0 {
		st.LastSync = d.ui.now().Add(-s.Receiver.LastSyncAge)
	}
	st.CacheEntries, st.Pending = s.Receiver.CacheSize, s.Sender.Pending
	for k, v := range s.Sender.Resyncs {
		st.Resyncs[k] = v
	}
	syncDrops(st.Drops, s)
	switch {
	case s.Receiver.Alarm != "":
		st.LastError = s.Receiver.Alarm
	case s.Sender.LastError != "":
		st.LastError = s.Sender.LastError
	case s.Receiver.LastError != "":
		st.LastError = s.Receiver.LastError
	default:
		st.LastError = lastErr
	}
	return st
}
