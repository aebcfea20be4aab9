package carp

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"rampart/config"
)

const ms = time.Millisecond

var t0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// rig drives one machine with times relative to t0 and renders its actions
// as short strings, so a test reads as a transcript.
type rig struct {
	t *testing.T
	m *Machine
}

func newRig(t *testing.T, c Config) *rig {
	t.Helper()
	m, err := NewMachine(c)
	if err != nil {
		t.Fatal(err)
	}
	return &rig{t: t, m: m}
}

func baseConfig() Config {
	return Config{VHID: 1, Node: nodeID("b"), Epoch: 1, AdvBase: 100 * ms, AdvSkew: 0, Preempt: true}
}

func (r *rig) step(at time.Duration, ev Event) []string {
	return show(r.m.Step(t0.Add(at), ev))
}

// expect steps and compares the transcript.
func (r *rig) expect(at time.Duration, ev Event, want ...string) {
	r.t.Helper()
	got := r.step(at, ev)
	if want == nil {
		want = []string{}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		r.t.Fatalf("at %v after %T (-want +got):\n%s", at, ev, diff)
	}
}

// runTo fires the machine's timers, each at its deadline, up to d, and
// returns the transcript.
func (r *rig) runTo(d time.Duration) []string {
	out := []string{}
	for i := 0; i < 10000 && !r.m.armed.IsZero() && !r.m.armed.After(t0.Add(d)); i++ {
		out = append(out, r.step(r.m.armed.Sub(t0), Timer{At: r.m.armed})...)
	}
	return out
}

func show(acts []Action) []string {
	out := []string{}
	for _, a := range acts {
		switch a := a.(type) {
		case SendAdvert:
			out = append(out, fmt.Sprintf("send %v seq=%d demote=%d", a.Advert.Type, a.Advert.Seq, a.Advert.Demote))
		case AddVIPs:
			out = append(out, "add vips")
		case RemoveVIPs:
			out = append(out, "remove vips")
		case Announce:
			out = append(out, "announce")
		case ArmTimer:
			if a.At.IsZero() {
				out = append(out, "disarm")
			} else {
				out = append(out, fmt.Sprintf("arm %v", a.At.Sub(t0)))
			}
		case StateChanged:
			out = append(out, fmt.Sprintf("%v->%v %v", a.From, a.To, a.Why))
		case Alarm:
			out = append(out, "alarm "+a.Kind.String())
		default:
			out = append(out, fmt.Sprintf("%T", a))
		}
	}
	return out
}

func advertFrom(node string, skew, demote uint8) Received {
	return Received{Advert: Advert{Type: TypeAdvert, VHID: 1, AdvSkew: skew, Demote: demote, AdvBaseMS: 100, Node: nodeID(node)}, From: netip.MustParseAddr("192.0.2.9")}
}

func bowOutFrom(node string) Received {
	r := advertFrom(node, 0, 0)
	r.Advert.Type = TypeBowOut
	return r
}

func at(d time.Duration) Timer { return Timer{At: t0.Add(d)} }

// master brings a rig with base config to MASTER at 300ms.
func (r *rig) master() {
	r.step(0, Start{})
	r.step(300*ms, at(300*ms))
	if r.m.State() != Master {
		r.t.Fatalf("state %v, want master", r.m.State())
	}
}

func TestColdStartAlone(t *testing.T) {
	c := baseConfig()
	c.AdvSkew = 128 // skew = 50ms
	r := newRig(t, c)
	r.expect(0, Start{}, "init->backup start", "arm 350ms")
	r.expect(350*ms, at(350*ms), "add vips", "send advert seq=1 demote=0", "announce", "backup->master master_down", "arm 450ms")
	r.expect(450*ms, at(450*ms), "send advert seq=2 demote=0", "arm 550ms")
	// A late timer does not stretch the interval.
	r.expect(560*ms, at(550*ms), "send advert seq=3 demote=0", "arm 650ms")
}

