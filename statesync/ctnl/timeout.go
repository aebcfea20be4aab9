package ctnl

import (
	"errors"

	"golang.org/x/sys/unix"
)

// SetTimeouts sets the timeout of existing entries, found by original
// tuple and zone, to timeout seconds, in batches as Create sends them.
// It is how a node that hands its flows to the peer ages them out of its
// own table (conntrackd -t) without touching their state or NAT: the
// update carries nothing but the tuple and CTA_TIMEOUT, which the kernel
// changes in place. An entry that is gone already (ENOENT) is no
// failure; it returns the others the kernel refused.
func (c *Conn) SetTimeouts(entries []Entry, timeout uint32) ([]Failure, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	reqs := make([]request, 0, len(entries))
	index := make([]int, 0, len(entries))
	var fails []Failure
	for i := range entries {
		e := &entries[i]
		if !e.Orig.IsValid() {
			fails = append(fails, Failure{Index: i, Err: ErrInvalidEntry})
			continue
		}
		reqs = append(reqs, request{typ: msgType(ipctnlMsgCtNew), payload: appendTimeout(nil, e.Orig, e.Zone, timeout)})
		index = append(index, i)
	}
	errs, err := c.exchange(reqs)
	if err != nil {
		return fails, opError("set timeouts", err)
	}
	for k, e := range errs {
		if e != nil && !errors.Is(e, unix.ENOENT) {
			fails = append(fails, Failure{Index: index[k], Err: e})
		}
	}
	sortFailures(fails)
	return fails, nil
}

// appendTimeout appends the payload of an IPCTNL_MSG_CT_NEW without
// NLM_F_CREATE: an update of the entry whose original tuple is t.
func appendTimeout(b []byte, t Tuple, zone uint16, timeout uint32) []byte {
	b = appendNfgenmsg(b, family(t))
	b = appendTuple(b, ctaTupleOrig, t)
	b = appendBE32(b, ctaTimeout, timeout)
	if zone != 0 {
		b = appendBE16(b, ctaZone, zone)
	}
	return b
}
