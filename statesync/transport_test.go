package statesync

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestSync streams a table over loopback: the bulk update at connect,
// then events, coalesced and not; the receiver's cache ends equal to the
// table and the boot hold-down is released without an alarm.
func TestSync(t *testing.T) {
	p := newPair(t, pairOptions{})
	for i := range 100 {
		p.tb.set(tcpFlow(uint16(1000+i), 1)) // before the session: in the bulk
	}
	<-p.rcv.BulkDone()
	eventually(t, "the bulk update", p.synced)
	for i := range 500 {
		p.tb.set(tcpFlow(uint16(2000+i%200), uint32(i)))
		if i%3 == 0 {
			p.tb.set(masqFlow(uint16(3000 + i)))
		}
		if i%7 == 0 {
			p.tb.del(tcpFlow(uint16(1000+i%100), 1))
		}
	}
	eventually(t, "the events", p.synced)

	rs := p.rcv.Status()
	if rs.Alarm != "" || !rs.BulkDone || rs.Bulks != 1 || !rs.PeerConnected {
		t.Errorf("receiver status: %+v", rs)
	}
	ss := p.snd.Status()
	if ss.Resyncs["connect"] != 1 || len(ss.Drops) != 0 || !ss.PeerConnected || ss.AuthFailures != 0 {
		t.Errorf("sender status: %+v", ss)
	}
	eventually(t, "lag samples", func() bool { return p.snd.Status().LagSamples > 0 })
	t.Logf("sender: %d frames, %d entries, %d coalesced, lag last %v p99 %v max %v",
		ss.FramesSent, ss.EntriesSent, ss.Coalesced, ss.Lag, ss.LagP99, ss.LagMax)
}

// TestFlushDelay runs the sender on a fake clock: a lone change waits
// FlushDelay for company, a frame's worth goes at once, and the lag is
// measured on the sender's clock from receipt to acknowledgement.
func TestFlushDelay(t *testing.T) {
	clk := newFakeClock()
	tun := Tuning{FrameEntries: 8, FlushDelay: 5 * time.Millisecond}
	p := newPair(t, pairOptions{clock: clk, tuning: tun})
	<-p.rcv.BulkDone()
	eventually(t, "the sender to wait", func() bool { return clk.armed() >= 1 })

	p.tb.set(tcpFlow(1, 1))
	time.Sleep(50 * time.Millisecond) // not a timing assertion: it gives a wrong early send the chance to show
	if n := p.rcv.Cache().Stats().Size; n != 0 {
		t.Fatalf("a lone change was sent before FlushDelay on the sender's clock (%d cached)", n)
	}
	clk.Advance(5 * time.Millisecond)
	eventually(t, "the lone change", p.synced)
	eventually(t, "its acknowledgement", func() bool { return p.snd.Status().LagSamples == 1 })
	if lag := p.snd.Status().Lag; lag != 5*time.Millisecond {
		t.Errorf("lag = %v, want 5ms on the fake clock", lag)
	}

	for i := range 8 {
		p.tb.set(tcpFlow(uint16(100+i), 1))
	}
	eventually(t, "a full frame without the clock moving", p.synced)
}

// TestAuthFailure: nodes with different secrets never exchange a frame,
// and both report it loudly: counted, in the status, logged as errors.
func TestAuthFailure(t *testing.T) {
	p := newPair(t, pairOptions{receiverSecret: "another secret, not the same"})
	p.tb.set(tcpFlow(1, 1))
	eventually(t, "auth failures on both ends", func() bool {
		return p.snd.Status().AuthFailures >= 2 && p.rcv.Status().AuthFailures >= 2
	})
	ss, rs := p.snd.Status(), p.rcv.Status()
	for name, msg := range map[string]string{"sender": ss.LastError, "receiver": rs.LastError} {
		if !strings.Contains(msg, ErrAuth.Error()) || !strings.Contains(msg, "same secret") {
			t.Errorf("%s's last error does not say what is wrong: %q", name, msg)
		}
	}
	for name, logs := range map[string]string{"sender": p.sndLog.String(), "receiver": p.rcvLog.String()} {
		if !strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, "authentication failed") {
			t.Errorf("%s did not log the failure as an error:\n%s", name, logs)
		}
	}
	if ss.PeerConnected || rs.PeerConnected || rs.FramesApplied != 0 || rs.CacheSize != 0 {
		t.Errorf("frames went through without authentication: sender %+v receiver %+v", ss, rs)
	}
}

