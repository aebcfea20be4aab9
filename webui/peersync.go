package webui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"rampart/config"
	"rampart/config/store"
	"rampart/webui/audit"
	"rampart/webui/configsync"
)

// Config sync with the peer (package configsync says how and why). The
// master pushes the shared config after every confirmed change; the
// daemon hands pushes from the peer to ReceiveSync. The UI shows both
// nodes' shared hashes and the last sync.

// defaultPeerTimeout bounds a push, which the confirming request waits
// for so that the admin sees the peer's verdict.
const defaultPeerTimeout = 10 * time.Second

// syncRecord is the last config sync, either way.
type syncRecord struct {
	Time      time.Time `json:"time"`
	Direction string    `json:"direction"` // push or receive
	Peer      string    `json:"peer"`
	OK        bool      `json:"ok"`
	Message   string    `json:"message"`
	Changed   []string  `json:"changed"`
	PeerHash  string    `json:"peer_hash"` // the peer's hash as of this sync
}

// configSyncView answers "do both nodes run the same shared config?".
type configSyncView struct {
	Enabled   bool        `json:"enabled"` // a peer link is configured
	Connected bool        `json:"connected"`
	Hash      string      `json:"hash"`      // this node's shared hash
	PeerHash  string      `json:"peer_hash"` // "" when unknown
	PeerSeen  time.Time   `json:"peer_seen"`
	State     string      `json:"state"` // in_step, differs, unknown
	Last      *syncRecord `json:"last,omitempty"`
}

func (s *Server) configSync() configSyncView {
	v := configSyncView{Enabled: s.opts.Peer != nil, State: "unknown"}
	if cur, _ := s.be.Running(); cur != nil {
		v.Hash = s.hashes.get(cur)
	}
	s.syncMu.Lock()
	if s.lastSync.Time != (time.Time{}) {
		last := s.lastSync
		v.Last = &last
		v.PeerHash, v.PeerSeen = last.PeerHash, last.Time
	}
	s.syncMu.Unlock()
	if s.opts.Peer != nil {
		ps := s.opts.Peer.State()
		v.Connected = ps.Connected
		if ps.Hash != "" && !ps.Seen.Before(v.PeerSeen) {
			v.PeerHash, v.PeerSeen = ps.Hash, ps.Seen
		}
	}
	switch {
	case v.PeerHash == "" || v.Hash == "":
	case v.PeerHash == v.Hash:
		v.State = "in_step"
	default:
		v.State = "differs"
	}
	return v
}

func (s *Server) noteSync(r syncRecord) {
	s.syncMu.Lock()
	s.lastSync = r
	s.syncMu.Unlock()
	s.liveStale()
}

// isMaster reports whether this node is master of any group: the master
// is the node whose config the pair runs.
func (s *Server) isMaster() bool {
	for _, g := range s.be.HA().Groups {
		if g.State == "master" {
			return true
		}
	}
	return false
}

// pushToPeer sends the shared config after a confirmed change, when this
// node has a peer and is master. The result is recorded and audited;
// pushed is false when nothing was sent.
func (s *Server) pushToPeer(ctx context.Context, cfg *config.Config, v store.Version) (rec syncRecord, pushed bool) {
	if s.opts.Peer == nil || cfg.HA == nil || !s.isMaster() {
		return syncRecord{}, false
	}
	rec = syncRecord{Time: s.now(), Direction: "push", Changed: []string{}}
	m, err := configsync.NewPush(cfg, v.ID, nil)
	if err != nil {
		rec.Message = err.Error()
		s.finishPush(rec)
		return rec, true
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.peerTimeout())
	defer cancel()
	res, err := s.opts.Peer.Push(ctx, m)
	rec.Time, rec.Peer, rec.PeerHash = s.now(), res.Node, res.Hash
	switch {
	case err != nil:
		rec.Message = "no answer from the peer: " + err.Error()
	default:
		if res.Changed != nil {
			rec.Changed = res.Changed
		}
		rec.Message = res.Message
		if len(res.Errors) > 0 {
			rec.Message += ": " + strings.Join(res.Errors, "; ")
		}
		if cerr := configsync.CheckResult(m, res); cerr != nil {
			rec.Message = cerr.Error()
			if len(res.Errors) > 0 {
				rec.Message += ": " + strings.Join(res.Errors, "; ")
			}
		} else {
			rec.OK = true
		}
	}
	s.finishPush(rec)
	return rec, true
}

