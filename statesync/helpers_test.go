package statesync

import (
	"bytes"
	"cmp"
	"context"
	"log/slog"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"rampart/statesync/ctnl"
)

// fakeClock is a Clock that moves only when told to.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at   time.Time
	f    func()
	done bool
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	if d <= 0 {
		f()
		return func() bool { return false }
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), f: f}
	c.timers = slices.DeleteFunc(c.timers, func(t *fakeTimer) bool { return t.done })
	c.timers = append(c.timers, t)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		stopped := !t.done
		t.done = true
		return stopped
	}
}

// Advance moves the clock and runs the timers that come due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []func()
	for _, t := range c.timers {
		if !t.done && !t.at.After(c.now) {
			t.done = true
			due = append(due, t.f)
		}
	}
	c.mu.Unlock()
	for _, f := range due {
		f()
	}
}

// armed returns the number of timers waiting.
func (c *fakeClock) armed() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.timers {
		if !t.done {
			n++
		}
	}
	return n
}

// eventually polls cond until it holds; the bound only keeps a broken
// test from hanging, it asserts nothing about speed.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for i := 0; i < 6000; i++ { // 30 s
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// table is a fake conntrack table feeding a Sender. A change and its
// event are one step under the table's lock, as the kernel emits an
// event with the change, so that Snapshot sees either both or neither.
type table struct {
	mu sync.Mutex
	m  map[Key]ctnl.Entry
	s  *Sender
}

func newTable() *table { return &table{m: make(map[Key]ctnl.Entry)} }

func (tb *table) set(e ctnl.Entry) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	typ := ctnl.EventUpdate
	if _, ok := tb.m[KeyOf(&e)]; !ok {
		typ = ctnl.EventNew
	}
	tb.m[KeyOf(&e)] = e
	tb.s.Update(ctnl.Event{Type: typ, Entry: e})
}

func (tb *table) del(e ctnl.Entry) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	delete(tb.m, KeyOf(&e))
	tb.s.Update(ctnl.Event{Type: ctnl.EventDestroy, Entry: e})
}

func (tb *table) snapshot(ctx context.Context) ([]ctnl.Entry, error) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	out := make([]ctnl.Entry, 0, len(tb.m))
	for _, e := range tb.m {
		out = append(out, e)
	}
	return out, nil
}

func (tb *table) entries() []ctnl.Entry {
	es, _ := tb.snapshot(context.Background())
	return sortEntries(es)
}

func sortEntries(es []ctnl.Entry) []ctnl.Entry {
	slices.SortFunc(es, func(a, b ctnl.Entry) int {
		return cmp.Or(cmp.Compare(a.Zone, b.Zone), a.Orig.Src.Compare(b.Orig.Src), cmp.Compare(a.Orig.Proto, b.Orig.Proto),
			cmp.Compare(a.Orig.SrcPort, b.Orig.SrcPort), cmp.Compare(a.Orig.DstPort, b.Orig.DstPort))
	})
	return es
}

// logBuffer collects log records for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// Sync-link addresses the test identities derive from. The tests run
// over loopback; these only name the nodes.
var (
	nodeA = addr("10.99.0.1")
	nodeB = addr("10.99.0.2")
)

// pairOptions shape a sender and receiver pair.
type pairOptions struct {
	senderSecret, receiverSecret string
	senderVersions, recvVersions versions
	tuning                       Tuning
	clock                        Clock
	proxy                        bool // put a proxy between the two
	onRequest                    RequestHandler
}

type pair struct {
	tb      *table
	snd     *Sender
	rcv     *Receiver
	proxy   *proxy
	rcvAddr string
	sndLog  *logBuffer
	rcvLog  *logBuffer
	applied *applyLog
}

const testSecret = "a shared secret of some length"

func newPair(t testing.TB, o pairOptions) *pair {
	t.Helper()
	if o.senderSecret == "" {
		o.senderSecret = testSecret
	}
	if o.receiverSecret == "" {
		o.receiverSecret = testSecret
	}
	if o.clock == nil {
		o.clock = SystemClock{}
	}
	if o.tuning.Backoff == (Backoff{}) {
		o.tuning.Backoff = Backoff{Min: 5 * time.Millisecond, Max: 50 * time.Millisecond}
	}
	p := &pair{tb: newTable(), sndLog: &logBuffer{}, rcvLog: &logBuffer{}, applied: &applyLog{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rid, err := DeriveIdentity([]byte(o.receiverSecret), nodeB, nodeA)
	if err != nil {
		t.Fatal(err)
	}
	p.rcv, err = NewReceiver(ReceiverConfig{Identity: rid, Logger: p.rcvLog.logger(), Clock: o.clock, Tuning: o.tuning, versions: o.recvVersions,
		OnRequest: o.onRequest})
	if err != nil {
		t.Fatal(err)
	}
	p.rcv.onApply = p.applied.add
	target := ln.Addr().String()
	p.rcvAddr = target
	if o.proxy {
		p.proxy = newProxy(t, target)
		target = p.proxy.addr()
	}
	sid, err := DeriveIdentity([]byte(o.senderSecret), nodeA, nodeB)
	if err != nil {
		t.Fatal(err)
	}
	p.snd, err = NewSender(SenderConfig{Peer: target, Identity: sid, Snapshot: p.tb.snapshot, Logger: p.sndLog.logger(),
		Clock: o.clock, Tuning: o.tuning, versions: o.senderVersions})
	if err != nil {
		t.Fatal(err)
	}
	p.tb.s = p.snd
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := p.rcv.Serve(ctx, ln); err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	go func() {
		defer wg.Done()
		if err := p.snd.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return p
}

// synced reports whether the receiver's cache equals the table.
func (p *pair) synced() bool {
	return diff(p.tb.entries(), sortEntries(p.rcv.Cache().Entries())) == ""
}

// applyLog records the frames a receiver applied, in order.
type applyLog struct {
	mu     sync.Mutex
	frames []Frame
}

func (a *applyLog) add(f *Frame) {
	a.mu.Lock()
	defer a.mu.Unlock()
	cp := *f
	cp.Records = slices.Clone(f.Records)
	a.frames = append(a.frames, cp)
}

func (a *applyLog) get() []Frame {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.frames)
}
