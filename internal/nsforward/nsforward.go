// Package nsforward forwards TCP connections from a listener on the host
// into a network namespace. Each accepted connection is dialled anew from
// inside the namespace, so the far end sees an ordinary connection from
// that namespace: a browser on the host reaches the lab's web UI through
// the client's real management path (`rampart lab demo`, the browser
// tests, bench/ui).
package nsforward

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"rampart/internal/netns"
)

// DialTimeout bounds one dial inside the namespace. A web UI that has
// moved away (a lockout being tested) must fail the browser's request
// soon, not hang it.
const DialTimeout = 5 * time.Second

// Forwarder accepts on the host and dials Target inside NS.
type Forwarder struct {
	ln     net.Listener
	ns     *netns.NS
	target string

	mu     sync.Mutex
	conns  map[net.Conn]bool
	closed bool
	wg     sync.WaitGroup
}

// Start listens on listen (e.g. "127.0.0.1:0") in the caller's namespace
// and forwards every connection to target inside ns.
func Start(listen string, ns *netns.NS, target string) (*Forwarder, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("nsforward: listen: %w", err)
	}
	f := &Forwarder{ln: ln, ns: ns, target: target, conns: map[net.Conn]bool{}}
	f.wg.Add(1)
	go f.accept()
	return f, nil
}

// Addr is the host address to connect to.
func (f *Forwarder) Addr() net.Addr { return f.ln.Addr() }

// Close stops accepting, cuts every forwarded connection and waits for
// the copies to end.
func (f *Forwarder) Close() error {
	f.mu.Lock()
	f.closed = true
	for c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	err := f.ln.Close()
	f.wg.Wait()
	return err
}

func (f *Forwarder) accept() {
	defer f.wg.Done()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return // closed
		}
		if !f.track(c) {
			c.Close()
			return
		}
		f.wg.Add(1)
		go f.forward(c)
	}
}

// track registers c for Close; false once closed.
func (f *Forwarder) track(c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	f.conns[c] = true
	return true
}

func (f *Forwarder) untrack(c net.Conn) {
	f.mu.Lock()
	delete(f.conns, c)
	f.mu.Unlock()
	c.Close()
}

func (f *Forwarder) forward(c net.Conn) {
	defer f.wg.Done()
	defer f.untrack(c)
	var up net.Conn
	err := f.ns.Do(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), DialTimeout)
		defer cancel()
		var err error
		up, err = (&net.Dialer{}).DialContext(ctx, "tcp", f.target)
		return err
	})
	if err != nil {
		return // the client sees its connection closed, as with a refused one
	}
	if !f.track(up) {
		up.Close()
		return
	}
	defer f.untrack(up)
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	<-done
}
