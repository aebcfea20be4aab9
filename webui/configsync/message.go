package configsync

import (
	"context"
	"fmt"
	"time"
)

// Push is what the master sends after a commit. It carries its whole
// config document so the peer can parse and validate it exactly as a file;
// the peer takes only the shared sections named.
type Push struct {
	Node     string   `json:"node"`               // sender's ha.node_id
	Version  uint64   `json:"version"`            // sender's store version id
	Sections []string `json:"sections,omitempty"` // nil: every shared section
	Hash     string   `json:"hash"`               // SharedHash of Config over Sections
	Config   []byte   `json:"config"`             // the sender's document (config.Marshal)
}

// Result is the peer's verdict on a Push.
type Result struct {
	Node string `json:"node"` // the peer's ha.node_id
	// Applied: the merged config is in force and stored, or nothing
	// needed to change (Changed is empty).
	Applied bool `json:"applied"`
	// Changed lists what the merge took, by path; empty means the peer was
	// already in step, which is said rather than passed off as a merge.
	Changed []string `json:"changed"`
	// Hash is the peer's SharedHash after the sync (before it, on failure).
	Hash    string `json:"hash"`
	Version uint64 `json:"version,omitempty"` // the peer's stored version
	// Errors are the reasons for a refusal, validation errors with paths.
	Errors  []string `json:"errors,omitempty"`
	Message string   `json:"message"`
}

// PeerState is what the transport last heard about the peer.
type PeerState struct {
	Connected bool
	Node      string
	Hash      string    // the peer's shared hash, "" if unknown
	Seen      time.Time // when Hash was heard
}

// Peer is the other node over the authenticated sync link (statesync
// implements it). Push sends and waits for the verdict; an error means no
// verdict arrived (link down, timeout), not a refusal.
type Peer interface {
	Push(ctx context.Context, m Push) (Result, error)
	State() PeerState
}

// CheckResult judges a peer's answer to sent: it must be applied and the
// peer's hash must now equal ours, whatever it says otherwise. A peer that
// reports success with a different hash merged less than it claims.
func CheckResult(sent Push, r Result) error {
	switch {
	case !r.Applied:
		return fmt.Errorf("configsync: peer %s refused: %s", r.Node, r.Message)
	case r.Hash != sent.Hash:
		return fmt.Errorf("configsync: peer %s reports success but its shared config hash is %.12s, ours %.12s", r.Node, r.Hash, sent.Hash)
	}
	return nil
}
