package statesync

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestRequests: requests go over the session beside the stream and come
// back answered, a handler's error comes back as one, a second request
// while one is handled is answered busy, a node without a handler says
// so, and without a session a request fails at once.
func TestRequests(t *testing.T) {
	release, started := make(chan struct{}), make(chan struct{})
	p := newPair(t, pairOptions{onRequest: func(ctx context.Context, kind uint8, body []byte) ([]byte, error) {
		switch string(body) {
		case "fail":
			return nil, errors.New("refused: bad config")
		case "slow":
			close(started)
			<-release
		}
		return append([]byte{kind}, bytes.ToUpper(body)...), nil
	}})
	<-p.rcv.BulkDone()
	eventually(t, "a session", func() bool { return p.snd.Status().PeerConnected })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	got, err := p.snd.Request(ctx, RequestConfig, []byte("push"))
	if err != nil || string(got) != "\x01PUSH" {
		t.Fatalf("request: %q, %v", got, err)
	}
	if _, err := p.snd.Request(ctx, RequestConfig, []byte("fail")); err == nil || !strings.Contains(err.Error(), "refused: bad config") {
		t.Errorf("failing handler: %v", err)
	}

	slow := make(chan error, 1)
	go func() { _, err := p.snd.Request(ctx, RequestConfig, []byte("slow")); slow <- err }()
	<-started
	if _, err := p.snd.Request(ctx, RequestConfig, []byte("again")); err == nil || !strings.Contains(err.Error(), "busy") {
		t.Errorf("request during another: %v, want busy", err)
	}
	close(release)
	if err := <-slow; err != nil {
		t.Errorf("slow request: %v", err)
	}

	// The stream went on meanwhile.
	p.tb.set(tcpFlow(1234, 1))
	eventually(t, "the cache to catch up", p.synced)

	bare := newPair(t, pairOptions{})
	eventually(t, "a session", func() bool { return bare.snd.Status().PeerConnected })
	if _, err := bare.snd.Request(ctx, RequestConfig, []byte("x")); err == nil || !strings.Contains(err.Error(), "takes no requests") {
		t.Errorf("no handler: %v", err)
	}

	idle, err := NewSender(SenderConfig{Peer: "127.0.0.1:1", Snapshot: p.tb.snapshot, Identity: p.snd.cfg.Identity})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := idle.Request(ctx, RequestConfig, nil); !errors.Is(err, ErrNoSession) {
		t.Errorf("no session: %v, want ErrNoSession", err)
	}
}
