package ctnl

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Events come one per datagram, so a busy table means one recvmsg per
// event. mmsgBatch reads up to mmsgSlots datagrams with one recvmmsg(2),
// which at 150,000 events a second saves most of the syscalls and
// wake-ups of the event path.
const (
	mmsgSlots   = 64
	mmsgSlotLen = 8 << 10 // an event is well under 1 KiB
)

// mmsgBatch holds the buffers and headers of one recvmmsg(2). The
// headers point into bufs, so a batch is allocated once per Listener and
// never copied.
type mmsgBatch struct {
	bufs [mmsgSlots][]byte
	iovs [mmsgSlots]unix.Iovec
	hdrs [mmsgSlots]unix.Mmsghdr
	msgs []nlMsg // what recv returns, reused
}

func newMmsgBatch() *mmsgBatch {
	b := &mmsgBatch{msgs: make([]nlMsg, 0, mmsgSlots)}
	arena := make([]byte, mmsgSlots*mmsgSlotLen)
	for i := range b.bufs {
		b.bufs[i] = arena[i*mmsgSlotLen : (i+1)*mmsgSlotLen : (i+1)*mmsgSlotLen]
		b.iovs[i].Base = &b.bufs[i][0]
		b.iovs[i].SetLen(mmsgSlotLen)
		b.hdrs[i].Hdr.Iov = &b.iovs[i]
		b.hdrs[i].Hdr.SetIovlen(1)
	}
	return b
}

// recv waits for datagrams and reads as many as are queued, up to
// mmsgSlots, and splits them into messages, which alias the batch's
// buffers until the next call. It returns nil messages only with an
// error of the socket. ENOBUFS before any datagram is ErrOverrun; after
// some, the kernel keeps it for the next call.
func (b *mmsgBatch) recv(raw syscall.RawConn) ([]nlMsg, error) {
	var n int
	var rerr error
	err := raw.Read(func(fd uintptr) bool {
		for {
			r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&b.hdrs[0])),
				mmsgSlots, unix.MSG_DONTWAIT, 0, 0)
			switch e {
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				return false
			case 0:
				n = int(r)
			default:
				rerr = e
			}
			return true
		}
	})
	if err := readError(err, rerr); err != nil {
		return nil, err
	}
	msgs := b.msgs[:0]
	var bad error
	for i := range n {
		h := &b.hdrs[i]
		if h.Hdr.Flags&unix.MSG_TRUNC != 0 || int(h.Len) > mmsgSlotLen {
			bad = errMsgTruncated
			continue
		}
		var err error
		if msgs, err = appendMessages(msgs, b.bufs[i][:h.Len]); err != nil {
			bad = err
		}
	}
	b.msgs = msgs
	return msgs, bad
}