func TestBackupFollowsMaster(t *testing.T) {
	r := newRig(t, baseConfig())
	r.step(0, Start{})
	r.expect(50*ms, advertFrom("a", 0, 0), "arm 350ms")
	r.expect(150*ms, advertFrom("a", 0, 0), "arm 450ms")
	r.expect(450*ms, at(450*ms), "add vips", "send advert seq=1 demote=0", "announce", "backup->master master_down", "arm 550ms")
}

func TestPreempt(t *testing.T) {
	t.Run("on", func(t *testing.T) {
		r := newRig(t, baseConfig())
		r.step(0, Start{})
		r.expect(50*ms, advertFrom("a", 10, 0), "add vips", "send advert seq=1 demote=0", "announce", "backup->master preempt", "arm 150ms")
	})
	t.Run("off", func(t *testing.T) {
		c := baseConfig()
		c.Preempt = false
		r := newRig(t, c)
		r.step(0, Start{})
		r.expect(50*ms, advertFrom("a", 10, 0), "arm 350ms")
	})
	t.Run("equal priority never preempts", func(t *testing.T) {
		r := newRig(t, baseConfig())
		r.step(0, Start{})
		r.expect(50*ms, advertFrom("c", 0, 0), "arm 350ms") // b sorts first, but priorities tie
	})
	t.Run("delay", func(t *testing.T) {
		c := baseConfig()
		c.PreemptDelay = time.Second
		r := newRig(t, c)
		r.step(0, Start{})
		r.expect(50*ms, advertFrom("a", 10, 0), "arm 350ms")
		r.expect(150*ms, advertFrom("a", 10, 0), "arm 450ms")
		for t := 250 * ms; t < time.Second; t += 100 * ms {
			r.step(t, advertFrom("a", 10, 0))
		}
		r.expect(time.Second+50*ms, at(time.Second+50*ms), "add vips", "send advert seq=1 demote=0", "announce", "backup->master preempt", "arm 1.15s")
	})
	t.Run("delay cancelled by a better master", func(t *testing.T) {
		c := baseConfig()
		c.PreemptDelay = time.Second
		r := newRig(t, c)
		r.step(0, Start{})
		r.step(50*ms, advertFrom("a", 10, 0))
		if r.m.preemptAt.IsZero() {
			t.Fatal("no preempt pending")
		}
		r.expect(150*ms, advertFrom("a", 0, 0), "arm 450ms") // equal now: cancelled
		if !r.m.preemptAt.IsZero() {
			t.Error("preempt still pending")
		}
	})
	t.Run("a demoted master is taken over at once, preempt or not", func(t *testing.T) {
		c := baseConfig()
		c.Preempt = false
		c.AdvSkew = 200
		c.PreemptDelay = time.Second
		r := newRig(t, c)
		r.step(0, Start{})
		r.expect(50*ms, advertFrom("a", 0, 0), "arm 428.125ms")
		r.expect(150*ms, advertFrom("a", 0, 50), "add vips", "send advert seq=1 demote=0", "announce", "backup->master master_demoted", "arm 250ms")
	})
}

func TestMasterHearsOtherMaster(t *testing.T) {
	r := newRig(t, baseConfig())
	r.master()
	// A worse master (split brain healing): assert at once, announce once.
	r.expect(320*ms, advertFrom("c", 0, 0), "send advert seq=2 demote=0", "arm 420ms")
	r.runTo(1000 * ms) // adverts 3 to 9
	r.expect(1010*ms, advertFrom("c", 0, 0), "send advert seq=9 demote=0", "announce", "arm 1.11s")
	// A better one: step down.
	r.expect(1020*ms, advertFrom("a", 0, 0), "send step-down seq=10 demote=0", "remove vips", "master->backup heard_better", "arm 1.32s")
	// A loser that heard us first says so: announce, once.
	r3 := newRig(t, baseConfig())
	r3.master()
	stepDown := advertFrom("c", 0, 0)
	stepDown.Advert.Type = TypeStepDown
	r3.expect(310*ms, stepDown)
	r3.runTo(2 * time.Second)
	r3.expect(2*time.Second, stepDown, "announce")
	r3.expect(2010*ms, stepDown)
	// A bow-out from someone else while master changes nothing.
	r2 := newRig(t, baseConfig())
	r2.master()
	r2.expect(310*ms, bowOutFrom("a"))
}

