package driver

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// linkWatch reads carrier changes from rtnetlink's link group. Its socket
// is polled by the run loop itself, so that a lost carrier reaches the
// machines without waiting for any other goroutine to be scheduled: on a
// dedicated heartbeat cable, carrier loss is the fastest news there is
// that the peer died.
type linkWatch struct {
	fd    int
	buf   []byte
	devs  map[string]bool // watched devices
	state map[string]bool // last reported: up (admin up and carrier)
	seq   uint32
}

// linkChange is a watched device's new state.
type linkChange struct {
	dev string
	up  bool
}

func openLinkWatch(devs []string) (*linkWatch, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("carp driver: link watch: %w", err)
	}
	err = errors.Join(
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 1<<20),
		unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: unix.RTMGRP_LINK}),
	)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("carp driver: link watch: %w", err)
	}
	w := &linkWatch{fd: fd, buf: make([]byte, 1<<16), devs: map[string]bool{}, state: map[string]bool{}}
	for _, d := range devs {
		w.devs[d] = true
	}
	return w, w.requestDump()
}

func (w *linkWatch) Fd() int { return w.fd }

func (w *linkWatch) Close() error { return unix.Close(w.fd) }

// requestDump asks for every link's state. The replies are read like
// events: each carries a link's whole state. It is sent at start and
// again when the socket overflowed and events were lost.
func (w *linkWatch) requestDump() error {
	w.seq++
	req := make([]byte, unix.NLMSG_HDRLEN+unix.SizeofIfInfomsg)
	putNlHeader(req, unix.RTM_GETLINK, unix.NLM_F_REQUEST|unix.NLM_F_DUMP, w.seq)
	if err := unix.Sendto(w.fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("carp driver: link dump: %w", err)
	}
	return nil
}

// read drains the socket and returns the changes of watched devices.
func (w *linkWatch) read() ([]linkChange, error) {
	var out []linkChange
	for range 64 {
		n, _, err := unix.Recvfrom(w.fd, w.buf, unix.MSG_DONTWAIT)
		switch {
		case errors.Is(err, unix.EAGAIN):
			return out, nil
		case errors.Is(err, unix.ENOBUFS):
			// Events were lost: ask for the whole state again.
			if err := w.requestDump(); err != nil {
				return out, err
			}
			continue
		case err != nil:
			return out, fmt.Errorf("carp driver: link watch: %w", err)
		}
		for _, m := range splitNetlink(w.buf[:n]) {
			if c, ok := w.parse(m); ok {
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// parse returns a change of a watched device, if m is one.
func (w *linkWatch) parse(m nlMsg) (linkChange, bool) {
	if (m.typ != unix.RTM_NEWLINK && m.typ != unix.RTM_DELLINK) || len(m.data) < unix.SizeofIfInfomsg {
		return linkChange{}, false
	}
	flags := binary.NativeEndian.Uint32(m.data[8:12]) // ifinfomsg.ifi_flags
	name := cString(attr(m.data[unix.SizeofIfInfomsg:], unix.IFLA_IFNAME))
	if !w.devs[name] {
		return linkChange{}, false
	}
	const upMask = unix.IFF_UP | unix.IFF_LOWER_UP
	up := m.typ == unix.RTM_NEWLINK && flags&upMask == upMask
	if prev, seen := w.state[name]; seen && prev == up {
		return linkChange{}, false
	}
	w.state[name] = up
	return linkChange{dev: name, up: up}, true
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
