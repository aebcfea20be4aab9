package lab

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"rampart/internal/netns"
)

// Stream sends one UDP probe per interval from the client to the server,
// through the LAN VIP (the client's gateway) and back through the WAN VIP
// (the server's route to the LAN); the lab's UDP server echoes each. The
// gap is the longest time between two replies.
type Stream struct {
	conn     net.Conn
	interval time.Duration
	stopc    chan struct{}
	wg       sync.WaitGroup

	mu   sync.Mutex
	sent uint64
	got  map[uint64]bool
	last time.Time
	gap  time.Duration
}

// StreamResult sums a stream up; Gap is the longest time between two
// replies, the failover gap.
type StreamResult struct {
	Sent, Received, Lost uint64
	Gap                  time.Duration
}

// StartStream starts a probe stream from ns to dst, a lab UDP server
// (ServeUDP), which echoes each probe.
func StartStream(ns *netns.NS, dst netip.AddrPort, interval time.Duration) (*Stream, error) {
	s := &Stream{interval: interval, stopc: make(chan struct{}), got: map[uint64]bool{}}
	if err := ns.Do(func() error {
		var err error
		s.conn, err = net.Dial("udp", dst.String())
		return err
	}); err != nil {
		return nil, fmt.Errorf("lab: stream to %s: %w", dst, err)
	}
	s.wg.Add(2)
	go s.send()
	go s.receive()
	return s, nil
}

func (s *Stream) send() {
	defer s.wg.Done()
	tick := time.NewTicker(s.interval)
	defer tick.Stop()
	var b [8]byte
	for seq := uint64(1); ; seq++ {
		binary.BigEndian.PutUint64(b[:], seq)
		_, _ = s.conn.Write(b[:])
		s.mu.Lock()
		s.sent = seq
		s.mu.Unlock()
		select {
		case <-s.stopc:
			return
		case <-tick.C:
		}
	}
}

func (s *Stream) receive() {
	defer s.wg.Done()
	buf := make([]byte, 512)
	for {
		n, err := s.conn.Read(buf)
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			return
		case err != nil:
			select {
			case <-s.stopc:
				return
			default:
				continue // an ICMP error while nobody holds the VIP
			}
		}
		// The reply is the server's peer line, then our 8 bytes.
		_, rest, ok := strings.Cut(string(buf[:n]), "\n")
		if !ok || len(rest) != 8 {
			continue
		}
		seq := binary.BigEndian.Uint64([]byte(rest))
		now := time.Now()
		s.mu.Lock()
		if !s.got[seq] {
			s.got[seq] = true
			if !s.last.IsZero() && now.Sub(s.last) > s.gap {
				s.gap = now.Sub(s.last)
			}
			s.last = now
		}
		s.mu.Unlock()
	}
}

// Received is how many probes have been answered so far.
func (s *Stream) Received() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got)
}

// Stop ends the stream, waits briefly for late replies and sums it up.
func (s *Stream) Stop() StreamResult {
	close(s.stopc)
	_ = s.conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	s.wg.Wait()
	s.conn.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	r := StreamResult{Sent: s.sent, Received: uint64(len(s.got)), Gap: s.gap}
	r.Lost = r.Sent - r.Received
	return r
}