func TestBowOut(t *testing.T) {
	c := baseConfig()
	c.AdvSkew = 64 // 25ms
	r := newRig(t, c)
	r.step(0, Start{})
	r.step(50*ms, advertFrom("a", 0, 0))
	r.expect(60*ms, bowOutFrom("a"), "arm 85ms")
	r.expect(85*ms, at(85*ms), "add vips", "send advert seq=1 demote=0", "announce", "backup->master bow_out", "arm 185ms")

	// With another master still alive, a bow-out does not hurry.
	r = newRig(t, c)
	r.step(0, Start{})
	r.step(50*ms, advertFrom("a", 0, 0))
	r.step(55*ms, advertFrom("z", 0, 0))
	r.expect(60*ms, bowOutFrom("a"))
}

func TestShutdown(t *testing.T) {
	r := newRig(t, baseConfig())
	r.master()
	r.expect(350*ms, Shutdown{}, "send bow-out seq=2 demote=0", "remove vips", "master->init shutdown", "disarm")
	r.expect(400*ms, advertFrom("a", 0, 0))
	r.expect(500*ms, Start{}, "init->backup start", "arm 800ms")
}

func TestMaintenance(t *testing.T) {
	r := newRig(t, baseConfig())
	r.master()
	r.expect(350*ms, Demote{Cause: CauseMaintenance, By: MaintenanceDemotion},
		"send bow-out seq=2 demote=255", "remove vips", "master->backup maintenance", "arm 750ms")
	r.expect(360*ms, Demote{Cause: CauseMaintenance, By: MaintenanceDemotion}) // idempotent
	// A worse peer takes over and this node does not preempt it.
	r.expect(370*ms, advertFrom("c", 200, 0), "arm 770ms")
	r.expect(400*ms, Promote{Cause: CauseMaintenance},
		"add vips", "send advert seq=3 demote=0", "announce", "backup->master preempt", "arm 500ms")
}

func TestDemotionWhileMaster(t *testing.T) {
	r := newRig(t, baseConfig())
	r.master()
	r.expect(310*ms, Demote{Cause: CauseHealth, Name: "web", By: 50}, "send advert seq=2 demote=50", "arm 410ms")
	r.expect(320*ms, Demote{Cause: CauseHealth, Name: "dns", By: 255}, "send advert seq=3 demote=255", "arm 420ms")
	r.expect(330*ms, Promote{Cause: CauseHealth, Name: "web"}) // still clamped at 255
	r.expect(340*ms, Promote{Cause: CauseHealth, Name: "dns"}, "send advert seq=4 demote=0", "arm 440ms")
}

func TestLinkHysteresis(t *testing.T) {
	c := baseConfig()
	c.Track = []string{"wan", "lan"}
	c.LinkUpHold = time.Second
	r := newRig(t, c)
	r.master()
	r.expect(310*ms, LinkChange{Name: "dmz", Up: false}) // not tracked
	r.expect(320*ms, LinkChange{Name: "wan", Up: false}, "send advert seq=2 demote=50", "arm 420ms")
	r.expect(330*ms, LinkChange{Name: "wan", Up: false})
	r.expect(340*ms, LinkChange{Name: "wan", Up: true})
	// Flapping: each loss restarts the hold.
	r.step(800*ms, LinkChange{Name: "wan", Up: false})
	r.step(900*ms, LinkChange{Name: "wan", Up: true})
	if got := r.m.Demotion(); got != LinkDemotion {
		t.Fatalf("demotion %d during the hold, want %d", got, LinkDemotion)
	}
	r.runTo(1850 * ms)
	if got := r.m.Demotion(); got != LinkDemotion {
		t.Fatalf("demotion %d before the hold ended, want %d", got, LinkDemotion)
	}
	want := []string{"send advert seq=14 demote=0", "arm 2s"}
	if diff := cmp.Diff(want, r.runTo(1900*ms)); diff != "" {
		t.Errorf("hold ends (-want +got):\n%s", diff)
	}
}