// TestLoopedBack: a node's sender that reaches its own receiver (a
// looped cable, a hostile link) is refused: each node has its own key.
func TestLoopedBack(t *testing.T) {
	p := newPair(t, pairOptions{})
	<-p.rcv.BulkDone()
	self, err := DeriveIdentity([]byte(testSecret), nodeB, nodeA) // the receiver's own identity
	if err != nil {
		t.Fatal(err)
	}
	snd, err := NewSender(SenderConfig{Peer: p.rcvAddr, Identity: self, Snapshot: p.tb.snapshot})
	if err != nil {
		t.Fatal(err)
	}
	_, err = snd.session(t.Context())
	if !errors.Is(err, ErrAuth) {
		t.Errorf("session with its own receiver: %v, want ErrAuth", err)
	}
}

// TestVersionMismatch: a sender that speaks only v3 is refused by a v2
// receiver, and both say why in words an operator can act on.
func TestVersionMismatch(t *testing.T) {
	p := newPair(t, pairOptions{senderVersions: versions{3, 3}})
	eventually(t, "refusals on both ends", func() bool {
		return p.snd.Status().VersionRefusals >= 1 && p.rcv.Status().VersionRefusals >= 1
	})
	ss, rs := p.snd.Status(), p.rcv.Status()
	want := map[string]string{
		"sender":   "refused by the peer: the peer speaks state sync protocol v2, this node v3: run the same firmware on both nodes",
		"receiver": "protocol version mismatch: the peer speaks state sync protocol v3, this node v2: run the same firmware on both nodes",
	}
	got := map[string]string{"sender": ss.LastError, "receiver": rs.LastError}
	for name := range want {
		if !strings.Contains(got[name], want[name]) {
			t.Errorf("%s's last error:\n got %q\nwant it to contain %q", name, got[name], want[name])
		}
	}
	if !strings.Contains(p.sndLog.String(), "level=ERROR") || !strings.Contains(p.rcvLog.String(), "level=ERROR") {
		t.Errorf("the refusal was not logged as an error on both ends")
	}
	if rs.FramesApplied != 0 || ss.Connects != 0 {
		t.Errorf("a session went through: sender %+v receiver %+v", ss, rs)
	}
}

func TestNegotiate(t *testing.T) {
	tests := []struct {
		ours, theirs versions
		want         uint16
		ok           bool
	}{
		{versions{1, 1}, versions{1, 1}, 1, true},
		{versions{1, 3}, versions{2, 5}, 3, true},
		{versions{2, 5}, versions{1, 3}, 3, true},
		{versions{1, 1}, versions{2, 2}, 0, false},
		{versions{3, 4}, versions{1, 2}, 0, false},
	}
	for _, tt := range tests {
		v, ok := negotiate(tt.ours, tt.theirs)
		if v != tt.want || ok != tt.ok {
			t.Errorf("negotiate(%v, %v) = %d, %v; want %d, %v", tt.ours, tt.theirs, v, ok, tt.want, tt.ok)
		}
	}
}

