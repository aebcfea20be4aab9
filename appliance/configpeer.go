package appliance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"rampart/statesync"
	"rampart/webui/configsync"
)

// Config sync to the peer rides on statesync's authenticated link
// (statesync.RequestConfig): the web UI pushes through syncPeer, and a
// push that arrives from the peer is handed to the UI's ReceiveSync
// (uiReceiveSync, webui.go). No second channel, no second credential.

// syncPeer is the other node for config pushes, or nil while state sync
// is off.
func (d *Daemon) syncPeer() configsync.Peer {
	if d.sync.run.Load() == nil {
		return nil
	}
	return &d.sync.peer
}

// linkPeer is configsync.Peer over the sync link. It remembers the hash
// the peer last reported, for the UI's "same config on both nodes".
type linkPeer struct {
	d *Daemon

	mu   sync.Mutex
	node string
	hash string
	seen time.Time
}

// maxConfigAnswer bounds the peer's answer to a push.
const maxConfigAnswer = 64 << 10

func (p *linkPeer) Push(ctx context.Context, m configsync.Push) (configsync.Result, error) {
	n, err := p.d.syncNode()
	if err != nil {
		return configsync.Result{}, err
	}
	body, err := json.Marshal(m)
	if err != nil {
		return configsync.Result{}, fmt.Errorf("appliance: config push: %w", err)
	}
	out, err := n.Request(ctx, statesync.RequestConfig, body)
	if err != nil {
		return configsync.Result{}, fmt.Errorf("appliance: config push: %w", err)
	}
	var res configsync.Result
	if err := decodeStrict(out, maxConfigAnswer, &res); err != nil {
		return configsync.Result{}, fmt.Errorf("appliance: config push: the peer's answer: %w", err)
	}
	p.mu.Lock()
	p.node, p.hash, p.seen = res.Node, res.Hash, p.d.ui.now()
	p.mu.Unlock()
	return res, nil
}

func (p *linkPeer) State() configsync.PeerState {
	st := configsync.PeerState{}
	if n, err := p.d.syncNode(); err == nil {
		st.Connected = n.PeerConnected()
	}
	p.mu.Lock()
	st.Node, st.Hash, st.Seen = p.node, p.hash, p.seen
	p.mu.Unlock()
	return st
}

// syncNode is the running state sync node.
func (d *Daemon) syncNode() (*statesync.Node, error) {
	r := d.sync.run.Load()
	if r == nil {
		return nil, errors.New("appliance: state sync is off")
	}
	n, lastErr := r.current()
	if n == nil {
		return nil, fmt.Errorf("appliance: state sync not running: %s", lastErr)
	}
	return n, nil
}

// onSyncRequest answers the peer's requests over the sync link.
func (d *Daemon) onSyncRequest(ctx context.Context, kind uint8, body []byte) ([]byte, error) {
	switch kind {
	case statesync.RequestConfig:
		var m configsync.Push
		if err := decodeStrict(body, statesync.MaxFrameLen, &m); err != nil {
			return nil, fmt.Errorf("config push: %w", err)
		}
		res := d.uiReceiveSync(ctx, m)
		d.log.Info("config sync: push from the peer", "from", m.Node, "version", m.Version,
			"applied", res.Applied, "changed", res.Changed, "message", res.Message)
		return json.Marshal(res)
	}
	return nil, fmt.Errorf("unknown request kind %d", kind)
}

// decodeStrict decodes one JSON value of at most max bytes into v,
// refusing unknown fields and trailing data: the peer is authenticated,
// yet its messages are input like any other.
func decodeStrict(b []byte, max int, v any) error {
	if len(b) > max {
		return fmt.Errorf("%d bytes, more than %d", len(b), max)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the message")
	}
	return nil
}