func (s *Server) peerTimeout() time.Duration {
	if s.opts.PeerTimeout > 0 {
		return s.opts.PeerTimeout
	}
	return defaultPeerTimeout
}

func (s *Server) finishPush(rec syncRecord) {
	s.noteSync(rec)
	action := "configsync.push"
	if !rec.OK {
		action = "configsync.push.failed"
		s.log.Warn("webui: config sync to the peer failed", "msg", rec.Message)
	}
	s.recordSystem(action, rec.Message, map[string]string{"peer": rec.Peer, "changed": strings.Join(rec.Changed, ", ")})
}

// ReceiveSync handles a config push from the peer, for the daemon's sync
// link: it merges the shared sections into the running config (never a
// node-local field), validates, applies and stores the result, and says
// what happened. It is refused while a change made here awaits
// confirmation. It never panics on a hostile message.
func (s *Server) ReceiveSync(ctx context.Context, m configsync.Push) configsync.Result {
	s.changeMu.Lock()
	defer s.changeMu.Unlock()
	own, _ := s.be.Running()
	res := s.receive(ctx, own, m)
	rec := syncRecord{Time: s.now(), Direction: "receive", Peer: m.Node, OK: res.Applied, Message: res.Message, Changed: res.Changed, PeerHash: m.Hash}
	s.noteSync(rec)
	action := "configsync.receive"
	if !res.Applied {
		action = "configsync.refused"
	}
	s.recordSystem(action, res.Message, map[string]string{"peer": m.Node, "changed": strings.Join(res.Changed, ", "), "errors": strings.Join(res.Errors, "; ")})
	return res
}

func (s *Server) receive(ctx context.Context, own *config.Config, m configsync.Push) configsync.Result {
	if own == nil {
		return configsync.Result{Message: "no running config here"}
	}
	if p, ok := s.changes.Pending(); ok {
		h, _ := configsync.SharedHash(own, m.Sections)
		return configsync.Result{Node: nodeOf(own), Hash: h, Changed: []string{},
			Message: fmt.Sprintf("a change made here (%s) awaits confirmation; sync again after", p.Summary)}
	}
	merged, res := configsync.Receive(own, m)
	if merged == nil {
		return res
	}
	if err := s.apply(ctx, merged); err != nil {
		res.Message = "the merged config could not be applied here; nothing changed: " + err.Error()
		res.Hash, _ = configsync.SharedHash(own, m.Sections)
		return res
	}
	data, err := config.Marshal(merged)
	var v store.Version
	if err == nil {
		v, err = s.commit(data, store.Meta{Author: "peer:" + clip(m.Node, 64), Source: "configsync",
			Message: fmt.Sprintf("config sync from %s version %d: %s", clip(m.Node, 64), m.Version, clip(strings.Join(res.Changed, ", "), 512))})
	}
	if err != nil {
		s.undo(own)
		res.Message = "the merged config could not be stored here; reverted: " + err.Error()
		res.Hash, _ = configsync.SharedHash(own, m.Sections)
		return res
	}
	res.Applied, res.Version = true, v.ID
	return res
}

func nodeOf(c *config.Config) string {
	if c.HA != nil {
		return c.HA.NodeID
	}
	return ""
}

// recordSystem audits what the box did by itself (timer, peer).
func (s *Server) recordSystem(action, summary string, detail map[string]string) {
	for k, v := range detail {
		if v == "" {
			delete(detail, k)
		}
	}
	e := audit.Entry{Time: s.now(), Actor: "system", Peer: "-", Action: action, Summary: clip(summary, 2000), Detail: detail}
	if err := s.opts.Audit.Record(e); err != nil {
		s.log.Error("webui: audit log write failed", "action", action, "err", err)
	}
}