// TestReconnect cuts the connection twice in the middle of a stream of
// changes. Nothing is lost: after each reconnect a bulk update makes the
// cache equal to the table again. Nothing is reordered: the receiver
// never applies an older state of a flow after a newer one (each change
// carries a global version in its mark).
func TestReconnect(t *testing.T) {
	p := newPair(t, pairOptions{proxy: true, tuning: Tuning{FrameEntries: 64}})
	<-p.rcv.BulkDone()
	const ops = 30000
	version := uint32(0)
	for i := range ops {
		version++
		port := uint16(1 + i%500)
		if i%11 == 0 {
			p.tb.del(tcpFlow(port, 0))
		} else {
			p.tb.set(tcpFlow(port, version))
		}
		if i == ops/3 || i == 2*ops/3 {
			p.proxy.cut()
		}
		if i%1000 == 0 {
			time.Sleep(time.Millisecond) // let frames go out between cuts
		}
	}
	eventually(t, "the cache to catch up", p.synced)
	eventually(t, "three bulk updates", func() bool { return p.rcv.Status().Bulks >= 3 })
	eventually(t, "the cache after the last bulk", p.synced)

	seen := map[Key]uint32{}
	var records int
	for _, f := range p.applied.get() {
		for _, r := range f.Records {
			records++
			k := KeyOf(&r.Entry)
			if r.Op == OpUpdate && r.Entry.Mark < seen[k] {
				t.Fatalf("frame %d: flow %d went back from version %d to %d", f.Seq, r.Entry.Orig.SrcPort, seen[k], r.Entry.Mark)
			}
			if r.Op == OpUpdate {
				seen[k] = r.Entry.Mark
			}
		}
	}
	ss, rs := p.snd.Status(), p.rcv.Status()
	if ss.Resyncs["connect"] < 3 || ss.Connects < 3 {
		t.Errorf("sender: %d connects, resyncs %v; want 3 sessions with a bulk each", ss.Connects, ss.Resyncs)
	}
	if rs.ProtocolErrors != 0 {
		t.Errorf("receiver: %d protocol errors: %s", rs.ProtocolErrors, rs.LastError)
	}
	t.Logf("%d frames, %d records applied; sender %d connects, %d coalesced; receiver %d bulks, %d expired",
		len(p.applied.get()), records, ss.Connects, ss.Coalesced, rs.Bulks, rs.Expired)
}

// TestBackpressure stalls the link: the window fills, changes to known
// flows coalesce, the pending queue stops at its bound and drops the
// rest, and a resync makes the peer whole once the link moves again.
func TestBackpressure(t *testing.T) {
	const maxPending = 100
	tun := Tuning{Window: 2, FrameEntries: 16, MaxPending: maxPending, FlushDelay: time.Millisecond, PeerTimeout: time.Minute}
	p := newPair(t, pairOptions{proxy: true, tuning: tun})
	<-p.rcv.BulkDone()
	eventually(t, "the bulk acknowledgement", func() bool { return p.snd.Status().InFlight == 0 })

	p.proxy.pause()
	for i := range 2000 {
		p.tb.set(tcpFlow(uint16(1+i), 1))
		if i%10 == 0 {
			p.tb.set(tcpFlow(1, uint32(i))) // one busy flow: coalesces
		}
		if st := p.snd.Status(); st.Pending > maxPending || st.InFlight > tun.Window {
			t.Fatalf("bound broken: %d pending, %d in flight", st.Pending, st.InFlight)
		}
	}
	ss := p.snd.Status()
	if ss.Drops["pending_full"] == 0 || ss.Coalesced == 0 {
		t.Errorf("a stalled link should coalesce and drop: %+v", ss)
	}
	p.proxy.resume()
	eventually(t, "the resync after the drops", func() bool { return p.snd.Status().Resyncs["pending_full"] >= 1 })
	eventually(t, "the cache to catch up", p.synced)
	ss = p.snd.Status()
	t.Logf("sender: pending bound %d, %d dropped, %d coalesced, resyncs %v", maxPending, ss.Drops["pending_full"], ss.Coalesced, ss.Resyncs)
}

