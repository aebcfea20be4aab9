package carp

// Reason is why an advert was rejected. It is an error, so Parse, Open and
// Accept return it directly (never wrapped), and its String is the counter
// label, stable across releases.
type Reason uint8

const (
	ReasonShort     Reason = iota + 1 // fewer bytes than an advert
	ReasonLong                        // more bytes than an advert
	ReasonVersion                     // not our version: OpenBSD CARP or VRRP on the same LAN
	ReasonType                        // unknown message type
	ReasonField                       // a field out of range: advbase 0, bad node id, reserved bits set
	ReasonTTL                         // TTL or hop limit not 255: it crossed a router
	ReasonVHID                        // a group this node is not in
	ReasonKeyID                       // a key id this node does not have
	ReasonAuth                        // HMAC mismatch: wrong key, or a tampered field
	ReasonSelf                        // carries this node's own id
	ReasonReplay                      // from an earlier epoch or behind the replay window
	ReasonDuplicate                   // seen already, usually the copy from the second path
	ReasonLate                        // reordered behind a newer advert from the same sender
	numReasons
)

var reasonNames = [numReasons]string{
	ReasonShort:     "short",
	ReasonLong:      "long",
	ReasonVersion:   "version",
	ReasonType:      "type",
	ReasonField:     "field",
	ReasonTTL:       "ttl",
	ReasonVHID:      "vhid",
	ReasonKeyID:     "key_id",
	ReasonAuth:      "auth",
	ReasonSelf:      "self",
	ReasonReplay:    "replay",
	ReasonDuplicate: "duplicate",
	ReasonLate:      "late",
}

// Reasons lists every reason in order, for registering counters.
func Reasons() []Reason {
	out := make([]Reason, 0, numReasons-1)
	for r := ReasonShort; r < numReasons; r++ {
		out = append(out, r)
	}
	return out
}

func (r Reason) String() string {
	if r > 0 && r < numReasons {
		return reasonNames[r]
	}
	return "unknown"
}

func (r Reason) Error() string { return "carp: advert rejected: " + r.String() }

// Loud reports whether a rejection means something is wrong (a key
// mismatch, a forger, a node with our id, a clock or epoch gone backwards)
// and must reach a log line, not just a counter.
func (r Reason) Loud() bool {
	switch r {
	case ReasonTTL, ReasonKeyID, ReasonAuth, ReasonSelf, ReasonReplay:
		return true
	}
	return false
}

// Presence reports whether a rejected advert still shows that a node of
// this group is alive and claims to be master. Such adverts are fed to the
// machine as Unverified, which holds a backup down: a peer we cannot
// authenticate is not an absent peer, and taking over from it is how dual
// masters happen.
func (r Reason) Presence() bool { return r == ReasonAuth || r == ReasonKeyID }

// ReasonOf returns the Reason an error from this package carries, and
// ReasonField for any other non-nil error.
func ReasonOf(err error) Reason {
	if r, ok := err.(Reason); ok {
		return r
	}
	if err == nil {
		return 0
	}
	return ReasonField
}