func TestUnverified(t *testing.T) {
	bad := Unverified{From: netip.MustParseAddr("192.0.2.9"), Reason: ReasonAuth}
	r := newRig(t, baseConfig())
	r.step(0, Start{})
	// The master's adverts fail authentication: no takeover, one alarm.
	r.expect(100*ms, bad, "alarm unverified", "arm 400ms")
	for now := 200 * ms; now <= 2*time.Second; now += 100 * ms {
		if got := r.step(now, bad); len(got) != 1 {
			t.Fatalf("at %v: %v", now, got)
		}
	}
	if r.m.State() != Backup {
		t.Fatalf("took over from an unverified master")
	}
	// They stop: the master is gone for real.
	r.expect(2300*ms, at(2300*ms), "add vips", "send advert seq=1 demote=0", "announce", "backup->master master_down", "arm 2.4s")
	r.expect(2310*ms, bad, "alarm unverified")
}

func TestHeartbeatCarrier(t *testing.T) {
	r := newRig(t, baseConfig())
	r.step(0, Start{})
	r.step(50*ms, advertFrom("a", 0, 0))
	r.expect(60*ms, HeartbeatCarrier{Up: false}, "arm 210ms")
	// An advert on the second path in time: no takeover.
	r.expect(150*ms, advertFrom("a", 0, 0), "arm 450ms")
	r.expect(160*ms, HeartbeatCarrier{Up: false}) // repeated report
	r.expect(250*ms, advertFrom("a", 0, 0), "arm 550ms")
	// Carrier back, then lost again, and the master falls silent.
	r.expect(260*ms, HeartbeatCarrier{Up: true})
	r.expect(270*ms, HeartbeatCarrier{Up: false}, "arm 420ms")
	r.expect(420*ms, at(420*ms), "add vips", "send advert seq=1 demote=0", "announce", "backup->master carrier_lost", "arm 520ms")
}

func TestClockJump(t *testing.T) {
	t.Run("master, clock back", func(t *testing.T) {
		r := newRig(t, baseConfig())
		r.master()
		// The timer for 400ms fires, but the clock now reads an hour earlier.
		r.expect(400*ms-time.Hour, at(400*ms), "alarm clock_jump", "send advert seq=2 demote=0", "arm -59m59.5s")
		r.expect(500*ms-time.Hour, at(500*ms-time.Hour), "send advert seq=3 demote=0", "arm -59m59.4s")
	})
	t.Run("master, clock forward", func(t *testing.T) {
		r := newRig(t, baseConfig())
		r.master()
		r.expect(400*ms+time.Hour, at(400*ms), "alarm clock_jump", "send advert seq=2 demote=0", "arm 1h0m0.5s")
	})
	t.Run("backup, clock forward", func(t *testing.T) {
		r := newRig(t, baseConfig())
		r.step(0, Start{})
		r.step(50*ms, advertFrom("a", 0, 0))
		// An advert arrives after the clock leapt: no takeover.
		r.expect(150*ms+time.Hour, advertFrom("a", 0, 0), "alarm clock_jump", "arm 1h0m0.45s")
	})
	t.Run("backup, timer after a leap listens one more interval", func(t *testing.T) {
		r := newRig(t, baseConfig())
		r.step(0, Start{})
		r.step(50*ms, advertFrom("a", 0, 0))
		r.expect(350*ms+time.Hour, at(350*ms), "alarm clock_jump", "arm 1h0m0.45s")
		r.expect(450*ms+time.Hour, at(450*ms+time.Hour), "add vips", "send advert seq=1 demote=0", "announce", "backup->master master_down", "arm 1h0m0.55s")
	})
	t.Run("small drift is re-based quietly", func(t *testing.T) {
		r := newRig(t, baseConfig())
		r.master()
		// The monotonic timer fired, the clock reads 5ms early: trust the timer.
		r.expect(395*ms, at(400*ms), "send advert seq=2 demote=0", "arm 495ms")
		r.expect(505*ms, at(495*ms), "send advert seq=3 demote=0", "arm 595ms")
	})
	t.Run("stale timer", func(t *testing.T) {
		r := newRig(t, baseConfig())
		r.master()
		r.expect(350*ms, at(300*ms))
	})
}

