package configsync

import (
	"errors"
	"fmt"

	"rampart/config"
)

// NewPush builds the message the master sends after committing cfg as
// store version id. nil sections means every shared section. The hash is
// taken over the document as the peer will parse it, defaults filled in,
// so a config built in Go hashes the same on both sides.
func NewPush(cfg *config.Config, version uint64, sections []string) (Push, error) {
	data, err := config.Marshal(cfg)
	if err != nil {
		return Push{}, fmt.Errorf("configsync: push: %w", err)
	}
	parsed, err := config.Parse("push", data)
	if err != nil {
		return Push{}, fmt.Errorf("configsync: push: %w", err)
	}
	h, err := SharedHash(parsed, sections)
	if err != nil {
		return Push{}, err
	}
	return Push{Node: nodeID(cfg), Version: version, Sections: sections, Hash: h, Config: data}, nil
}

// Receive is the peer's side of a push, without I/O: it parses the
// sender's document strictly, merges the selected shared sections into
// own, validates the result as a file, and checks that the merged shared
// hash equals the pushed one.
//
// It returns the config to apply, or nil when there is nothing to apply:
// either the nodes were already in step (Result.Applied is true and says
// so) or the push is refused (Result.Errors say why). The caller applies
// and stores the config and then sets Applied and Version, or on failure
// reports the error in Message.
func Receive(own *config.Config, m Push) (*config.Config, Result) {
	r := Result{Node: nodeID(own), Changed: []string{}}
	refuse := func(msg string, errs ...string) (*config.Config, Result) {
		r.Message, r.Errors = msg, errs
		return nil, r
	}
	ownHash, err := SharedHash(own, m.Sections)
	if err != nil {
		return refuse("cannot hash this node's config", err.Error())
	}
	r.Hash = ownHash
	if len(m.Config) > config.MaxSize {
		return refuse(fmt.Sprintf("pushed document is over %d bytes", config.MaxSize))
	}
	peer, err := config.Parse("peer "+m.Node, m.Config)
	if err != nil {
		return refuse("the pushed config is not valid", errorLines(err)...)
	}
	if h, err := SharedHash(peer, m.Sections); err != nil || h != m.Hash {
		return refuse("the pushed config does not match its hash; nothing merged")
	}
	merged, rep, err := Merge(own, peer, m.Sections)
	if err != nil {
		return refuse("cannot merge the pushed config", err.Error())
	}
	if len(rep.Changed) == 0 {
		if ownHash != m.Hash {
			return refuse("the merge changed nothing, yet the shared configs differ")
		}
		r.Applied, r.Message = true, "already in step: nothing to merge"
		return nil, r
	}
	r.Changed = rep.Changed
	return validateMerged(merged, m, r)
}

// validateMerged parses the merged config as a document, so it meets
// every rule a file meets, and proves the merge took everything.
func validateMerged(merged *config.Config, m Push, r Result) (*config.Config, Result) {
	data, err := config.Marshal(merged)
	if err == nil {
		merged, err = config.Parse("merged", data)
	}
	if err != nil {
		r.Message, r.Errors = "the merged config is not valid on this node; nothing applied", errorLines(err)
		return nil, r
	}
	h, err := SharedHash(merged, m.Sections)
	if err != nil || h != m.Hash {
		r.Message = "the merge did not take everything (shared hash differs); nothing applied"
		return nil, r
	}
	r.Hash = h
	r.Message = fmt.Sprintf("merged %d change(s)", len(r.Changed))
	return merged, r
}

// errorLines turns config errors into "path: message" lines; positions
// refer to a document the admin never saw.
func errorLines(err error) []string {
	var es config.Errors
	if !errors.As(err, &es) {
		return []string{err.Error()}
	}
	out := make([]string, 0, len(es))
	for _, e := range es {
		if e.Path != "" {
			out = append(out, e.Path+": "+e.Msg)
		} else {
			out = append(out, e.Msg)
		}
	}
	return out
}

func nodeID(c *config.Config) string {
	if c != nil && c.HA != nil {
		return c.HA.NodeID
	}
	return ""
}
