package ctnl

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// Defaults for Config fields left zero.
const (
	// DefaultBatchSize is the number of messages per sendmsg. About 1,000
	// creates fit well under the socket's send limit (2,000, about 260 KB,
	// fail with EMSGSIZE) and bring a 100,000-entry commit to a few
	// hundred milliseconds.
	DefaultBatchSize = 1000
	// DefaultReadBuffer is the receive buffer of a Conn: room for the
	// error replies of a whole batch of refused entries.
	DefaultReadBuffer = 8 << 20
	// DefaultEventReadBuffer is the receive buffer of a Listener: room for
	// bursts of events while the reader is busy.
	DefaultEventReadBuffer = 32 << 20
	// DefaultAckTimeout bounds the wait for the replies of one batch.
	DefaultAckTimeout = 10 * time.Second

	// maxBatchBytes keeps a batch under the default socket send limit
	// (net.core.wmem_default, about 208 KB, less 32 bytes), should
	// SO_SNDBUFFORCE be refused.
	maxBatchBytes = 192 << 10
	// recvBufSize holds the largest datagram the kernel sends: dumps are
	// capped at 32 KB per datagram.
	recvBufSize = 64 << 10
)

// Config configures a Conn or a Listener. The zero value works in the
// caller's network namespace.
type Config struct {
	// NetNS is the file descriptor of the network namespace to work in;
	// 0 means the caller's own.
	NetNS int
	// ReadBuffer is the socket receive buffer in bytes (forced past
	// net.core.rmem_max when running as root).
	ReadBuffer int
	// BatchSize is the number of messages per sendmsg.
	BatchSize int
	// AckTimeout bounds the wait for the replies to one batch.
	AckTimeout time.Duration
}

// Conn is a ctnetlink socket for commands: create, delete, flush, dump.
// Its methods may be called from several goroutines; they run one at a
// time.
type Conn struct {
	mu         sync.Mutex
	nl         *netlink.Conn
	raw        syscall.RawConn
	buf        []byte // receive buffer
	wbuf       []byte // batch being sent
	seq        uint32
	batchSize  int
	batchBytes int
	ackTimeout time.Duration
}

// Dial opens a ctnetlink command socket.
func Dial(cfg Config) (*Conn, error) {
	if cfg.ReadBuffer == 0 {
		cfg.ReadBuffer = DefaultReadBuffer
	}
	nl, raw, err := dial(cfg, 0)
	if err != nil {
		return nil, err
	}
	// Refused entries are echoed back as NLMSG_ERROR; with CAP_ACK only
	// the header is, which is all that maps a reply to its request.
	for _, o := range []netlink.ConnOption{netlink.CapAcknowledge, netlink.ExtendedAcknowledge} {
		if err := nl.SetOption(o, true); err != nil {
			nl.Close()
			return nil, opError("dial: set option", err)
		}
	}
	// A larger send buffer lets whole batches through; the byte limit per
	// batch keeps to the default should this be refused.
	_ = nl.SetWriteBuffer(4 << 20)
	c := &Conn{
		nl:         nl,
		raw:        raw,
		buf:        make([]byte, recvBufSize),
		seq:        uint32(time.Now().UnixNano()) | 1,
		batchSize:  cfg.BatchSize,
		batchBytes: maxBatchBytes,
		ackTimeout: cfg.AckTimeout,
	}
	if c.batchSize <= 0 {
		c.batchSize = DefaultBatchSize
	}
	if c.ackTimeout <= 0 {
		c.ackTimeout = DefaultAckTimeout
	}
	return c, nil
}

// dial opens a NETLINK_NETFILTER socket in cfg's namespace with its
// receive buffer set.
func dial(cfg Config, groups uint32) (*netlink.Conn, syscall.RawConn, error) {
	nl, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: cfg.NetNS, Groups: groups})
	if err != nil {
		return nil, nil, opError("dial", err)
	}
	if err := nl.SetReadBuffer(cfg.ReadBuffer); err != nil {
		nl.Close()
		return nil, nil, opError("dial: set read buffer", err)
	}
	raw, err := nl.SyscallConn()
	if err != nil {
		nl.Close()
		return nil, nil, opError("dial", err)
	}
	return nl, raw, nil
}

