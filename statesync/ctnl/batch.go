package ctnl

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"slices"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// createSizeHint is about the size of a create payload for IPv4 with NAT.
const createSizeHint = 192

// request is one ctnetlink message of a batch.
type request struct {
	typ, flags uint16
	payload    []byte
}

// Create writes entries into the kernel table in batches and returns the
// entries refused, each with its reason. The error is for the socket, not
// for entries: after one, entries whose outcome is unknown are reported
// in it, not as failures.
func (c *Conn) Create(entries []Entry, opts CreateOptions) ([]Failure, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	flags := uint16(nlmFCreate | nlmFExcl)
	if opts.Replace {
		flags = nlmFCreate
	}
	// All payloads go into one arena: a commit is hundreds of thousands
	// of small messages, and one allocation each would cost more than the
	// encoding.
	arena := make([]byte, 0, len(entries)*createSizeHint)
	ends := make([]int, 0, len(entries))
	index := make([]int, 0, len(entries)) // message k creates entries[index[k]]
	var fails []Failure
	for i := range entries {
		var err error
		if arena, err = appendCreate(arena, &entries[i], opts); err != nil {
			fails = append(fails, Failure{Index: i, Err: err})
			continue
		}
		ends = append(ends, len(arena))
		index = append(index, i)
	}
	reqs := make([]request, len(ends))
	for k, end := range ends {
		start := 0
		if k > 0 {
			start = ends[k-1]
		}
		reqs[k] = request{typ: msgType(ipctnlMsgCtNew), flags: flags, payload: arena[start:end:end]}
	}
	errs, err := c.exchange(reqs)
	if err != nil {
		return fails, opError("create", err)
	}
	if opts.Replace {
		if err := c.recreate(entries, reqs, index, errs); err != nil {
			return fails, opError("create: replace", err)
		}
	}
	for k, e := range errs {
		if e != nil {
			fails = append(fails, Failure{Index: index[k], Err: e})
		}
	}
	sortFailures(fails)
	return fails, nil
}

// recreate handles the entries with NAT that the kernel would not update
// in place (EOPNOTSUPP): it deletes them and creates them again, and puts
// the outcome of that in errs.
func (c *Conn) recreate(entries []Entry, reqs []request, index []int, errs []error) error {
	var redo []int // positions in reqs
	for k, e := range errs {
		en := &entries[index[k]]
		if errors.Is(e, unix.EOPNOTSUPP) && (en.SNAT != nil || en.DNAT != nil) {
			redo = append(redo, k)
		}
	}
	if len(redo) == 0 {
		return nil
	}
	dels := make([]request, len(redo))
	for j, k := range redo {
		en := &entries[index[k]]
		dels[j] = request{typ: msgType(ipctnlMsgCtDelete), payload: appendDelete(nil, en.Orig, en.Zone)}
	}
	if _, err := c.exchange(dels); err != nil {
		return err
	}
	again := make([]request, len(redo))
	for j, k := range redo {
		again[j] = reqs[k]
		again[j].flags = nlmFCreate | nlmFExcl
	}
	errs2, err := c.exchange(again)
	if err != nil {
		return err
	}
	for j, k := range redo {
		errs[k] = errs2[j]
	}
	return nil
}

// sortFailures orders failures by entry: validation failures were
// collected before the kernel's.
func sortFailures(f []Failure) {
	slices.SortFunc(f, func(a, b Failure) int { return cmp.Compare(a.Index, b.Index) })
}

// exchange sends reqs in batches of up to batchSize messages and
// batchBytes bytes, each message with its own sequence number and only the
// last of a batch asking for an ack. The kernel handles a batch in order
// and sends an NLMSG_ERROR for every message that fails, so once the last
// message's reply is in, every failure of the batch is known. It returns
// one error per request, nil for success.
func (c *Conn) exchange(reqs []request) ([]error, error) {
	errs := make([]error, len(reqs))
	for start := 0; start < len(reqs); {
		end := c.batchEnd(reqs, start)
		err := c.sendBatch(reqs[start:end], errs[start:end])
		if errors.Is(err, unix.EMSGSIZE) && end-start > 1 {
			// Over the socket's send limit after all: halve and retry.
			c.batchBytes /= 2
			continue
		}
		if err != nil {
			return errs, err
		}
		start = end
	}
	return errs, nil
}

// batchEnd returns the end of the batch that starts at start.
func (c *Conn) batchEnd(reqs []request, start int) int {
	end, size := start, 0
	for end < len(reqs) && end-start < c.batchSize {
		l := nlmsgHdrLen + align4(len(reqs[end].payload))
		if end > start && size+l > c.batchBytes {
			break
		}
		size += l
		end++
	}
	return end
}

// sendBatch sends one batch in one sendmsg and collects its errors into
// errs. The batch is written into a buffer the Conn reuses.
func (c *Conn) sendBatch(batch []request, errs []error) error {
	first := c.seq + 1
	b := c.wbuf[:0]
	for i, r := range batch {
		flags := nlmFRequest | r.flags
		if i == len(batch)-1 {
			flags |= nlmFAck
		}
		b = appendNlmsg(b, r.typ, flags, c.nextSeq(), r.payload)
	}
	c.wbuf = b
	if err := send(c.raw, b); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	return c.collect(first, len(batch), errs)
}

// send writes one datagram to the kernel.
func send(raw syscall.RawConn, b []byte) error {
	var serr error
	err := raw.Write(func(fd uintptr) bool {
		for {
			serr = unix.Sendto(int(fd), b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
			if serr != unix.EINTR {
				return serr != unix.EAGAIN
			}
		}
	})
	if err != nil {
		return err
	}
	return serr
}

// collect reads replies until the one for the last message of the batch
// whose sequence numbers start at first.
func (c *Conn) collect(first uint32, n int, errs []error) error {
	last := first + uint32(n) - 1
	if err := c.nl.SetReadDeadline(time.Now().Add(c.ackTimeout)); err != nil {
		return err
	}
	defer c.nl.SetReadDeadline(time.Time{})
	for {
		msgs, err := recv(c.raw, c.buf)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return fmt.Errorf("%w: %w", ErrNoAck, err)
		}
		if err != nil {
			return fmt.Errorf("receive: %w", err)
		}
		for _, m := range msgs {
			k := m.seq - first // wraps for stale replies, then k >= n
			if m.typ != nlmsgError || k >= uint32(n) {
				continue
			}
			errs[k] = ackError(m)
			if m.seq == last {
				return nil
			}
		}
	}
}
