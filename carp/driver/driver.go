package driver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"rampart/carp"
	"rampart/config"
)

// Options configure a Driver.
type Options struct {
	// Config is the node's config; its HA section must be set.
	Config *config.Config
	Logger *slog.Logger
	// Now is the clock the machines see; default time.Now. Waits are
	// measured on the monotonic clock whatever it returns.
	Now func() time.Time
	// ReadFile reads ha.auth key files; default os.ReadFile.
	ReadFile func(string) ([]byte, error)
	// Epoch must exceed every earlier run's of this node (peers reject
	// adverts of an older epoch as replays). Default: the wall clock in
	// nanoseconds, enough while the real-time clock is sane.
	Epoch uint64
	// RealTime runs the loop's thread SCHED_FIFO (RTPriority), every other
	// thread of the process SCHED_FIFO RuntimePriority, and locks the
	// process's memory; where that is not permitted the driver logs and
	// goes on. It changes the whole process: the daemon sets it.
	RealTime bool
	// BootHold starts every group demoted by carp.BootDemotion until
	// Promote(carp.CauseBoot, ""): the daemon holds it until the firewall
	// is in force, so a booting node never takes the VIPs without it.
	BootHold bool
	// Enter runs fn inside the network namespace the driver works in.
	// Nil runs fn directly: the daemon lives in its namespace. Tests pass
	// netns.NS.Do.
	Enter func(fn func() error) error
	// AnnounceSchedule overrides DefaultAnnounceSchedule.
	AnnounceSchedule []time.Duration
	// BeforeMaster, if set, runs on the loop's thread when a group becomes
	// master, before its VIPs are added and announced: state sync commits
	// its cache there, so that the first packet of a recovered connection
	// finds its entry. Its ctx ends after BeforeMasterTimeout; an error is
	// logged and the takeover goes on.
	BeforeMaster func(ctx context.Context) error
	// BeforeMasterTimeout bounds BeforeMaster; 0 means
	// DefaultBeforeMasterTimeout.
	BeforeMasterTimeout time.Duration
}

// DefaultBeforeMasterTimeout bounds the pre-master hook: the adverts of
// the loop wait behind it, and a takeover must not wait for long.
const DefaultBeforeMasterTimeout = time.Second

// ErrRestart says that Reconfigure cannot apply a change in place: the
// caller closes the driver (the master bows out) and starts a new one.
var ErrRestart = errors.New("carp driver: the HA change needs a restart of the driver")

// Driver runs the CARP machines of one node against the kernel.
type Driver struct {
	opts   Options
	log    *slog.Logger
	now    func() time.Time
	enter  func(func() error) error
	plan   *plan
	epoch  uint64
	ha     *config.HA
	secret []carp.Secret // current first, for Reconfigure to compare
	ring   *carp.Keyring

	rep    *reporter
	cnt    counters
	states []atomic.Uint32
	stats  []groupStats

	recv     atomic.Pointer[carp.Receiver]
	recvMu   sync.Mutex
	recvBase carp.Counts // of receivers replaced by a key change

	ctl  *control
	lp   *loop // touched only on the loop's thread, through post
	done chan struct{}

	healthMu   sync.Mutex
	healthStop context.CancelFunc
	healthWG   sync.WaitGroup

	closeOnce sync.Once
}

// shutdownTimeout bounds Close's wait for the loop's bow-out.
const shutdownTimeout = 5 * time.Second

// New checks the config and derives the keys; nothing is opened yet.
func New(opts Options) (*Driver, error) {
	if opts.Config == nil || opts.Config.HA == nil {
		return nil, errors.New("carp driver: no ha section in the config")
	}
	d := &Driver{opts: opts, log: opts.Logger, now: opts.Now, enter: opts.Enter, epoch: opts.Epoch, ha: opts.Config.HA}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.enter == nil {
		d.enter = func(fn func() error) error { return fn() }
	}
	if d.opts.ReadFile == nil {
		d.opts.ReadFile = os.ReadFile
	}
	if d.epoch == 0 {
		d.epoch = uint64(time.Now().UnixNano())
	}
	var err error
	if d.plan, err = newPlan(opts.Config, d.epoch); err != nil {
		return nil, err
	}
	if d.secret, d.ring, err = d.keyring(d.ha); err != nil {
		return nil, err
	}
	d.states = make([]atomic.Uint32, len(d.plan.groups))
	d.stats = make([]groupStats, len(d.plan.groups))
	d.rep = newReporter(d.log, d.ha.NodeID)
	d.rep.setNotifier(newNotifier(d.ha.Notify, d.log))
	return d, nil
}

