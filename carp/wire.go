package carp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
)

// Wire constants. The layout is described field by field in the package
// comment and in docs/protocol.md.
const (
	// Proto is the IP protocol number, shared with CARP and VRRP (IANA).
	Proto = 112

	// TTL is the only TTL (IPv4) or hop limit (IPv6) an advert is sent with
	// and accepted with, as in RFC 5798 §5.1.1.3: a router would have
	// decremented it, so 255 proves the sender is on the link.
	TTL = 255

	// Version is ours alone: OpenBSD CARP is 2, VRRP is 2 and 3. On a
	// shared LAN each side counts the other's packets as a bad version
	// instead of misreading them.
	Version = 7

	// Len is the size of an advert, MAC included.
	Len = signedLen + MACLen

	// MACLen is the full HMAC-SHA256 output. Truncation would save 16
	// bytes on a packet sent a few dozen times a second; not worth a
	// security argument.
	MACLen = sha256.Size

	// DigestLen is the size of the VIP digest.
	DigestLen = 16

	// MaxAdvBase is the largest advbase the 16-bit millisecond field holds.
	MaxAdvBase = 65535
)

// Field offsets.
const (
	offVerType  = 0
	offVHID     = 1
	offAdvSkew  = 2
	offDemote   = 3
	offAdvBase  = 4
	offKeyID    = 6
	offReserved = 7
	offNode     = 8
	offEpoch    = offNode + NodeIDLen
	offSeq      = offEpoch + 8
	offDigest   = offSeq + 8
	signedLen   = offDigest + DigestLen
	offMAC      = signedLen
)

// Type is the message type in the low nibble of the first byte.
type Type uint8

const (
	// TypeAdvert is the periodic announcement of a master.
	TypeAdvert Type = 1
	// TypeBowOut is sent once by a master that is leaving (shutdown or
	// maintenance), so a backup takes over at once instead of waiting out
	// the master down interval. It plays the part of VRRP's priority 0.
	TypeBowOut Type = 2
	// TypeStepDown is sent once by a master that steps down because it
	// heard a better one. The better master may never have heard the loser
	// (its own advert got there first), yet after a healed split brain it
	// must re-announce the VIPs the loser was answering for: this tells it
	// to. Backups only forget the sender; they do not hurry as on a bow-out.
	TypeStepDown Type = 3
)

func (t Type) String() string {
	switch t {
	case TypeAdvert:
		return "advert"
	case TypeBowOut:
		return "bow-out"
	case TypeStepDown:
		return "step-down"
	}
	return "unknown"
}

// Digest is a hash of a group's VIPs (see VIPDigest). Nodes compare it to
// notice that they were configured with different VIPs.
type Digest [DigestLen]byte

// Key is an HMAC-SHA256 key for one group (see DeriveKey).
type Key [32]byte

// Advert is one decoded message. Every field is covered by the MAC.
type Advert struct {
	Type      Type
	VHID      uint8
	AdvSkew   uint8
	Demote    uint8
	AdvBaseMS uint16 // advertisement interval in milliseconds, 1-65535
	KeyID     uint8
	Node      NodeID // sender
	Epoch     uint64 // sender's per-boot number, strictly increasing across boots
	Seq       uint64 // per-epoch counter, incremented for every advert sent
	Digest    Digest
}

// Append appends a to dst with its MAC under key. It writes the fields as
// given; validity is Parse's business.
func (a Advert) Append(dst []byte, key *Key) []byte {
	var b [Len]byte
	b[offVerType] = Version<<4 | byte(a.Type)&0x0f
	b[offVHID] = a.VHID
	b[offAdvSkew] = a.AdvSkew
	b[offDemote] = a.Demote
	binary.BigEndian.PutUint16(b[offAdvBase:], a.AdvBaseMS)
	b[offKeyID] = a.KeyID
	copy(b[offNode:], a.Node[:])
	binary.BigEndian.PutUint64(b[offEpoch:], a.Epoch)
	binary.BigEndian.PutUint64(b[offSeq:], a.Seq)
	copy(b[offDigest:], a.Digest[:])
	mac(b[offMAC:offMAC], b[:signedLen], key)
	return append(dst, b[:]...)
}

// Marshal returns a as a new packet with its MAC under key.
func (a Advert) Marshal(key *Key) []byte { return a.Append(make([]byte, 0, Len), key) }

// Parse decodes an advert without authenticating it: use Open, or Verify
// with the key for the advert's VHID and KeyID, before trusting any field.
// A non-nil error is always a Reason.
func Parse(b []byte) (Advert, error) {
	var a Advert
	switch {
	case len(b) < Len:
		return a, ReasonShort
	case len(b) > Len:
		return a, ReasonLong
	case b[offVerType]>>4 != Version:
		return a, ReasonVersion
	}
	a.Type = Type(b[offVerType] & 0x0f)
	if a.Type < TypeAdvert || a.Type > TypeStepDown {
		return Advert{}, ReasonType
	}
	a.VHID = b[offVHID]
	a.AdvSkew = b[offAdvSkew]
	a.Demote = b[offDemote]
	a.AdvBaseMS = binary.BigEndian.Uint16(b[offAdvBase:])
	a.KeyID = b[offKeyID]
	copy(a.Node[:], b[offNode:])
	a.Epoch = binary.BigEndian.Uint64(b[offEpoch:])
	a.Seq = binary.BigEndian.Uint64(b[offSeq:])
	copy(a.Digest[:], b[offDigest:])
	if a.VHID == 0 || a.AdvBaseMS == 0 || b[offReserved] != 0 || !a.Node.canonical() {
		return Advert{}, ReasonField
	}
	return a, nil
}

// Verify reports whether b carries a valid MAC under key. It compares in
// constant time. b must be Len bytes (Parse checks that).
func Verify(b []byte, key *Key) bool {
	if len(b) != Len {
		return false
	}
	var sum [MACLen]byte
	return hmac.Equal(mac(sum[:0], b[:signedLen], key), b[offMAC:])
}

func mac(dst, signed []byte, key *Key) []byte {
	h := hmac.New(sha256.New, key[:])
	h.Write(signed)
	return h.Sum(dst)
}
