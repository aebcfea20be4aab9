package statesync

import (
	"bufio"
	"crypto/tls"
	"net"
	"sync"
	"testing"
	"time"
)

// proxy forwards TCP connections to a target, and can cut them or hold
// their bytes.
type proxy struct {
	t      testing.TB
	ln     net.Listener
	target string
	gate   sync.RWMutex // held for writing while paused
	mu     sync.Mutex
	conns  []net.Conn
	paused bool
	wg     sync.WaitGroup
}

func newProxy(t testing.TB, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{t: t, ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.resume()
		p.cut()
		p.wg.Wait()
	})
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, up)
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(up, c)
		go p.pipe(c, up)
	}
}

func (p *proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.gate.RLock()
			_, werr := dst.Write(buf[:n])
			p.gate.RUnlock()
			if werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// cut closes every connection through the proxy: both ends see the
// stream end mid-way, as when a cable is pulled and a reset follows.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		c.Close()
	}
	p.conns = nil
}

func (p *proxy) pause() {
	p.gate.Lock()
	p.mu.Lock()
	p.paused = true
	p.mu.Unlock()
}

// resume lets bytes through again; it does nothing if not paused.
func (p *proxy) resume() {
	p.mu.Lock()
	was := p.paused
	p.paused = false
	p.mu.Unlock()
	if was {
		p.gate.Unlock()
	}
}

// rawClient is a hand-driven sender for protocol tests: TLS and hello,
// then whatever frames the test writes.
type rawClient struct {
	c *tls.Conn
	r *bufio.Reader
}

func dialRaw(t *testing.T, addr string, id Identity, instance uint64) *rawClient {
	t.Helper()
	cfg, err := id.tlsConfig(false)
	if err != nil {
		t.Fatal(err)
	}
	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	rc := &rawClient{c: c, r: bufio.NewReader(c)}
	if _, err := clientHello(c, rc.r, versions{}.orDefault(), Hello{Instance: instance, Keepalive: time.Second}); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Time{})
	return rc
}

func (rc *rawClient) send(t *testing.T, f Frame) {
	t.Helper()
	if _, err := writeFrame(rc.c, nil, &f, 10*time.Second); err != nil {
		t.Fatal(err)
	}
}

// next reads the next frame that is not an ack.
func (rc *rawClient) next(t *testing.T) (Frame, error) {
	t.Helper()
	_ = rc.c.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		f, _, err := ReadFrame(rc.r, nil, nil)
		if err != nil || f.Type != TypeAck {
			return f, err
		}
	}
}
