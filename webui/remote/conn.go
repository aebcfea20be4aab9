// Package remote carries calls between the firewall daemon and its web UI
// process over one stream, a unix socketpair. The UI runs in a process of
// its own so that its TLS handshakes and page renders never compete with
// carp's advert loop for the daemon's Go scheduler (docs/webui.md).
//
// The wire format is a length-prefixed JSON frame per message (conn.go).
// Either side may call the other at any time: a frame with a Method is a
// call, a frame with Reply set answers the call of the same ID, and a
// call with ID 0 is a notification, never answered. Errors cross as
// their text plus what this package can rebuild on the far side: config
// validation errors with their key paths and the sentinels in
// errors.go, so errors.As and errors.Is work as if the call were local.
//
// Adding a method is one Handle on the serving side and one Call on the
// calling side; backend.go does so for every webui.Backend method.
package remote

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

const (
	// maxFrame bounds one message. The largest is a config document or a
	// page of conntrack entries, well under a megabyte.
	maxFrame = 16 << 20
	// maxServing bounds the calls one side serves at once. Past it a call
	// is refused rather than queued: the reader must never wait for a
	// handler, which may itself wait for a reply only the reader delivers.
	maxServing = 1024
	// frameWriteTimeout bounds writing one frame; a peer that reads
	// nothing for that long is wedged, and the connection is closed.
	frameWriteTimeout = 10 * time.Second
	// DefaultTimeout bounds a call whose context has no deadline, so a
	// wedged peer cannot hold a request forever.
	DefaultTimeout = 30 * time.Second
)

// ErrClosed is returned by calls on a connection that has ended.
var ErrClosed = errors.New("remote: connection closed")

// frame is one message on the wire.
type frame struct {
	ID     uint64 `json:"id,omitempty"`
	Method string `json:"method,omitempty"` // a call
	Reply  bool   `json:"reply,omitempty"`  // an answer to call ID
	// Timeout is the time the caller has left, so the callee's context
	// ends when the caller stops waiting. 0: none given.
	Timeout time.Duration   `json:"timeout,omitempty"`
	Body    json.RawMessage `json:"body,omitempty"`
	Err     *wireError      `json:"err,omitempty"`
}

// Handler serves one method: body is the caller's request as JSON, and
// the result is encoded as the reply.
type Handler func(ctx context.Context, body json.RawMessage) (any, error)

// Mux names the methods one side serves. Fill it before NewConn.
type Mux map[string]Handler

// Handle registers f as method, with typed request and reply.
func Handle[Req, Resp any](m Mux, method string, f func(context.Context, Req) (Resp, error)) {
	m[method] = func(ctx context.Context, body json.RawMessage) (any, error) {
		var req Req
		if len(body) > 0 {
			if err := json.Unmarshal(body, &req); err != nil {
				return nil, fmt.Errorf("remote: %s: decode request: %w", method, err)
			}
		}
		return f(ctx, req)
	}
}

// Conn is one end of the stream: it sends calls, serves the other side's
// calls from its Mux, and delivers replies.
type Conn struct {
	nc      net.Conn
	mux     Mux
	serving chan struct{} // semaphore of maxServing
	done    chan struct{} // closed when the connection ended
	ctx     context.Context
	cancel  context.CancelFunc

	wmu sync.Mutex // one frame at a time on the wire

	mu      sync.Mutex
	nextID  uint64
	waiting map[uint64]chan frame
	err     error // why it ended
}

// NewConn starts serving nc with mux, which must not change afterwards.
// The connection lives until Close or until the stream fails.
func NewConn(nc net.Conn, mux Mux) *Conn {
	ctx, cancel := context.WithCancel(context.Background())
	c := &Conn{
		nc: nc, mux: mux, serving: make(chan struct{}, maxServing), done: make(chan struct{}),
		ctx: ctx, cancel: cancel, waiting: map[uint64]chan frame{},
	}
	go c.read()
	return c
}

// Done is closed when the connection has ended; Err then says why.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err is why the connection ended, or nil while it is up.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close ends the connection; calls waiting for a reply return ErrClosed.
func (c *Conn) Close() error {
	c.fail(ErrClosed)
	<-c.done
	return nil
}

// fail closes the stream once, with why as the reason.
func (c *Conn) fail(why error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = why
		c.cancel()
		c.nc.Close()
	}
	c.mu.Unlock()
}

// read delivers replies and serves calls until the stream ends.
func (c *Conn) read() {
	defer close(c.done)
	r := bufio.NewReader(c.nc)
	for {
		f, err := readFrame(r)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
				err = ErrClosed
			}
			c.fail(err)
			return
		}
		if f.Reply {
			c.deliver(f)
			continue
		}
		select {
		case c.serving <- struct{}{}:
			go c.serve(f)
		default:
			if f.ID != 0 {
				go c.reply(f.ID, nil, fmt.Errorf("remote: %s: %d calls in flight; try again", f.Method, maxServing))
			}
		}
	}
}

