package driver

import "sync/atomic"

// counters are the driver's own; the receiver keeps the rejections.
type counters struct {
	sent, sendErrors          atomic.Uint64
	unverified                atomic.Uint64
	transitions, alarms       atomic.Uint64
	announcements             atomic.Uint64
	announceErrors, vipErrors atomic.Uint64
}

// Counters is a snapshot for metrics.
type Counters struct {
	Sent       uint64 // adverts sent, one per destination
	SendErrors uint64
	Accepted   uint64            // adverts that passed the receiver
	Rejected   map[string]uint64 // by carp.Reason label
	Unverified uint64            // failed authentication from a peer: held a backup down
	// Transitions and Alarms count state changes and alarms of the
	// machines; Announcements the GARP / NA rounds sent.
	Transitions, Alarms           uint64
	Announcements, AnnounceErrors uint64
	VIPErrors                     uint64
	DroppedReports                uint64 // log lines and hook calls lost because the reporter fell behind
}