func (d *Driver) keyring(ha *config.HA) ([]carp.Secret, *carp.Keyring, error) {
	cur, prev, err := carp.SecretsFromConfig(ha.Auth, d.opts.ReadFile)
	if err != nil {
		return nil, nil, fmt.Errorf("carp driver: %w", err)
	}
	ring, err := carp.NewKeyring(d.plan.vhids(), cur, prev...)
	if err != nil {
		return nil, nil, fmt.Errorf("carp driver: %w", err)
	}
	return append([]carp.Secret{cur}, prev...), ring, nil
}

// Start opens the sockets, the link watch and the kernel state, removes
// whatever a crashed run left, and starts the machines in BACKUP.
func (d *Driver) Start() error {
	kern, err := newNetKernel(d.plan, d.enter)
	if err != nil {
		return err
	}
	paths, err := openPaths(d.plan, d.enter)
	if err != nil {
		kern.close()
		return err
	}
	var links *linkWatch
	err = d.enter(func() error {
		var err error
		links, err = openLinkWatch(d.plan.devices())
		return err
	})
	if err != nil {
		closePaths(paths)
		kern.close()
		return err
	}
	return d.start(kern, paths, links)
}

// start runs the loop over the given edges; tests pass fakes.
func (d *Driver) start(kern kernel, paths []*path, links *linkWatch) error {
	ctl, err := newControl()
	if err != nil {
		closePaths(paths)
		kern.close()
		return err
	}
	d.ctl, d.done = ctl, make(chan struct{})
	recv := carp.NewReceiver(d.plan.node, d.ring)
	d.recv.Store(recv)
	l := &loop{plan: d.plan, now: d.now, ring: d.ring, recv: recv, paths: paths, links: links, kern: kern,
		ctl: ctl, rep: d.rep, cnt: &d.cnt, schedule: d.opts.AnnounceSchedule, buf: make([]byte, 2048),
		loud: map[carp.Reason]time.Time{}, states: d.states, stats: d.stats,
		beforeMaster: d.opts.BeforeMaster, beforeMasterTimeout: d.opts.BeforeMasterTimeout}
	if l.beforeMasterTimeout <= 0 {
		l.beforeMasterTimeout = DefaultBeforeMasterTimeout
	}
	if len(l.schedule) == 0 {
		l.schedule = DefaultAnnounceSchedule
	}
	for i := range d.plan.groups {
		gp := &d.plan.groups[i]
		m, err := carp.NewMachine(gp.cfg)
		if err != nil {
			l.close()
			return fmt.Errorf("carp driver: %w", err)
		}
		l.groups = append(l.groups, &group{plan: gp, m: m, idx: i})
	}
	d.lp = l
	started := make(chan struct{})
	go d.runLoop(l, started)
	<-started
	d.startHealth(d.ha.HealthChecks, true)
	return nil
}

// runLoop owns the loop's OS thread for good: a thread made real-time is
// never handed back to the scheduler's pool; it ends with the goroutine.
func (d *Driver) runLoop(l *loop, started chan<- struct{}) {
	runtime.LockOSThread()
	if d.opts.RealTime {
		if err := lockMemory(); err != nil {
			d.log.Warn("carp: memory not locked; going on", "err", err)
		}
		if err := floorProcess(RuntimePriority); err != nil {
			d.log.Warn("carp: runtime threads not real-time; going on", "err", err)
		}
		if err := realtimeThread(RTPriority); err != nil {
			d.log.Warn("carp: advert thread not real-time; going on", "err", err)
		} else {
			d.log.Info("carp: advert thread runs SCHED_FIFO", "priority", RTPriority)
		}
	}
	l.begin(d.now(), d.opts.BootHold, d.ha.Maintenance, d.ha.HealthChecks)
	close(started)
	l.run()
	l.close()
	close(d.done)
}

