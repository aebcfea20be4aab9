package firewall

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// errGeneration means the ruleset changed since the generation a batch was
// built against; the kernel refused the batch as a whole.
var errGeneration = errors.New("the nftables ruleset changed underneath")

// NFNL_BATCH_GENID (linux/netfilter/nfnetlink.h): a batch that carries it
// is refused with ERESTART unless the ruleset is still at that generation.
const nfnlBatchGenID = 1

// replyTimeout bounds the wait for the kernel's answer to a batch. The
// kernel answers before sendmsg returns; this only guards against a bug.
const replyTimeout = 30 * time.Second

// nlConn is the netlink socket that batches go through.
type nlConn struct {
	c   *netlink.Conn
	rc  syscall.RawConn
	buf []byte
	snd int // current send buffer size
}

func dial(netns int) (*nlConn, error) {
	c, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: netns})
	if err != nil {
		return nil, fmt.Errorf("dial netfilter netlink: %w", err)
	}
	// Errors without the failed message echoed back, with the kernel's
	// explanation attached.
	_ = c.SetOption(netlink.CapAcknowledge, true)
	_ = c.SetOption(netlink.ExtendedAcknowledge, true)
	rc, err := c.SyscallConn()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("netlink raw conn: %w", err)
	}
	n := &nlConn{c: c, rc: rc, buf: make([]byte, 1<<16)}
	_ = n.setBuf(unix.SO_RCVBUFFORCE, unix.SO_RCVBUF, 1<<20)
	return n, nil
}

func (n *nlConn) Close() error { return n.c.Close() }

// setBuf sets a socket buffer size, forcing it past the sysctl limit when
// allowed (CAP_NET_ADMIN), as nft does for large batches.
func (n *nlConn) setBuf(force, plain, size int) error {
	var serr error
	err := n.rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, force, size)
		if serr != nil {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, plain, size)
		}
	})
	if err != nil {
		return err
	}
	return serr
}

// generation asks for the ruleset generation (NFT_MSG_GETGEN).
func (n *nlConn) generation() (uint32, error) {
	req := netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_GETGEN), Flags: netlink.Request},
		Data:   []byte{unix.AF_UNSPEC, 0, 0, 0},
	}
	msgs, err := n.c.Execute(req)
	if err != nil {
		return 0, fmt.Errorf("get generation: %w", err)
	}
	for _, m := range msgs {
		if len(m.Data) < 4 {
			continue
		}
		ad, err := netlink.NewAttributeDecoder(m.Data[4:])
		if err != nil {
			return 0, fmt.Errorf("get generation: %w", err)
		}
		ad.ByteOrder = binary.BigEndian
		for ad.Next() {
			if ad.Type() == unix.NFTA_GEN_ID {
				return ad.Uint32(), nil
			}
		}
	}
	return 0, errors.New("get generation: no generation in the reply")
}

// OpError is a message of a batch that the kernel refused.
type OpError struct {
	Op     string // what the message did, e.g. "add set forward_0"
	Err    error  // the errno
	Detail string // the kernel's extended ack message, if any
}

func (e *OpError) Error() string {
	s := e.Op + ": " + e.Err.Error()
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

func (e *OpError) Unwrap() error { return e.Err }

// commit sends the batch as one transaction, conditional on the ruleset
// still being at generation gen. Messages carry no ACK flag except the
// last one: the kernel reports every failed message and the ACK tells
// that the batch was processed, without an answer per message.
func (n *nlConn) commit(b *batch, gen uint32) error {
	if len(b.msgs) == 0 {
		return nil
	}
	n.drain()
	begin := &attrs{}
	begin.u32(nfnlBatchGenID, gen)
	msgs := make([]netlink.Message, 0, len(b.msgs)+2)
	msgs = append(msgs, netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(unix.NFNL_MSG_BATCH_BEGIN), Flags: netlink.Request},
		Data:   append([]byte{unix.AF_UNSPEC, 0, 0, unix.NFNL_SUBSYS_NFTABLES}, begin.b...),
	})
	msgs = append(msgs, b.msgs...)
	msgs[len(msgs)-1].Header.Flags |= netlink.Acknowledge
	msgs = append(msgs, netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(unix.NFNL_MSG_BATCH_END), Flags: netlink.Request},
		Data:   []byte{unix.AF_UNSPEC, 0, 0, unix.NFNL_SUBSYS_NFTABLES},
	})
	size := 0
	for _, m := range msgs {
		size += 16 + (len(m.Data)+3)&^3
	}
	// The whole batch is one datagram: the send buffer must hold it.
	if want := size + 1<<16; want > n.snd {
		if err := n.setBuf(unix.SO_SNDBUFFORCE, unix.SO_SNDBUF, want); err != nil {
			return fmt.Errorf("set send buffer: %w", err)
		}
		n.snd = want
	}
	sent, err := n.c.SendMessages(msgs)
	if err != nil {
		return fmt.Errorf("send batch of %d messages (%d bytes): %w", len(msgs), size, err)
	}
	return n.replies(b, sent)
}