// TestBulkWatchdog: with no peer, the boot hold-down ends after
// BulkTimeout with an alarm; a bulk update stuck half way raises the
// alarm again, and its end clears it.
func TestBulkWatchdog(t *testing.T) {
	clk := newFakeClock()
	p := newPair(t, pairOptions{clock: clk, senderSecret: "a sender that never gets in"})
	eventually(t, "the watchdog", func() bool { return clk.armed() > 0 })
	select {
	case <-p.rcv.BulkDone():
		t.Fatal("hold-down released before the timeout")
	default:
	}
	clk.Advance(DefaultBulkTimeout)
	<-p.rcv.BulkDone()
	if a := p.rcv.Status().Alarm; !strings.Contains(a, "no complete bulk update from the peer within 1m0s") {
		t.Errorf("alarm = %q", a)
	}
	if !strings.Contains(p.rcvLog.String(), "level=ERROR msg=\"state sync: bulk update stuck") {
		t.Errorf("the alarm was not logged as an error:\n%s", p.rcvLog.String())
	}

	id, err := DeriveIdentity([]byte(testSecret), nodeA, nodeB)
	if err != nil {
		t.Fatal(err)
	}
	rc := dialRaw(t, p.rcvAddr, id, 1)
	rc.send(t, Frame{Type: TypeBulkBegin, Seq: 1})
	eventually(t, "the bulk to start", func() bool { return p.rcv.Status().BulkInProgress })
	clk.Advance(DefaultBulkTimeout)
	eventually(t, "the stuck-bulk alarm", func() bool {
		return strings.Contains(p.rcv.Status().Alarm, "bulk update from the peer in progress for more than 1m0s")
	})
	rc.send(t, Frame{Type: TypeEntries, Seq: 2, Records: []Record{{Op: OpUpdate, Entry: tcpFlow(1, 1)}}})
	rc.send(t, Frame{Type: TypeBulkEnd, Seq: 3, Count: 1})
	eventually(t, "the bulk to end", func() bool { return p.rcv.Status().Bulks == 1 })
	if st := p.rcv.Status(); st.Alarm != "" || st.CacheSize != 1 {
		t.Errorf("after the bulk: alarm %q, %d cached", st.Alarm, st.CacheSize)
	}
}

// TestProtocolErrors: frames out of order or a bulk that does not add up
// end the session, and the sender is told why.
func TestProtocolErrors(t *testing.T) {
	one := []Record{{Op: OpUpdate, Entry: tcpFlow(1, 1)}}
	tests := []struct {
		name   string
		frames []Frame
		want   string
	}{
		{"gap", []Frame{{Type: TypePing, Seq: 1}, {Type: TypePing, Seq: 3}}, "frame 3 after frame 1"},
		{"bulk end alone", []Frame{{Type: TypeBulkEnd, Seq: 1}}, "bulk end without a bulk begin"},
		{"bulk count", []Frame{{Type: TypeBulkBegin, Seq: 1}, {Type: TypeEntries, Seq: 2, Records: one}, {Type: TypeBulkEnd, Seq: 3, Count: 2}}, "bulk update of 2 entries brought 1"},
		{"hello again", []Frame{{Type: TypeHello, Hello: Hello{MinVersion: 1, MaxVersion: 1}}}, "unexpected hello frame"},
	}
	p := newPair(t, pairOptions{senderSecret: "a sender that never gets in"})
	id, err := DeriveIdentity([]byte(testSecret), nodeA, nodeB)
	if err != nil {
		t.Fatal(err)
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := dialRaw(t, p.rcvAddr, id, uint64(100+i))
			for _, f := range tt.frames {
				rc.send(t, f)
			}
			f, err := rc.next(t)
			if err != nil {
				t.Fatal(err)
			}
			if f.Type != TypeRefuse || f.Code != RefuseProtocol || !strings.Contains(f.Reason, tt.want) {
				t.Errorf("got %+v, want a protocol refusal saying %q", f, tt.want)
			}
		})
	}
	// The refusal goes out before the receiver counts the error.
	eventually(t, "the protocol errors counted", func() bool { return p.rcv.Status().ProtocolErrors == uint64(len(tests)) })
}