func openPaths(p *plan, enter func(func() error) error) ([]*path, error) {
	var out []*path
	err := enter(func() error {
		hb, err := net.InterfaceByName(p.heartbeat)
		if err != nil {
			return fmt.Errorf("carp driver: heartbeat device %s: %w", p.heartbeat, err)
		}
		for _, v6 := range []bool{false, true} {
			if !hasFamily(p.peers, v6) {
				continue
			}
			s, err := openRaw(p.heartbeat, hb.Index, v6, false)
			if err != nil {
				return err
			}
			out = append(out, &path{sock: s, dev: p.heartbeat, heartbeat: true, v6: v6})
		}
		for _, sp := range p.second {
			ifi, err := net.InterfaceByName(sp.dev)
			if err != nil {
				return fmt.Errorf("carp driver: second path device %s: %w", sp.dev, err)
			}
			s, err := openRaw(sp.dev, ifi.Index, sp.v6, true)
			if err != nil {
				return err
			}
			out = append(out, &path{sock: s, dev: sp.dev, v6: sp.v6, multicast: true})
			// Listen on the other family too, in case the peer's config
			// chose it; best effort (IPv6 may be off).
			if s, err := openRaw(sp.dev, ifi.Index, !sp.v6, true); err == nil {
				out = append(out, &path{sock: s, dev: sp.dev, v6: !sp.v6})
			}
		}
		return nil
	})
	if err != nil {
		closePaths(out)
		return nil, err
	}
	return out, nil
}

func hasFamily(addrs []netip.Addr, v6 bool) bool {
	for _, a := range addrs {
		if a.Unmap().Is4() != v6 {
			return true
		}
	}
	return false
}

func closePaths(paths []*path) {
	for _, p := range paths {
		p.sock.Close()
	}
}

// Close bows out of every group where this node is master, removes the
// VIPs and closes everything. It is safe to call more than once.
func (d *Driver) Close() error {
	d.closeOnce.Do(func() {
		d.stopHealth()
		if d.ctl != nil && d.ctl.post(func(now time.Time) { d.lp.shutdown(now) }) {
			select {
			case <-d.done:
			case <-time.After(shutdownTimeout):
				d.log.Error("carp: the run loop did not stop in time")
			}
		}
		// The reporter first: the last transitions (the bow-out) still
		// reach the hooks and the notify command.
		d.rep.close()
		d.rep.setNotifier(nil)
	})
	return nil
}

// OnTransition registers a hook called after every state change, in
// order, from an ordinary goroutine (never the advert thread). Hooks must
// not block for long: state sync and the UI subscribe here.
func (d *Driver) OnTransition(f func(group uint8, from, to carp.State, reason carp.Why)) {
	d.rep.addHook(f)
}

// Demote sets one demotion source on every group (carp.Demote).
func (d *Driver) Demote(cause carp.Cause, name string, by uint8) {
	d.post(func(l *loop, now time.Time) { l.stepAll(now, carp.Demote{Cause: cause, Name: name, By: by}) })
}

// Promote clears one demotion source on every group; Promote(CauseBoot,
// "") releases the boot hold.
func (d *Driver) Promote(cause carp.Cause, name string) {
	d.post(func(l *loop, now time.Time) { l.stepAll(now, carp.Promote{Cause: cause, Name: name}) })
}

// SetMaintenance enters or leaves maintenance mode: a master hands its
// VIPs over to the best backup without loss, and the node stays backup.
func (d *Driver) SetMaintenance(on bool) {
	if on {
		d.Demote(carp.CauseMaintenance, "", carp.MaintenanceDemotion)
	} else {
		d.Promote(carp.CauseMaintenance, "")
	}
}

// States returns each group's state.
func (d *Driver) States() map[uint8]carp.State {
	out := map[uint8]carp.State{}
	for i := range d.plan.groups {
		out[d.plan.groups[i].cfg.VHID] = carp.State(d.states[i].Load())
	}
	return out
}

// Counters returns the advert counters, for metrics.
func (d *Driver) Counters() Counters {
	c := Counters{
		Sent: d.cnt.sent.Load(), SendErrors: d.cnt.sendErrors.Load(), Unverified: d.cnt.unverified.Load(),
		Transitions: d.cnt.transitions.Load(), Alarms: d.cnt.alarms.Load(),
		Announcements: d.cnt.announcements.Load(), AnnounceErrors: d.cnt.announceErrors.Load(),
		VIPErrors: d.cnt.vipErrors.Load(), DroppedReports: d.rep.dropped.Load(), Rejected: map[string]uint64{},
	}
	d.recvMu.Lock()
	base := d.recvBase
	d.recvMu.Unlock()
	c.Accepted = base.Accepted
	for r, n := range base.Rejected {
		c.Rejected[r.String()] += n
	}
	if r := d.recv.Load(); r != nil {
		rc := r.Counts()
		c.Accepted += rc.Accepted
		for reason, n := range rc.Rejected {
			c.Rejected[reason.String()] += n
		}
	}
	return c
}

// post runs f on the loop's thread. Before Start or after Close it does
// nothing.
func (d *Driver) post(f func(l *loop, now time.Time)) {
	if d.ctl == nil {
		return
	}
	d.ctl.post(func(now time.Time) { f(d.lp, now) })
}
