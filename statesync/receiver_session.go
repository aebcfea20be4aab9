package statesync

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// protocolError is a frame that breaks the protocol: the session ends
// and the sender is told why.
type protocolError struct{ msg string }

func (e *protocolError) Error() string { return "protocol error: " + e.msg }

func protoErrorf(format string, args ...any) error {
	return &protocolError{msg: fmt.Sprintf(format, args...)}
}

// session is the state of one served session.
type session struct {
	r      *Receiver
	c      net.Conn
	hello  Hello
	last   uint64 // last sequence number applied
	inBulk bool
	wbuf   []byte

	wmu  sync.Mutex  // acks and answers to requests
	rbuf []byte      // answers' buffer, under wmu
	busy atomic.Bool // a request is being handled
}

// serve reads, applies and acknowledges frames until the session fails.
func (r *Receiver) serve(c net.Conn, br *bufio.Reader, hello Hello) error {
	s := &session{r: r, c: c, hello: hello}
	defer s.abortBulk()
	// Three keepalives of the sender's, within sane bounds.
	pt := r.cfg.Tuning.PeerTimeout
	timeout := min(max(pt, 3*hello.Keepalive), 10*pt)
	var buf []byte
	var recs []Record
	unacked := 0
	for {
		if err := c.SetReadDeadline(time.Now().Add(timeout)); err != nil {
			return err
		}
		f, b, err := ReadFrame(br, buf, recs[:0])
		buf = b
		var fe *FrameError
		if errors.As(err, &fe) {
			err = protoErrorf("%v", err)
		}
		if err == nil && f.Type == TypeRequest {
			s.request(&f)
			continue
		}
		if err == nil {
			err = s.apply(&f)
		}
		if err != nil {
			var pe *protocolError
			if errors.As(err, &pe) {
				s.wmu.Lock()
				_, _ = writeFrame(c, s.wbuf, &Frame{Type: TypeRefuse, Code: RefuseProtocol, Reason: pe.Error()}, time.Second)
				s.wmu.Unlock()
			}
			return err
		}
		recs = f.Records
		unacked++
		if br.Buffered() == 0 || unacked >= ackEvery {
			s.wmu.Lock()
			s.wbuf, err = writeFrame(c, s.wbuf, &Frame{Type: TypeAck, Seq: s.last}, timeout)
			s.wmu.Unlock()
			if err != nil {
				return fmt.Errorf("send ack: %w", err)
			}
			unacked = 0
		}
	}
}

// apply checks a frame's place in the stream and applies it.
func (s *session) apply(f *Frame) error {
	r := s.r
	if !f.Type.sequenced() {
		return protoErrorf("unexpected %v frame", f.Type)
	}
	if err := s.checkSeq(f.Seq); err != nil {
		return err
	}
	switch f.Type {
	case TypeBulkBegin:
		r.cache.BeginBulk()
		s.inBulk = true
		r.armWatchdog(fmt.Sprintf("bulk update from the peer in progress for more than %v", r.cfg.Tuning.BulkTimeout))
	case TypeEntries:
		r.cache.Apply(f.Records)
	case TypeBulkEnd:
		if !s.inBulk {
			return protoErrorf("bulk end without a bulk begin")
		}
		s.inBulk = false
		applied, expired := r.cache.EndBulk()
		if applied != int(f.Count) {
			return protoErrorf("bulk update of %d entries brought %d", f.Count, applied)
		}
		r.bulkComplete(applied, expired)
	}
	now := r.cfg.Clock.Now()
	r.mu.Lock()
	r.st.lastFrame = now
	r.st.peerLag = f.Lag
	r.st.frames++
	r.st.entries += uint64(len(f.Records))
	r.st.lastInstance, r.st.lastSeq = s.hello.Instance, f.Seq
	r.mu.Unlock()
	if r.onApply != nil {
		r.onApply(f)
	}
	return nil
}

// checkSeq enforces the order of the stream: +1 within a session, and a
// session of the same sender instance goes on past the last frame
// applied, never back.
func (s *session) checkSeq(seq uint64) error {
	if s.last != 0 {
		if seq != s.last+1 {
			return protoErrorf("frame %d after frame %d", seq, s.last)
		}
		s.last = seq
		return nil
	}
	r := s.r
	r.mu.Lock()
	inst, last := r.st.lastInstance, r.st.lastSeq
	r.mu.Unlock()
	if inst == s.hello.Instance && seq <= last {
		return protoErrorf("frame %d from a sender that already sent frame %d", seq, last)
	}
	if seq == 0 {
		return protoErrorf("frame 0")
	}
	s.last = seq
	return nil
}

// abortBulk abandons a bulk update the session did not finish.
func (s *session) abortBulk() {
	if s.inBulk {
		s.r.cache.AbortBulk()
		s.inBulk = false
	}
}
