package ctnl

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/mdlayher/netlink"
)

// EventType says what happened to an entry.
type EventType uint8

// Event types, one per conntrack multicast group.
const (
	EventNew     EventType = 1 // NFNLGRP_CONNTRACK_NEW
	EventUpdate  EventType = 2 // NFNLGRP_CONNTRACK_UPDATE
	EventDestroy EventType = 3 // NFNLGRP_CONNTRACK_DESTROY
)

func (t EventType) String() string {
	switch t {
	case EventNew:
		return "new"
	case EventUpdate:
		return "update"
	case EventDestroy:
		return "destroy"
	}
	return fmt.Sprintf("EventType(%d)", uint8(t))
}

// Event is one conntrack event.
type Event struct {
	Type  EventType
	Entry Entry
}

var errNotConntrack = errors.New("not a conntrack message")

// ParseEvent decodes one event message given its netlink header type and
// flags and its payload. The kernel sends a new entry as IPCTNL_MSG_CT_NEW
// with NLM_F_CREATE|NLM_F_EXCL, an update as IPCTNL_MSG_CT_NEW without
// them, and a destroyed entry as IPCTNL_MSG_CT_DELETE.
func ParseEvent(typ, flags uint16, payload []byte) (Event, error) {
	var ev Event
	switch {
	case typ == msgType(ipctnlMsgCtDelete):
		ev.Type = EventDestroy
	case typ == msgType(ipctnlMsgCtNew) && flags&(nlmFCreate|nlmFExcl) != 0:
		ev.Type = EventNew
	case typ == msgType(ipctnlMsgCtNew):
		ev.Type = EventUpdate
	default:
		return ev, errNotConntrack
	}
	e, err := ParseEntry(payload)
	if err != nil {
		return Event{}, err
	}
	ev.Entry = e
	return ev, nil
}

// parseEvents decodes the events of one datagram. Messages that fail to
// decode are skipped and reported in the error.
func parseEvents(msgs []nlMsg) ([]Event, error) {
	evs := make([]Event, 0, len(msgs))
	var bad []error
	for _, m := range msgs {
		if m.typ == nlmsgNoop || m.typ == nlmsgDone {
			continue
		}
		ev, err := ParseEvent(m.typ, m.flags, m.data)
		if err != nil {
			bad = append(bad, err)
			continue
		}
		evs = append(evs, ev)
	}
	return evs, errors.Join(bad...)
}

// Listener receives conntrack events.
type Listener struct {
	nl    *netlink.Conn
	raw   syscall.RawConn
	batch *mmsgBatch
}

// Listen subscribes to the given event types, all three if none is given.
// The receive buffer defaults to DefaultEventReadBuffer: events that
// overflow it are lost, which Receive reports as ErrOverrun.
func Listen(cfg Config, types ...EventType) (*Listener, error) {
	if cfg.ReadBuffer == 0 {
		cfg.ReadBuffer = DefaultEventReadBuffer
	}
	if len(types) == 0 {
		types = []EventType{EventNew, EventUpdate, EventDestroy}
	}
	nl, raw, err := dial(cfg, 0)
	if err != nil {
		return nil, err
	}
	for _, t := range types {
		if t < EventNew || t > EventDestroy {
			nl.Close()
			return nil, opError("listen", fmt.Errorf("unknown event type %d", t))
		}
		if err := nl.JoinGroup(uint32(t)); err != nil {
			nl.Close()
			return nil, opError("listen: join group", err)
		}
	}
	return &Listener{nl: nl, raw: raw, batch: newMmsgBatch()}, nil
}

// Receive blocks until events arrive and returns them. An error wrapping
// ErrOverrun means events were lost before these; the socket goes on
// working. A decode error comes with the events that did decode.
//
// It returns every event queued, up to a few dozen datagrams' worth.
func (l *Listener) Receive() ([]Event, error) {
	msgs, err := l.batch.recv(l.raw)
	if msgs == nil && err != nil {
		return nil, opError("receive", err)
	}
	evs, perr := parseEvents(msgs)
	return evs, opError("receive: decode", errors.Join(err, perr))
}

// SetReadDeadline makes a blocked Receive return at t with an error that
// wraps os.ErrDeadlineExceeded.
func (l *Listener) SetReadDeadline(t time.Time) error {
	return opError("set deadline", l.nl.SetReadDeadline(t))
}

// ReadBuffer returns the receive buffer size the kernel granted.
func (l *Listener) ReadBuffer() (int, error) {
	n, err := l.nl.ReadBuffer()
	return n, opError("read buffer", err)
}

// Close closes the socket and unblocks Receive.
func (l *Listener) Close() error { return opError("close", l.nl.Close()) }