// replies reads the kernel's answer to a batch: errors for failed messages,
// the ACK of the last one, or one error for the batch as a whole.
func (n *nlConn) replies(b *batch, sent []netlink.Message) error {
	beginSeq := sent[0].Header.Sequence
	firstSeq := sent[1].Header.Sequence
	lastSeq := sent[len(sent)-2].Header.Sequence
	var first error
	defer n.c.SetReadDeadline(time.Time{})
	if err := n.c.SetReadDeadline(time.Now().Add(replyTimeout)); err != nil {
		return err
	}
	for done := false; !done; {
		m, err := n.recv(true)
		if err != nil {
			return fmt.Errorf("read batch replies: %w", err)
		}
		for len(m) > 0 {
			h, data, rest, ok := splitMsg(m)
			if !ok {
				break
			}
			m = rest
			if h.Type != unix.NLMSG_ERROR || len(data) < 20 {
				continue
			}
			errno := -int32(binary.NativeEndian.Uint32(data[0:4]))
			seq := binary.NativeEndian.Uint32(data[12:16])
			if seq == lastSeq || seq == beginSeq {
				done = true
			}
			if errno == 0 || first != nil {
				continue
			}
			op := "batch"
			if i := int(seq - firstSeq); seq != beginSeq && i >= 0 && i < len(b.what) {
				op = b.what[i]
			}
			if seq == beginSeq && syscall.Errno(errno) == unix.ERESTART {
				first = errGeneration
				continue
			}
			first = &OpError{Op: op, Err: syscall.Errno(errno), Detail: extAckMsg(h, data)}
		}
	}
	n.drain()
	return first
}

// recv reads one datagram; without block it returns nothing when none is
// queued.
func (n *nlConn) recv(block bool) ([]byte, error) {
	var size int
	var rerr error
	err := n.rc.Read(func(fd uintptr) bool {
		size, _, rerr = unix.Recvfrom(int(fd), n.buf, unix.MSG_DONTWAIT)
		return !(block && rerr == unix.EAGAIN)
	})
	if err != nil {
		return nil, err
	}
	if rerr == unix.EAGAIN {
		return nil, nil
	}
	if rerr != nil {
		return nil, rerr
	}
	return n.buf[:size], nil
}

// drain discards whatever is queued on the socket.
func (n *nlConn) drain() {
	for range 1024 {
		if m, err := n.recv(false); err != nil || len(m) == 0 {
			return
		}
	}
}

func splitMsg(b []byte) (h unix.NlMsghdr, data, rest []byte, ok bool) {
	if len(b) < unix.NLMSG_HDRLEN {
		return h, nil, nil, false
	}
	h.Len = binary.NativeEndian.Uint32(b[0:4])
	h.Type = binary.NativeEndian.Uint16(b[4:6])
	h.Flags = binary.NativeEndian.Uint16(b[6:8])
	h.Seq = binary.NativeEndian.Uint32(b[8:12])
	if int(h.Len) < unix.NLMSG_HDRLEN || int(h.Len) > len(b) {
		return h, nil, nil, false
	}
	next := min((int(h.Len)+3)&^3, len(b))
	return h, b[unix.NLMSG_HDRLEN:h.Len], b[next:], true
}

// extAckMsg returns NLMSGERR_ATTR_MSG of an error, if the kernel sent one.
func extAckMsg(h unix.NlMsghdr, data []byte) string {
	if h.Flags&unix.NLM_F_ACK_TLVS == 0 {
		return ""
	}
	off := 4 + unix.NLMSG_HDRLEN // errno, then the request's header
	if h.Flags&unix.NLM_F_CAPPED == 0 {
		off = 4 + int(binary.NativeEndian.Uint32(data[4:8]))
	}
	if off > len(data) {
		return ""
	}
	ad, err := netlink.NewAttributeDecoder(data[(off+3)&^3:])
	if err != nil {
		return ""
	}
	for ad.Next() {
		if ad.Type() == unix.NLMSGERR_ATTR_MSG {
			return ad.String()
		}
	}
	return ""
}
