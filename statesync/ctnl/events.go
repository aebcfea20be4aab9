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
	if err := ev.parse(typ, flags, payload); err != nil {
		return Event{}, err
	}
	return ev, nil
}

// parse decodes into a zero ev, in place: an event is too big to copy
// around at the event rate.
func (ev *Event) parse(typ, flags uint16, payload []byte) error {
	switch {
	case typ == msgType(ipctnlMsgCtDelete):
		ev.Type = EventDestroy
	case typ == msgType(ipctnlMsgCtNew) && flags&(nlmFCreate|nlmFExcl) != 0:
		ev.Type = EventNew
	case typ == msgType(ipctnlMsgCtNew):
		ev.Type = EventUpdate
	default:
		return errNotConntrack
	}
	return ev.Entry.parse(payload)
}

// parseEvents decodes the events of one datagram. Messages that fail to
// decode are skipped and reported in the error.
func parseEvents(msgs []nlMsg) ([]Event, error) {
	return appendEvents(make([]Event, 0, len(msgs)), msgs)
}

// appendEvents decodes msgs and appends their events to evs.
func appendEvents(evs []Event, msgs []nlMsg) ([]Event, error) {
	var bad []error
	for _, m := range msgs {
		if m.typ == nlmsgNoop || m.typ == nlmsgDone {
			continue
		}
		evs = append(evs, Event{})
		if err := evs[len(evs)-1].parse(m.typ, m.flags, m.data); err != nil {
			evs = evs[:len(evs)-1]
			bad = append(bad, err)
		}
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
func (l *Listener) Receive() ([]Event, error) { return l.ReceiveInto(nil) }

// ReceiveInto is Receive that appends the events to evs, so that a
// reader can reuse one slice, of events decoded in place. It returns nil
// only with an error of the socket itself, not with a decode error.
func (l *Listener) ReceiveInto(evs []Event) ([]Event, error) {
	msgs, err := l.batch.recv(l.raw)
	if msgs == nil && err != nil {
		return nil, opError("receive", err)
	}
	if evs == nil {
		evs = make([]Event, 0, len(msgs))
	}
	evs, perr := appendEvents(evs, msgs)
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
