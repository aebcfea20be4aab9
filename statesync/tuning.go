package statesync

import "time"

// Tuning holds the limits and timers of the protocol. Zero fields take
// the defaults below, which are what the daemon uses.
type Tuning struct {
	// FlushDelay is the longest a change waits for company before its
	// frame is sent. The issue asks for 5 ms.
	FlushDelay time.Duration
	// FrameEntries is the most records per frame. A full frame is sent
	// at once, without waiting for FlushDelay.
	FrameEntries int
	// Window is the most frames in flight (sent, not acknowledged).
	// When it is full the sender stops writing and changes coalesce in
	// the pending queue.
	Window int
	// MaxPending is the most flows with a change waiting to be sent. A
	// change for one more flow is dropped and a resync scheduled.
	MaxPending int
	// Keepalive is how often the sender sends at least a ping.
	Keepalive time.Duration
	// PeerTimeout is how long a sender waits for an acknowledgement, and
	// the least a receiver waits for a frame, before giving up on the
	// session.
	PeerTimeout time.Duration
	// Backoff spaces reconnection attempts.
	Backoff Backoff
	// MaxCache is the most flows the receiver keeps. Changes for more
	// are dropped and counted.
	MaxCache int
	// BulkTimeout is how long the receiver waits for a complete bulk
	// update before it raises an alarm and releases the boot hold-down.
	// 60 s is what OpenBSD's pfsync allows (12 tries of 5 s) before it
	// gives up on its bulk update and undemotes CARP.
	BulkTimeout time.Duration
	// CommitBatch is the number of entries per ctnl.Create call of a
	// commit: the commit checks its context between calls.
	CommitBatch int
}

// Defaults for Tuning.
const (
	DefaultFlushDelay   = 5 * time.Millisecond
	DefaultFrameEntries = 1024
	DefaultWindow       = 64
	DefaultMaxPending   = 1 << 18
	DefaultKeepalive    = time.Second
	DefaultPeerTimeout  = 5 * time.Second
	DefaultBackoffMin   = 100 * time.Millisecond
	DefaultBackoffMax   = 5 * time.Second
	DefaultMaxCache     = 1 << 21
	DefaultBulkTimeout  = 60 * time.Second
	DefaultCommitBatch  = 20000
)

// maxRecordLen is the longest record: op, then an IPv6 entry with a
// reply tuple, TCP info, SNAT and DNAT. maxFrameEntries of them fit in
// a frame.
const (
	maxRecordLen    = 1 + 20 + 2*(1+16+16+4) + 5 + 2*(16+2)
	maxFrameEntries = (MaxFrameLen - frameHeaderLen - seqHeaderLen) / maxRecordLen
)

func (t Tuning) withDefaults() Tuning {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	defInt := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&t.FlushDelay, DefaultFlushDelay)
	defInt(&t.FrameEntries, DefaultFrameEntries)
	t.FrameEntries = min(t.FrameEntries, maxFrameEntries)
	defInt(&t.Window, DefaultWindow)
	defInt(&t.MaxPending, DefaultMaxPending)
	def(&t.Keepalive, DefaultKeepalive)
	def(&t.PeerTimeout, DefaultPeerTimeout)
	def(&t.Backoff.Min, DefaultBackoffMin)
	def(&t.Backoff.Max, DefaultBackoffMax)
	defInt(&t.MaxCache, DefaultMaxCache)
	def(&t.BulkTimeout, DefaultBulkTimeout)
	defInt(&t.CommitBatch, DefaultCommitBatch)
	return t
}