func TestMismatchAlarms(t *testing.T) {
	r := newRig(t, baseConfig())
	r.step(0, Start{})
	odd := advertFrom("a", 0, 0)
	odd.Advert.Digest = Digest{1}
	odd.Advert.AdvBaseMS = 50
	r.expect(10*ms, odd, "alarm vip_mismatch", "alarm advbase_mismatch", "arm 310ms")
	r.expect(20*ms, odd, "arm 320ms")
	r.expect(30*ms, advertFrom("a", 0, 0), "arm 330ms")
	r.expect(40*ms, odd, "alarm vip_mismatch", "alarm advbase_mismatch", "arm 340ms")
}

func TestIgnoresForeign(t *testing.T) {
	r := newRig(t, baseConfig())
	r.expect(0, advertFrom("a", 0, 0)) // INIT ignores adverts
	r.step(0, Start{})
	other := advertFrom("a", 0, 0)
	other.Advert.VHID = 2
	r.expect(10*ms, other)
	r.expect(20*ms, advertFrom("b", 0, 0)) // own id
}

func TestConfig(t *testing.T) {
	bad := []func(*Config){
		func(c *Config) { c.VHID = 0 },
		func(c *Config) { c.Node = NodeID{} },
		func(c *Config) { c.AdvBase = 0 },
		func(c *Config) { c.AdvBase = 1500 * time.Microsecond },
		func(c *Config) { c.AdvBase = 70 * time.Second },
		func(c *Config) { c.PreemptDelay = -1 },
		func(c *Config) { c.Track = make([]string, 65) },
	}
	for i, f := range bad {
		c := baseConfig()
		f(&c)
		if _, err := NewMachine(c); err == nil {
			t.Errorf("bad config %d accepted", i)
		} else if !strings.HasPrefix(err.Error(), "carp: group ") {
			t.Errorf("error %q does not name the group", err)
		}
	}
	no := false
	ha := &config.HA{NodeID: "fw-b", CarrierLossWindow: config.Duration(30 * ms)}
	g := &config.Group{VHID: 3, Priority: 100, Preempt: &no, Track: []string{"wan"},
		VIPs: []config.VIP{{Interface: "lan", Address: netip.MustParsePrefix("192.0.2.1/24")}}}
	got, err := ConfigFromHA(ha, g, 42)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{VHID: 3, Node: nodeID("fw-b"), Epoch: 42, AdvBase: time.Second, AdvSkew: 155,
		Digest: VIPDigest(g.VIPs), Track: []string{"wan"}, CarrierLossWindow: 30 * ms}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ConfigFromHA (-want +got):\n%s", diff)
	}
	if got := got.MasterDown(false); got != 3*time.Second+time.Second*155/256 {
		t.Errorf("MasterDown = %v", got)
	}
	if _, err := ConfigFromHA(&config.HA{NodeID: "a-name-that-is-too-long"}, g, 1); err == nil {
		t.Error("long node id accepted")
	}
}

func TestRank(t *testing.T) {
	a, b := nodeID("a"), nodeID("b")
	tests := []struct {
		x, y            Rank
		beats, outranks bool
	}{
		{Rank{Node: a}, Rank{Node: b}, true, false},
		{Rank{Node: b}, Rank{Node: a}, false, false},
		{Rank{AdvSkew: 1, Node: a}, Rank{AdvSkew: 0, Node: b}, false, false},
		{Rank{Demote: 0, AdvSkew: 200, Node: b}, Rank{Demote: 1, Node: a}, true, true},
		{Rank{AdvBaseMS: 100, AdvSkew: 255, Node: b}, Rank{AdvBaseMS: 200, Node: a}, true, true},
	}
	for _, tt := range tests {
		if got := tt.x.Beats(tt.y); got != tt.beats {
			t.Errorf("%+v.Beats(%+v) = %v", tt.x, tt.y, got)
		}
		if got := tt.x.Outranks(tt.y); got != tt.outranks {
			t.Errorf("%+v.Outranks(%+v) = %v", tt.x, tt.y, got)
		}
	}
}
