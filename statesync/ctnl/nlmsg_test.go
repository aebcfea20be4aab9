package ctnl

import (
	"encoding/binary"
	"errors"
	"syscall"
	"testing"
)

// errorMsg builds an NLMSG_ERROR as the kernel sends it to a socket with
// NETLINK_CAP_ACK and NETLINK_EXT_ACK: errno, the request's header, TLVs.
func errorMsg(seq uint32, errno syscall.Errno, text string) []byte {
	p := binary.NativeEndian.AppendUint32(nil, uint32(-int32(errno)))
	p = appendNlmsg(p, msgType(ipctnlMsgCtNew), nlmFRequest, seq, nil)
	flags := uint16(nlmFCapped)
	if text != "" {
		p = appendAttr(p, nlmsgerrAttr, append([]byte(text), 0))
		flags |= nlmFAckTLVs
	}
	return appendNlmsg(nil, nlmsgError, flags, seq, p)
}

func TestSplitMessagesAndAcks(t *testing.T) {
	var dgram []byte
	dgram = append(dgram, errorMsg(7, 0, "")...)
	dgram = append(dgram, errorMsg(8, syscall.EEXIST, "")...)
	dgram = append(dgram, errorMsg(9, syscall.EINVAL, "bad tuple")...)
	dgram = appendNlmsg(dgram, msgType(ipctnlMsgCtNew), nlmFMulti, 10, dumpPayload(sampleEntries()["icmp4"]))
	msgs, err := splitMessages(dgram)
	if err != nil {
		t.Fatal(err)
	}
	type got struct {
		Seq  uint32
		Type uint16
		Err  string
	}
	var gots []got
	for _, m := range msgs {
		g := got{Seq: m.seq, Type: m.typ}
		if m.typ == nlmsgError {
			if err := ackError(m); err != nil {
				g.Err = err.Error()
			}
		}
		gots = append(gots, g)
	}
	want := []got{
		{7, nlmsgError, ""},
		{8, nlmsgError, "file exists"},
		{9, nlmsgError, "invalid argument (bad tuple)"},
		{10, msgType(ipctnlMsgCtNew), ""},
	}
	if d := diff(want, gots); d != "" {
		t.Errorf("messages (-want +got):\n%s", d)
	}
	var ke *kernelError
	if err := ackError(msgs[2]); !errors.As(err, &ke) || !errors.Is(err, syscall.EINVAL) {
		t.Errorf("ackError: %v is not a kernelError wrapping EINVAL", err)
	}
}

func TestSplitMessagesTruncated(t *testing.T) {
	m := errorMsg(1, syscall.EEXIST, "")
	if _, err := splitMessages(m[:len(m)-1]); !errors.Is(err, errMsgTruncated) {
		t.Errorf("cut message: got %v, want errMsgTruncated", err)
	}
	if err := ackError(nlMsg{typ: nlmsgError, data: []byte{1}}); !errors.Is(err, errMsgTruncated) {
		t.Errorf("short error: got %v, want errMsgTruncated", err)
	}
}

func TestParseEvents(t *testing.T) {
	s := sampleEntries()
	var dgram []byte
	dgram = appendNlmsg(dgram, msgType(ipctnlMsgCtNew), nlmFCreate|nlmFExcl, 0, dumpPayload(s["tcp4 masquerade"]))
	dgram = appendNlmsg(dgram, msgType(ipctnlMsgCtNew), 0, 0, dumpPayload(s["udp4 zone mark"]))
	dgram = appendNlmsg(dgram, msgType(ipctnlMsgCtDelete), 0, 0, dumpPayload(s["icmp6"]))
	dgram = appendNlmsg(dgram, msgType(ipctnlMsgCtNew), 0, 0, []byte{2, 0, 0, 0}) // no tuple
	msgs, err := splitMessages(dgram)
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseEvents(msgs)
	if !errors.Is(err, errNoOrig) {
		t.Errorf("parseEvents error: got %v, want errNoOrig", err)
	}
	want := []Event{
		{EventNew, s["tcp4 masquerade"]},
		{EventUpdate, s["udp4 zone mark"]},
		{EventDestroy, s["icmp6"]},
	}
	if d := diff(want, got); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
}
