package ctnl

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"
)

// nlMsg is one netlink message of a received datagram. data aliases the
// datagram.
type nlMsg struct {
	typ, flags uint16
	seq        uint32
	data       []byte
}

var errMsgTruncated = errors.New("netlink message truncated")

// splitMessages cuts a datagram into its netlink messages.
func splitMessages(b []byte) ([]nlMsg, error) { return appendMessages(nil, b) }

// appendMessages appends the netlink messages of a datagram to msgs.
func appendMessages(msgs []nlMsg, b []byte) ([]nlMsg, error) {
	for len(b) >= nlmsgHdrLen {
		l := int(binary.NativeEndian.Uint32(b))
		if l < nlmsgHdrLen || l > len(b) {
			return msgs, errMsgTruncated
		}
		msgs = append(msgs, nlMsg{
			typ:   binary.NativeEndian.Uint16(b[4:]),
			flags: binary.NativeEndian.Uint16(b[6:]),
			seq:   binary.NativeEndian.Uint32(b[8:]),
			data:  b[nlmsgHdrLen:l],
		})
		b = b[min(align4(l), len(b)):]
	}
	return msgs, nil
}

// appendNlmsg appends a whole netlink message around payload. The port
// id is left 0: the kernel fills in the sender's.
func appendNlmsg(b []byte, typ, flags uint16, seq uint32, payload []byte) []byte {
	b = binary.NativeEndian.AppendUint32(b, uint32(nlmsgHdrLen+len(payload)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = binary.NativeEndian.AppendUint16(b, flags)
	b = binary.NativeEndian.AppendUint32(b, seq)
	b = binary.NativeEndian.AppendUint32(b, 0)
	b = append(b, payload...)
	return pad(b)
}

// ackError decodes an NLMSG_ERROR payload: nil for an ack, else the
// errno, with the text of the kernel's extended ack when it sent one.
// With NETLINK_CAP_ACK the echoed request is only its header.
func ackError(m nlMsg) error {
	if len(m.data) < 4 {
		return errMsgTruncated
	}
	code := int32(binary.NativeEndian.Uint32(m.data))
	if code == 0 {
		return nil
	}
	errno := syscall.Errno(-code)
	if m.flags&nlmFAckTLVs == 0 || len(m.data) < 4+nlmsgHdrLen {
		return errno
	}
	off := 4 + nlmsgHdrLen
	if m.flags&nlmFCapped == 0 {
		// The whole request was echoed: skip it.
		off = 4 + align4(int(binary.NativeEndian.Uint32(m.data[4:])))
	}
	if off > len(m.data) {
		return errno
	}
	var text string
	_ = walkAttrs(m.data[off:], func(typ uint16, data []byte) error {
		if typ == nlmsgerrAttr {
			text = cString(data)
		}
		return nil
	})
	if text == "" {
		return errno
	}
	return &kernelError{Errno: errno, Message: text}
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// kernelError is an errno with the text of the kernel's extended ack.
type kernelError struct {
	Errno   syscall.Errno
	Message string
}

func (e *kernelError) Error() string { return fmt.Sprintf("%v (%s)", e.Errno, e.Message) }
func (e *kernelError) Unwrap() error { return e.Errno }
