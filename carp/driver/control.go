package driver

import (
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// control carries requests from other goroutines into the run loop: a
// queue of functions and an eventfd that the loop polls with its
// sockets, so a request wakes it like a packet does.
type control struct {
	fd     int
	mu     sync.Mutex
	q      []func(now time.Time)
	closed bool // after close, posts are dropped: the fd number may be reused
}

func newControl() (*control, error) {
	fd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("carp driver: eventfd: %w", err)
	}
	return &control{fd: fd}, nil
}

// post queues f to run on the loop's thread with the loop's clock. It
// reports false once the loop has closed.
func (c *control) post(f func(now time.Time)) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.q = append(c.q, f)
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	_, _ = unix.Write(c.fd, one[:]) // EAGAIN: the counter is already non-zero, the loop wakes anyway
	return true
}

// take returns what was posted and resets the eventfd.
func (c *control) take() []func(now time.Time) {
	var b [8]byte
	_, _ = unix.Read(c.fd, b[:])
	c.mu.Lock()
	q := c.q
	c.q = nil
	c.mu.Unlock()
	return q
}

func (c *control) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	c.q = nil
	return unix.Close(c.fd)
}
