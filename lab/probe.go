package lab

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"rampart/internal/netns"
)

// Outcome is how a probe ended, as a firewall rule would explain it.
type Outcome int

const (
	// Accepted: connected (TCP) or answered (UDP, ICMP).
	Accepted Outcome = iota + 1
	// Refused: a TCP reset or an ICMP unreachable came back, as a reject
	// rule (or a closed port) sends.
	Refused
	// TimedOut: nothing came back, as a drop rule does.
	TimedOut
	// Failed: anything else; Result.Err says what.
	Failed
)

func (o Outcome) String() string {
	switch o {
	case Accepted:
		return "accepted"
	case Refused:
		return "refused"
	case TimedOut:
		return "timed out"
	case Failed:
		return "failed"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Result is one probe's answer.
type Result struct {
	Outcome Outcome
	// Peer is the prober's address as the server saw it (Accepted only):
	// after masquerade it is the firewall's, not the prober's.
	Peer netip.AddrPort
	Err  error
}

func (r Result) String() string {
	if r.Outcome == Accepted {
		return fmt.Sprintf("accepted (server saw %s)", r.Peer)
	}
	if r.Err != nil {
		return fmt.Sprintf("%s: %v", r.Outcome, r.Err)
	}
	return r.Outcome.String()
}

// Classify maps a dial or read error to an Outcome. EHOSTUNREACH counts
// as Refused because a reject with ICMP admin-prohibited or
// host-unreachable surfaces as it.
func Classify(err error) Outcome {
	var ne net.Error
	switch {
	case err == nil:
		return Accepted
	case errors.As(err, &ne) && ne.Timeout():
		return TimedOut
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return Refused
	}
	return Failed
}

// peerLine is the first line a Server sends: the client's address as the
// server sees it.
const peerPrefix = "peer "

func peerLine(addr net.Addr) string {
	return peerPrefix + addrPort(addr).String() + "\n"
}

func parsePeer(line string) (netip.AddrPort, error) {
	s, ok := strings.CutPrefix(strings.TrimSpace(line), peerPrefix)
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("lab: bad server greeting %q", line)
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("lab: bad server greeting %q: %w", line, err)
	}
	return ap, nil
}

// addrPort converts a TCP or UDP net.Addr, unmapping 4in6 addresses.
func addrPort(a net.Addr) netip.AddrPort {
	var ap netip.AddrPort
	switch a := a.(type) {
	case *net.TCPAddr:
		ap = a.AddrPort()
	case *net.UDPAddr:
		ap = a.AddrPort()
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// readLine reads the greeting byte by byte, so that nothing after it is
// left in a buffer the caller cannot see.
func readLine(r io.Reader) (string, error) {
	var b [1]byte
	var sb strings.Builder
	for sb.Len() < 128 {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return sb.String(), err
		}
		sb.WriteByte(b[0])
		if b[0] == '\n' {
			return sb.String(), nil
		}
	}
	return sb.String(), fmt.Errorf("lab: greeting too long: %q", sb.String())
}

// Conn is a TCP connection to a Server, opened inside a namespace.
type Conn struct {
	net.Conn
	// Peer is this end's address as the server saw it.
	Peer netip.AddrPort
}

// DialTCP connects from inside ns to a Server at dst and reads its
// greeting. The connection stays usable outside ns, so callers can hold
// many long-lived ones (state sync, failover). Classify explains the error.
func DialTCP(ns *netns.NS, dst netip.AddrPort, timeout time.Duration) (*Conn, error) {
	var c net.Conn
	err := ns.Do(func() error {
		var err error
		c, err = (&net.Dialer{Timeout: timeout}).Dial("tcp", dst.String())
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := c.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		c.Close()
		return nil, err
	}
	line, err := readLine(c)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("lab: read greeting from %s: %w", dst, err)
	}
	peer, err := parsePeer(line)
	if err != nil {
		c.Close()
		return nil, err
	}
	_ = c.SetReadDeadline(time.Time{})
	return &Conn{Conn: c, Peer: peer}, nil
}

// Echo sends msg and waits for the server to send it back: proof that the
// connection still carries data both ways.
func (c *Conn) Echo(msg string, timeout time.Duration) error {
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write([]byte(msg)); err != nil {
		return fmt.Errorf("lab: echo write: %w", err)
	}
	buf := make([]byte, len(msg))
	if _, err := io.ReadFull(c, buf); err != nil {
		return fmt.Errorf("lab: echo read: %w", err)
	}
	if string(buf) != msg {
		return fmt.Errorf("lab: echo: sent %q, got %q", msg, buf)
	}
	return nil
}

// ProbeTCP opens a connection from ns to a Server at dst, checks one echo
// and closes. A connection that opens but then breaks is Failed, not
// Accepted.
func ProbeTCP(ns *netns.NS, dst netip.AddrPort, timeout time.Duration) Result {
	c, err := DialTCP(ns, dst, timeout)
	if err != nil {
		return Result{Outcome: Classify(err), Err: err}
	}
	defer c.Close()
	if err := c.Echo("probe\n", timeout); err != nil {
		return Result{Outcome: Failed, Err: err}
	}
	return Result{Outcome: Accepted, Peer: c.Peer}
}

// udpTries is how many datagrams a UDP probe sends, spread over its
// timeout, so that one lost packet does not read as a drop.
const udpTries = 3

// ProbeUDP sends datagrams from ns to a UDP Server at dst until one is
// answered or timeout passes. An ICMP port unreachable (a reject) makes the
// connected socket's read fail with ECONNREFUSED: Refused.
func ProbeUDP(ns *netns.NS, dst netip.AddrPort, timeout time.Duration) Result {
	var res Result
	err := ns.Do(func() error {
		c, err := net.Dial("udp", dst.String())
		if err != nil {
			return err
		}
		defer c.Close()
		res = udpExchange(c, timeout)
		return nil
	})
	if err != nil {
		return Result{Outcome: Classify(err), Err: err}
	}
	return res
}

func udpExchange(c net.Conn, timeout time.Duration) Result {
	buf := make([]byte, 1500)
	var err error
	for i := 0; i < udpTries; i++ {
		if _, err = c.Write([]byte(fmt.Sprintf("probe %d\n", i))); err != nil {
			break
		}
		_ = c.SetReadDeadline(time.Now().Add(timeout / udpTries))
		var n int
		if n, err = c.Read(buf); err != nil {
			if Classify(err) == TimedOut {
				continue
			}
			break
		}
		// An answer to any try proves the path, a late one included.
		peer, rest, perr := parseUDPReply(string(buf[:n]))
		if perr != nil || !strings.HasPrefix(rest, "probe ") {
			return Result{Outcome: Failed, Err: fmt.Errorf("lab: bad UDP reply %q: %v", buf[:n], perr)}
		}
		return Result{Outcome: Accepted, Peer: peer}
	}
	return Result{Outcome: Classify(err), Err: err}
}

func parseUDPReply(s string) (netip.AddrPort, string, error) {
	line, rest, ok := strings.Cut(s, "\n")
	if !ok {
		return netip.AddrPort{}, "", fmt.Errorf("lab: bad UDP reply %q", s)
	}
	peer, err := parsePeer(line)
	return peer, rest, err
}
