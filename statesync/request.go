package statesync

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Requests ride the sync link beside the conntrack stream: the sender of
// a session asks, the peer's receiver answers. The link is already
// authenticated and encrypted both ways, so whatever else the two nodes
// must tell each other (the shared config, first of all) needs no
// channel and no credentials of its own.

// Request kinds.
const (
	// RequestConfig carries a config push (webui/configsync's Push as
	// JSON); the answer is its Result.
	RequestConfig uint8 = 1
)

// RequestHandler answers a request from the peer. An error goes back as
// a failed response with its text.
type RequestHandler func(ctx context.Context, kind uint8, body []byte) ([]byte, error)

// ErrNoSession is a request made while no session to the peer is up.
var ErrNoSession = errors.New("statesync: no session to the peer")

// requestTimeout bounds a handler on the receiving side.
const requestTimeout = 60 * time.Second

// outRequest is a request waiting to be written or answered.
type outRequest struct {
	id   uint64
	kind uint8
	body []byte
	done chan inResponse // buffered: the reader never blocks on it
}

type inResponse struct {
	body []byte
	err  error
}

// Request sends a request to the peer over the current session and waits
// for its answer or for ctx. A session that ends first fails it with
// ErrNoSession.
func (s *Sender) Request(ctx context.Context, kind uint8, body []byte) ([]byte, error) {
	if len(body) > MaxFrameLen-frameHeaderLen-9 {
		return nil, fmt.Errorf("statesync: request of %d bytes: too long", len(body))
	}
	r := &outRequest{kind: kind, body: body, done: make(chan inResponse, 1)}
	s.mu.Lock()
	if !s.accepting {
		s.mu.Unlock()
		return nil, ErrNoSession
	}
	s.reqID++
	r.id = s.reqID
	s.reqQueue = append(s.reqQueue, r)
	if s.waiting == nil {
		s.waiting = map[uint64]*outRequest{}
	}
	s.waiting[r.id] = r
	s.mu.Unlock()
	signal(s.wake)
	select {
	case res := <-r.done:
		return res.body, res.err
	case <-ctx.Done():
		s.mu.Lock()
		delete(s.waiting, r.id)
		s.mu.Unlock()
		return nil, fmt.Errorf("statesync: request: %w", ctx.Err())
	}
}

// takeRequests returns the requests to write and empties the queue.
func (s *Sender) takeRequests() []*outRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.reqQueue
	s.reqQueue = nil
	return q
}

// answer hands a response to its request; one for a request that gave
// up or that this session never sent is dropped.
func (s *Sender) answer(f *Frame) {
	s.mu.Lock()
	r := s.waiting[f.ID]
	delete(s.waiting, f.ID)
	s.mu.Unlock()
	if r == nil {
		return
	}
	res := inResponse{body: f.Body}
	if f.Failed {
		res = inResponse{err: fmt.Errorf("statesync: peer: %s", f.Body)}
	}
	r.done <- res
}

// failRequestsLocked ends every request of a session that ended.
func (s *Sender) failRequestsLocked() {
	for id, r := range s.waiting {
		r.done <- inResponse{err: ErrNoSession}
		delete(s.waiting, id)
	}
	s.reqQueue = nil
}

// writeRequests writes the queued requests; they are unsequenced and
// take no room in the window.
func (w *writer) writeRequests() error {
	for _, r := range w.s.takeRequests() {
		f := Frame{Type: TypeRequest, ID: r.id, Kind: r.kind, Body: r.body}
		var err error
		if w.buf, err = writeFrame(w.c, w.buf, &f, w.s.cfg.Tuning.PeerTimeout); err != nil {
			return fmt.Errorf("send request to %s: %w", w.s.cfg.Peer, err)
		}
		w.lastWrite = w.s.cfg.Clock.Now()
	}
	return nil
}

// request runs the handler for a request of the peer in a goroutine of
// its own, so that the stream goes on meanwhile, and writes the answer.
// One request at a time: another that comes meanwhile is answered busy.
func (s *session) request(f *Frame) {
	fail := func(msg string) { s.respond(&Frame{Type: TypeResponse, ID: f.ID, Failed: true, Body: []byte(msg)}) }
	h := s.r.cfg.OnRequest
	if h == nil {
		fail("this node takes no requests")
		return
	}
	if !s.busy.CompareAndSwap(false, true) {
		fail("busy with another request")
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
		body, err := h(ctx, f.Kind, f.Body)
		cancel()
		// Free before the answer goes out: the peer may ask again as soon
		// as it has it.
		s.busy.Store(false)
		if err != nil {
			fail(err.Error())
			return
		}
		s.respond(&Frame{Type: TypeResponse, ID: f.ID, Body: body})
	}()
}

// respond writes a response; the session's writes are serialised.
func (s *session) respond(f *Frame) {
	if len(f.Body) > MaxFrameLen-frameHeaderLen-9 {
		f.Failed, f.Body = true, []byte("answer too long")
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	var err error
	if s.rbuf, err = writeFrame(s.c, s.rbuf, f, s.r.cfg.Tuning.PeerTimeout); err != nil {
		s.r.cfg.Logger.Warn("state sync: answer to the peer's request not sent", "err", err)
	}
}
