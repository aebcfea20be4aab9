package statesync

import (
	"maps"
	"slices"
	"time"
)

// Status is what the UI and the metrics show about state sync on this
// node: the stream it sends (its own table to the peer) and the stream
// it receives (the peer's table into the cache).
type Status struct {
	Source   SourceStatus
	Sender   SenderStatus
	Receiver ReceiverStatus
	// LastPurge is the last AfterMaster's outcome; nil before one.
	LastPurge *PurgeResult
}

// SenderStatus describes the outgoing stream.
type SenderStatus struct {
	// PeerConnected is true from a successful hello to the end of the
	// session.
	PeerConnected bool
	// Connects counts sessions that got past the hello; Reconnects the
	// attempts after a lost or failed one.
	Connects, Reconnects uint64
	// LastAckAge is how long ago the peer last acknowledged a frame;
	// -1 if it never did.
	LastAckAge time.Duration
	// Pending is the number of flows whose change waits to be sent;
	// InFlight the frames sent and not yet acknowledged.
	Pending, InFlight int
	// Lag is from an event's receipt here to the peer's acknowledgement
	// of the frame that carried it, on this node's clock: the last one,
	// the 99th percentile and the maximum over the last LagSamples
	// frames.
	Lag, LagP99, LagMax time.Duration
	LagSamples          int
	// Resyncs counts bulk updates sent, by reason: "connect", "overrun",
	// "decode", "pending_full", "listener".
	Resyncs map[string]uint64
	// Drops counts changes not sent, by reason. They are always followed
	// by a resync, which makes the peer whole again.
	Drops map[string]uint64
	// Coalesced counts changes merged into a queued change of the same
	// flow: not lost, just sent once.
	Coalesced        uint64
	FramesSent       uint64
	EntriesSent      uint64
	AuthFailures     uint64
	VersionRefusals  uint64
	LastError        string
	LastErrorAge     time.Duration
	BulkInProgress   bool
	LastBulkEntries  int
	LastBulkDuration time.Duration
}

// ReceiverStatus describes the incoming stream and the cache.
type ReceiverStatus struct {
	PeerConnected bool
	// LastSyncAge is how long ago the last frame from the peer was
	// applied; -1 if none was.
	LastSyncAge time.Duration
	// PeerLag is the lag the peer's sender last measured and sent.
	PeerLag   time.Duration
	CacheSize int
	// BulkDone is true once a bulk update from the peer was complete
	// (or the wait for it timed out: see Alarm).
	BulkDone       bool
	BulkInProgress bool
	Bulks          uint64
	// Expired counts cache entries that a bulk update did not mention.
	Expired uint64
	// Drops counts peer changes not kept, by reason ("cache_full").
	Drops           map[string]uint64
	FramesApplied   uint64
	EntriesApplied  uint64
	AuthFailures    uint64
	VersionRefusals uint64
	ProtocolErrors  uint64
	LastError       string
	LastErrorAge    time.Duration
	// Alarm is set while a bulk update is stuck: none complete within
	// BulkTimeout of start, or one in progress for longer than that.
	Alarm      string
	LastCommit *CommitResult
}

// SourceStatus describes the conntrack event feed.
type SourceStatus struct {
	Events uint64
	// Filtered counts events of flows that are not synced: the
	// firewall's own, the sync link's and configured ignores.
	Filtered uint64
	// Gaps counts moments events were lost, by reason ("overrun",
	// "decode", "listener"); each triggers a resync.
	Gaps       map[string]uint64
	ReadBuffer int
}

// lagRing keeps the last lag samples for percentiles.
type lagRing struct {
	buf  []time.Duration
	next int
	full bool
	last time.Duration
}

const lagRingSize = 4096

func (r *lagRing) add(d time.Duration) {
	if r.buf == nil {
		r.buf = make([]time.Duration, lagRingSize)
	}
	r.buf[r.next] = d
	r.next = (r.next + 1) % len(r.buf)
	r.full = r.full || r.next == 0
	r.last = d
}

// stats returns the last sample, the 99th percentile, the maximum and
// the number of samples.
func (r *lagRing) stats() (last, p99, maxLag time.Duration, n int) {
	n = r.next
	if r.full {
		n = len(r.buf)
	}
	if n == 0 {
		return 0, 0, 0, 0
	}
	s := slices.Clone(r.buf[:n])
	slices.Sort(s)
	return r.last, s[(n*99+99)/100-1], s[n-1], n
}

// counters is a map of counts by reason that Status hands out as a copy.
type counters map[string]uint64

func (c *counters) inc(reason string) {
	if *c == nil {
		*c = make(counters)
	}
	(*c)[reason]++
}

func (c counters) snapshot() map[string]uint64 { return maps.Clone(c) }

// age is now minus t, or -1 for a zero t.
func age(now, t time.Time) time.Duration {
	if t.IsZero() {
		return -1
	}
	return now.Sub(t)
}
