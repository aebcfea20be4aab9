package statesync

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"time"
)

// Protocol versions this build speaks. A change to any frame after the
// hello takes a new version; a node that speaks a range can talk to an
// older peer during a rolling upgrade.
const (
	MinProtocolVersion = 2 // v2 added requests and responses (config sync)
	MaxProtocolVersion = 2
)

// versions is a range of protocol versions.
type versions struct{ min, max uint16 }

func (v versions) orDefault() versions {
	if v == (versions{}) {
		return versions{MinProtocolVersion, MaxProtocolVersion}
	}
	return v
}

func (v versions) String() string {
	if v.min == v.max {
		return fmt.Sprintf("v%d", v.min)
	}
	return fmt.Sprintf("v%d to v%d", v.min, v.max)
}

// negotiate returns the highest version both ranges hold.
func negotiate(ours, theirs versions) (uint16, bool) {
	hi := min(ours.max, theirs.max)
	if hi < max(ours.min, theirs.min) {
		return 0, false
	}
	return hi, true
}

// ErrVersion wraps a refused session: the two nodes have no protocol
// version in common.
var ErrVersion = errors.New("protocol version mismatch")

// versionMessage says what went wrong from the point of view of the
// node that reads it.
func versionMessage(peer, self versions) string {
	return fmt.Sprintf("the peer speaks state sync protocol %v, this node %v: run the same firmware on both nodes", peer, self)
}

// RefusedError is a session the peer refused, with the peer's reason.
type RefusedError struct {
	Code   RefuseCode
	Reason string
}

func (e *RefusedError) Error() string { return "refused by the peer: " + e.Reason }

// Unwrap lets errors.Is(err, ErrVersion) see a version refusal.
func (e *RefusedError) Unwrap() error {
	if e.Code == RefuseVersion {
		return ErrVersion
	}
	return nil
}

// handshakeTimeout bounds the TLS handshake and the hello exchange.
const handshakeTimeout = 10 * time.Second

// writeFrame encodes f into buf and writes it with a deadline, and
// returns buf for reuse.
func writeFrame(c net.Conn, buf []byte, f *Frame, timeout time.Duration) ([]byte, error) {
	b, err := AppendFrame(buf[:0], f)
	if err != nil {
		return buf, err
	}
	return b, writeBytes(c, b, timeout)
}

// writeBytes writes encoded frames, failing after timeout.
func writeBytes(c net.Conn, b []byte, timeout time.Duration) error {
	if err := c.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	_, err := c.Write(b)
	return err
}

// clientHello sends the sender's hello and reads the answer: the
// receiver's hello with the chosen version, or a refusal.
func clientHello(c net.Conn, r *bufio.Reader, ours versions, h Hello) (uint16, error) {
	h.MinVersion, h.MaxVersion = ours.min, ours.max
	if _, err := writeFrame(c, nil, &Frame{Type: TypeHello, Hello: h}, handshakeTimeout); err != nil {
		return 0, fmt.Errorf("send hello: %w", authError(err))
	}
	if err := c.SetReadDeadline(time.Now().Add(handshakeTimeout)); err != nil {
		return 0, err
	}
	f, _, err := ReadFrame(r, nil, nil)
	if err != nil {
		return 0, fmt.Errorf("read hello: %w", authError(err))
	}
	switch f.Type {
	case TypeRefuse:
		return 0, &RefusedError{Code: f.Code, Reason: f.Reason}
	case TypeHello:
	default:
		return 0, fmt.Errorf("read hello: got a %v frame", f.Type)
	}
	v := f.Hello.MinVersion
	if f.Hello.MaxVersion != v || v < ours.min || v > ours.max {
		return 0, fmt.Errorf("%w: %s", ErrVersion, versionMessage(versions{f.Hello.MinVersion, f.Hello.MaxVersion}, ours))
	}
	return v, nil
}

// serverHello reads the sender's hello and answers it: with the chosen
// version, or with a refusal that tells the sender why.
func serverHello(c net.Conn, r *bufio.Reader, ours versions, instance uint64) (Hello, uint16, error) {
	if err := c.SetReadDeadline(time.Now().Add(handshakeTimeout)); err != nil {
		return Hello{}, 0, err
	}
	f, _, err := ReadFrame(r, nil, nil)
	if err != nil {
		return Hello{}, 0, fmt.Errorf("read hello: %w", authError(err))
	}
	if f.Type != TypeHello {
		return Hello{}, 0, fmt.Errorf("read hello: got a %v frame", f.Type)
	}
	theirs := versions{f.Hello.MinVersion, f.Hello.MaxVersion}
	v, ok := negotiate(ours, theirs)
	if !ok {
		// The refusal is written for the sender to read.
		_, _ = writeFrame(c, nil, &Frame{Type: TypeRefuse, Code: RefuseVersion, Reason: versionMessage(ours, theirs)}, handshakeTimeout)
		return f.Hello, 0, fmt.Errorf("%w: %s", ErrVersion, versionMessage(theirs, ours))
	}
	answer := Frame{Type: TypeHello, Hello: Hello{MinVersion: v, MaxVersion: v, Instance: instance}}
	if _, err := writeFrame(c, nil, &answer, handshakeTimeout); err != nil {
		return f.Hello, 0, fmt.Errorf("send hello: %w", err)
	}
	return f.Hello, v, nil
}
