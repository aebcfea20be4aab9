package driver

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"rampart/carp"
	"rampart/config"
)

// The run loop over fakes: two drivers in this process joined by socket
// pairs in place of the heartbeat link and the LAN, and a kernel that
// records what it is told. No root needed; real time at a 20ms advbase.

// pairSock is one end of a datagram socket pair. A frame carries the TTL
// and the sender's address before the advert.
type pairSock struct {
	fd   int
	self netip.Addr
	mute atomic.Bool // a dead node: sends nothing
}

func sockPair(t *testing.T, a, b netip.Addr) (*pairSock, *pairSock) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	return &pairSock{fd: fds[0], self: a}, &pairSock{fd: fds[1], self: b}
}

func (s *pairSock) Fd() int      { return s.fd }
func (s *pairSock) Close() error { return unix.Close(s.fd) }

func (s *pairSock) Recv(buf []byte) ([]byte, netip.Addr, int, error) {
	n, _, err := unix.Recvfrom(s.fd, buf, unix.MSG_DONTWAIT)
	if err != nil {
		return nil, netip.Addr{}, -1, err
	}
	if n < 17 {
		return nil, netip.Addr{}, -1, errShortIP
	}
	return buf[17:n], netip.AddrFrom16([16]byte(buf[1:17])).Unmap(), int(buf[0]), nil
}

func (s *pairSock) Send(pkt []byte, _ netip.Addr) error {
	return s.sendTTL(pkt, carp.TTL)
}

func (s *pairSock) sendTTL(pkt []byte, ttl int) error {
	if s.mute.Load() {
		return nil
	}
	return s.inject(pkt, ttl)
}

// inject sends even when muted: a forger on the wire.
func (s *pairSock) inject(pkt []byte, ttl int) error {
	a := s.self.As16()
	return unix.Send(s.fd, append(append([]byte{byte(ttl)}, a[:]...), pkt...), unix.MSG_DONTWAIT)
}

// fakeKernel records VIP changes and announcements, in order.
type fakeKernel struct {
	name string
	mu   sync.Mutex
	up   bool
	log  *eventLog
	ann  int
}

// eventLog is shared by the kernels of both nodes, to check the order of
// what they did.
type eventLog struct {
	mu sync.Mutex
	ev []string
}

func (l *eventLog) add(s string) {
	l.mu.Lock()
	l.ev = append(l.ev, s)
	l.mu.Unlock()
}

func (l *eventLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ev)
}

func (k *fakeKernel) addVIPs(*groupPlan) error {
	k.mu.Lock()
	k.up = true
	k.mu.Unlock()
	k.log.add(k.name + " up")
	return nil
}

func (k *fakeKernel) removeVIPs(*groupPlan) error {
	k.mu.Lock()
	k.up = false
	k.mu.Unlock()
	k.log.add(k.name + " down")
	return nil
}

func (k *fakeKernel) announce(*groupPlan) error {
	k.mu.Lock()
	k.ann++
	k.mu.Unlock()
	return nil
}

func (k *fakeKernel) close() error { return nil }

func (k *fakeKernel) isUp() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.up
}

// fakePair is nodes a (priority 200) and b (100), linked.
type fakePair struct {
	drv  [2]*testDriver
	kern [2]*fakeKernel
	hb   [2]*pairSock
	lan  [2]*pairSock
	log  *eventLog
}

var (
	syncA = netip.MustParseAddr("192.168.255.1")
	syncB = netip.MustParseAddr("192.168.255.2")
)

func newFakePair(t *testing.T) *fakePair {
	t.Helper()
	p := &fakePair{log: &eventLog{}}
	p.hb[0], p.hb[1] = sockPair(t, syncA, syncB)
	p.lan[0], p.lan[1] = sockPair(t, netip.MustParseAddr("192.168.1.2"), netip.MustParseAddr("192.168.1.3"))
	for i := range 2 {
		p.kern[i] = &fakeKernel{name: string(rune('a' + i)), log: p.log}
	}
	return p
}