// Close closes the socket.
func (c *Conn) Close() error { return opError("close", c.nl.Close()) }

// recv reads one datagram into buf and splits it. The replies are read
// raw, not through netlink.Conn.Receive, because that stops at the first
// NLMSG_ERROR of a datagram, and a batch needs every one of them.
func recv(raw syscall.RawConn, buf []byte) ([]nlMsg, error) {
	var n, flags int
	var rerr error
	err := raw.Read(func(fd uintptr) bool {
		for {
			n, _, flags, _, rerr = unix.Recvmsg(int(fd), buf, nil, 0)
			if rerr != unix.EINTR {
				return rerr != unix.EAGAIN
			}
		}
	})
	if err := readError(err, rerr); err != nil {
		return nil, err
	}
	if flags&unix.MSG_TRUNC != 0 {
		return nil, errMsgTruncated
	}
	return splitMessages(buf[:n])
}

// readError is the outcome of a raw read: the poller's error, else the
// syscall's; ENOBUFS, the kernel dropping what did not fit, is
// ErrOverrun.
func readError(pollErr, sysErr error) error {
	err := pollErr
	if err == nil {
		err = sysErr
	}
	if errors.Is(err, unix.ENOBUFS) {
		return fmt.Errorf("%w: %w", ErrOverrun, err)
	}
	return err
}

func (c *Conn) nextSeq() uint32 {
	c.seq++
	if c.seq == 0 {
		c.seq++
	}
	return c.seq
}

// do sends one request with an ack and returns the kernel's verdict.
func (c *Conn) do(op string, msg uint8, flags uint16, payload []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	errs, err := c.exchange([]request{{typ: msgType(msg), flags: flags, payload: payload}})
	if err != nil {
		return opError(op, err)
	}
	return opError(op, errs[0])
}

// Delete removes the entry whose original tuple is t in zone.
func (c *Conn) Delete(t Tuple, zone uint16) error {
	if !t.IsValid() {
		return opError("delete", ErrInvalidEntry)
	}
	return c.do("delete", ipctnlMsgCtDelete, 0, appendDelete(nil, t, zone))
}

// Flush removes every entry, IPv4 and IPv6, of the socket's namespace.
func (c *Conn) Flush() error {
	return c.do("flush", ipctnlMsgCtDelete, 0, allFamilies())
}

// Dump returns every entry of the table, IPv4 and IPv6, in all zones.
// Entries that fail to decode are skipped and reported together in the
// error, next to the entries that decoded.
func (c *Conn) Dump() ([]Entry, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	seq := c.nextSeq()
	req := netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(msgType(ipctnlMsgCtGet)), Flags: nlmFRequest | nlmFDump, Sequence: seq},
		Data:   allFamilies(),
	}
	if _, err := c.nl.Send(req); err != nil {
		return nil, opError("dump", err)
	}
	var entries []Entry
	var bad []error
	defer c.nl.SetReadDeadline(time.Time{})
	for {
		// The deadline is per datagram: a dump may take long, a silent
		// kernel may not.
		if err := c.nl.SetReadDeadline(time.Now().Add(c.ackTimeout)); err != nil {
			return entries, opError("dump", err)
		}
		msgs, err := recv(c.raw, c.buf)
		if err != nil {
			return entries, opError("dump", err)
		}
		for _, m := range msgs {
			if m.seq != seq {
				continue
			}
			switch m.typ {
			case nlmsgDone:
				return entries, opError("dump: decode", errors.Join(bad...))
			case nlmsgError:
				if err := ackError(m); err != nil {
					return entries, opError("dump", err)
				}
			case msgType(ipctnlMsgCtNew):
				e, err := ParseEntry(m.data)
				if err != nil {
					bad = append(bad, err)
					continue
				}
				entries = append(entries, e)
			}
		}
	}
}