func (c *Conn) deliver(f frame) {
	c.mu.Lock()
	ch := c.waiting[f.ID]
	delete(c.waiting, f.ID)
	c.mu.Unlock()
	if ch != nil {
		ch <- f // buffered; the caller may have given up
	}
}

// serve runs one call's handler and answers it (unless a notification).
func (c *Conn) serve(f frame) {
	defer func() { <-c.serving }()
	h := c.mux[f.Method]
	if h == nil {
		if f.ID != 0 {
			c.reply(f.ID, nil, fmt.Errorf("remote: unknown method %q", f.Method))
		}
		return
	}
	ctx, cancel := c.ctx, context.CancelFunc(func() {})
	if f.Timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, f.Timeout)
	}
	res, err := protect(ctx, f.Method, h, f.Body)
	cancel()
	if f.ID != 0 {
		c.reply(f.ID, res, err)
	}
}

// protect runs h, turning a panic into an error: a bug behind one call
// must not take down the daemon, as it did not when the UI's handlers
// ran in it behind the web server's recovery.
func protect(ctx context.Context, method string, h Handler, body json.RawMessage) (res any, err error) {
	defer func() {
		if p := recover(); p != nil {
			res, err = nil, fmt.Errorf("remote: %s: panic: %v", method, p)
		}
	}()
	return h(ctx, body)
}

func (c *Conn) reply(id uint64, res any, err error) {
	f := frame{ID: id, Reply: true}
	if err != nil {
		f.Err = encodeError(err)
	} else if body, merr := json.Marshal(res); merr != nil {
		f.Err = encodeError(fmt.Errorf("remote: encode reply: %w", merr))
	} else {
		f.Body = body
	}
	c.write(f)
}

// write sends one frame; a failed write ends the connection.
func (c *Conn) write(f frame) error {
	b, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("remote: encode: %w", err)
	}
	if len(b) > maxFrame {
		return fmt.Errorf("remote: %s: message of %d bytes exceeds %d", f.Method, len(b), maxFrame)
	}
	buf := make([]byte, 4, 4+len(b))
	binary.BigEndian.PutUint32(buf, uint32(len(b)))
	buf = append(buf, b...)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.nc.SetWriteDeadline(time.Now().Add(frameWriteTimeout))
	if _, err := c.nc.Write(buf); err != nil {
		c.fail(fmt.Errorf("remote: write: %w", err))
		return ErrClosed
	}
	return nil
}

func readFrame(r *bufio.Reader) (frame, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return frame{}, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > maxFrame {
		return frame{}, fmt.Errorf("remote: read: frame of %d bytes exceeds %d", n, maxFrame)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return frame{}, fmt.Errorf("remote: read: %w", err)
	}
	var f frame
	if err := json.Unmarshal(b, &f); err != nil {
		return frame{}, fmt.Errorf("remote: read: %w", err)
	}
	return f, nil
}

// Call calls method on the other side and waits for its reply, until ctx
// ends or, without a deadline, for DefaultTimeout.
func Call[Req, Resp any](ctx context.Context, c *Conn, method string, req Req) (Resp, error) {
	var resp Resp
	body, err := json.Marshal(req)
	if err != nil {
		return resp, fmt.Errorf("remote: %s: encode request: %w", method, err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	f, err := c.roundTrip(ctx, frame{Method: method, Body: body})
	if err != nil {
		return resp, fmt.Errorf("remote: %s: %w", method, err)
	}
	if f.Err != nil {
		return resp, f.Err.decode()
	}
	if err := json.Unmarshal(f.Body, &resp); err != nil {
		return resp, fmt.Errorf("remote: %s: decode reply: %w", method, err)
	}
	return resp, nil
}

// Notify sends method without waiting for, or getting, an answer.
func Notify[Req any](c *Conn, method string, req Req) error {
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("remote: %s: encode: %w", method, err)
	}
	select {
	case <-c.done:
		return ErrClosed
	default:
	}
	return c.write(frame{Method: method, Body: body})
}

func (c *Conn) roundTrip(ctx context.Context, f frame) (frame, error) {
	if dl, ok := ctx.Deadline(); ok {
		f.Timeout = max(time.Until(dl), time.Millisecond)
	}
	ch := make(chan frame, 1)
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return frame{}, ErrClosed
	}
	c.nextID++
	f.ID = c.nextID
	c.waiting[f.ID] = ch
	c.mu.Unlock()
	forget := func() {
		c.mu.Lock()
		delete(c.waiting, f.ID)
		c.mu.Unlock()
	}
	if err := c.write(f); err != nil {
		forget()
		return frame{}, err
	}
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		forget()
		return frame{}, ctx.Err()
	case <-c.done:
		forget()
		return frame{}, ErrClosed
	}
}