// start starts node i.
func (p *fakePair) start(t *testing.T, i int, mutate func(*config.Config)) *testDriver {
	t.Helper()
	node, prio := "a", 200
	if i == 1 {
		node, prio = "b", 100
	}
	cfg := testConfig(t, node, prio)
	if mutate != nil {
		mutate(cfg)
	}
	d, err := New(Options{Config: cfg, Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	td := &testDriver{Driver: d, trs: make(chan Transition, 64)}
	d.OnTransition(func(g uint8, from, to carp.State, why carp.Why) {
		td.trs <- Transition{Group: g, From: from, To: to, Reason: why}
	})
	paths := []*path{
		{sock: p.hb[i], dev: "eth2", heartbeat: true},
		{sock: p.lan[i], dev: "eth0", multicast: true},
	}
	if err := d.start(p.kern[i], paths, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	p.drv[i] = td
	return td
}

func (p *fakePair) startBoth(t *testing.T) {
	t.Helper()
	p.start(t, 0, nil).waitState(t, carp.Master)
	p.start(t, 1, nil).waitState(t, carp.Backup)
}

func TestFakeFailover(t *testing.T) {
	p := newFakePair(t)
	p.startBoth(t)
	p.drv[1].noTransition(t, 10*carpAdv)
	// a dies: it stops sending on both paths.
	p.hb[0].mute.Store(true)
	p.lan[0].mute.Store(true)
	if tr := p.drv[1].waitState(t, carp.Master); tr.Reason != carp.WhyMasterDown {
		t.Errorf("b took over with reason %v, want master_down", tr.Reason)
	}
	if !p.kern[1].isUp() || p.kern[1].ann == 0 {
		t.Errorf("b: VIPs up %v, announcements %d; want up and announced", p.kern[1].isUp(), p.kern[1].ann)
	}
	// a comes back: it still thinks it is master, with the better rank;
	// b yields to it.
	p.hb[0].mute.Store(false)
	p.lan[0].mute.Store(false)
	if tr := p.drv[1].waitState(t, carp.Backup); tr.Reason != carp.WhyHeardBetter {
		t.Errorf("b stepped down with reason %v, want heard_better", tr.Reason)
	}
	if p.kern[1].isUp() || !p.kern[0].isUp() {
		t.Errorf("VIPs up: a %v, b %v; want a only", p.kern[0].isUp(), p.kern[1].isUp())
	}
	gs := p.drv[1].Groups()
	if len(gs) != 1 || gs[0].State != carp.Backup || gs[0].Peer != "a" || gs[0].PeerPriority != 200 || gs[0].Received == 0 || gs[0].Sent == 0 {
		t.Errorf("b's group status %+v: want backup, peer a at priority 200, adverts sent and received", gs)
	}
}

// TestFakeHandover: maintenance on the master hands over make-before-
// break: the new master's VIPs are up before the old master's go.
func TestFakeHandover(t *testing.T) {
	p := newFakePair(t)
	p.startBoth(t)
	p.drv[0].SetMaintenance(true)
	if tr := p.drv[0].waitState(t, carp.Backup); tr.Reason != carp.WhyMaintenance {
		t.Errorf("a left with reason %v, want maintenance", tr.Reason)
	}
	if tr := p.drv[1].waitState(t, carp.Master); tr.Reason != carp.WhyBowOut {
		t.Errorf("b took over with reason %v, want bow_out", tr.Reason)
	}
	deadline := time.Now().Add(2 * time.Second)
	for p.kern[0].isUp() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	got := p.log.list()
	want := []string{"a up", "b up", "a down"}
	if !slices.Equal(got, want) {
		t.Errorf("VIP changes %q, want %q (the new master up before the old one goes)", got, want)
	}
	// Maintenance off: a preempts back.
	p.drv[0].SetMaintenance(false)
	if tr := p.drv[0].waitState(t, carp.Master); tr.Reason != carp.WhyPreempt {
		t.Errorf("a came back with reason %v, want preempt", tr.Reason)
	}
}

// TestFakeUnverifiedPeer: adverts from the heartbeat peer's address that
// fail authentication hold a backup down after the master went silent;
// the same from a LAN address do not.
func TestFakeUnverifiedPeer(t *testing.T) {
	for _, tc := range []struct {
		name      string
		heartbeat bool
		takeover  bool
	}{{"from the heartbeat peer", true, false}, {"from the LAN", false, true}} {
		t.Run(tc.name, func(t *testing.T) {
			// A slower advbase than the other tests: the forger below is
			// an ordinary goroutine, and a loaded machine may hold it back
			// for a while; the master down interval is 360ms here.
			const adv = 100 * time.Millisecond
			slow := func(c *config.Config) { c.HA.Groups[0].AdvBase = config.Duration(adv) }
			p := newFakePair(t)
			p.start(t, 0, slow).waitState(t, carp.Master)
			p.start(t, 1, slow).waitState(t, carp.Backup)
			p.hb[0].mute.Store(true)
			p.lan[0].mute.Store(true)
			wrong, _ := carp.DeriveKey([]byte("another cluster's key"), 1)
			node, _ := carp.ParseNodeID("a")
			forged := carp.Advert{Type: carp.TypeAdvert, VHID: 1, AdvBaseMS: 100, KeyID: 1, Node: node, Epoch: 1}
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				sock := p.lan[0]
				if tc.heartbeat {
					sock = p.hb[0]
				}
				for i := 0; ; i++ {
					forged.Seq = uint64(i + 1)
					_ = sock.inject(forged.Marshal(&wrong), carp.TTL)
					select {
					case <-stop:
						return
					case <-time.After(carpAdv):
					}
				}
			}()
			select {
			case tr := <-p.drv[1].trs:
				if !tc.takeover {
					t.Errorf("b changed state %+v although the peer is alive, if unverified", tr)
				}
			case <-time.After(20 * adv):
				if tc.takeover {
					t.Errorf("b did not take over from a LAN host it cannot verify")
				}
			}
			close(stop)
			<-done
			c := p.drv[1].Counters()
			if tc.heartbeat && c.Unverified == 0 || !tc.heartbeat && c.Unverified != 0 {
				t.Errorf("unverified %d (heartbeat %v)", c.Unverified, tc.heartbeat)
			}
			if c.Rejected["auth"] == 0 {
				t.Errorf("no auth rejections counted: %+v", c)
			}
		})
	}
}

func TestFakeCloseBowsOut(t *testing.T) {
	p := newFakePair(t)
	p.startBoth(t)
	p.drv[0].Close()
	if tr := p.drv[1].waitState(t, carp.Master); tr.Reason != carp.WhyBowOut {
		t.Errorf("b took over with reason %v, want bow_out", tr.Reason)
	}
	if p.kern[0].isUp() {
		t.Error("a still holds the VIPs after Close")
	}
	p.drv[0].Demote(carp.CauseHealth, "x", 1) // after Close: nothing, no panic
	if s := p.drv[0].States(); s[1] != carp.Init {
		t.Errorf("a's state after Close = %v, want init", s[1])
	}
}

// TestFakeNotify: the notify command and the webhook run on each
// transition, in order, with the transition in the environment and in a
// JSON body.
func TestFakeNotify(t *testing.T) {
	out := filepath.Join(t.TempDir(), "notify.log")
	var mu sync.Mutex
	var posts []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b webhookBody
		if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		mu.Lock()
		posts = append(posts, fmt.Sprintf("%s %d %s %s %s", b.Node, b.Group, b.From, b.To, b.Reason))
		mu.Unlock()
	}))
	defer srv.Close()
	p := newFakePair(t)
	a := p.start(t, 0, func(c *config.Config) {
		c.HA.Notify.Command = `echo "$RAMPART_NODE $RAMPART_GROUP $RAMPART_FROM $RAMPART_TO $RAMPART_REASON" >> ` + out
		c.HA.Notify.Webhook = srv.URL
	})
	a.waitState(t, carp.Master)
	a.Close() // waits for the notifications queued so far
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := "a 1 init backup start\na 1 backup master master_down\na 1 master init shutdown\n"
	if string(b) != want {
		t.Errorf("notify log:\n%s\nwant:\n%s", b, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(posts, "\n") + "\n"; got != want {
		t.Errorf("webhook posts:\n%s\nwant:\n%s", got, want)
	}
}

// TestFakeHealth: a failing health check demotes the master, and the
// backup takes over at once; when it passes again the master preempts
// back.
func TestFakeHealth(t *testing.T) {
	flag := filepath.Join(t.TempDir(), "healthy")
	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	p := newFakePair(t)
	p.start(t, 0, func(c *config.Config) {
		c.HA.HealthChecks = []config.HealthCheck{{Name: "svc", Type: "command", Target: "test -f " + flag,
			Interval: config.Duration(20 * time.Millisecond), Timeout: config.Duration(time.Second), Demote: 50}}
	}).waitState(t, carp.Master)
	p.start(t, 1, nil).waitState(t, carp.Backup)
	p.drv[1].noTransition(t, 10*carpAdv)
	if err := os.Remove(flag); err != nil {
		t.Fatal(err)
	}
	if tr := p.drv[1].waitState(t, carp.Master); tr.Reason != carp.WhyMasterDemoted {
		t.Errorf("b took over with reason %v, want master_demoted", tr.Reason)
	}
	if err := os.WriteFile(flag, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if tr := p.drv[0].waitState(t, carp.Master); tr.Reason != carp.WhyPreempt {
		t.Errorf("a came back with reason %v, want preempt", tr.Reason)
	}
}
