package statesync

import (
	"context"
	"fmt"
	"time"

	"rampart/statesync/ctnl"
)

// DefaultPurgeTimeout is what the kernel timeouts of synced flows are
// shortened to when this node stops being master, as conntrackd's
// PurgeTimeout (60 s).
const DefaultPurgeTimeout = 60 * time.Second

// PurgeResult is the outcome of a handover's purge.
type PurgeResult struct {
	Started  time.Time
	Duration time.Duration
	// Shortened counts the entries whose timeout was cut; Kept the synced
	// entries already due sooner; Refused those the kernel refused.
	Shortened, Kept, Refused int
	// Aborted is set when the node became master again mid-purge.
	Aborted bool
	Err     string
}

// AfterMaster runs when this node stops being master (of every group):
// the peer now carries the flows this node forwarded, and their entries
// here would stay established for the kernel's days-long timeout after
// the connections end there (state sync updates the cache, never the
// table, of a backup). It shortens their timeouts to the purge timeout,
// as `conntrackd -t` does on the backup; a flow whose packets still come
// this way refreshes its own entry, and one that comes back on the next
// takeover is in the cache that BeforeMaster commits. Flows the filter
// does not sync (the firewall's own, the sync link's) are left alone.
//
// A BeforeMaster that starts meanwhile wins: the purge stops between
// batches and never shortens what a commit has just written.
//
// timeout 0 means DefaultPurgeTimeout.
func (n *Node) AfterMaster(ctx context.Context, timeout time.Duration) (PurgeResult, error) {
	if timeout <= 0 {
		timeout = DefaultPurgeTimeout
	}
	timeout = max(timeout, time.Second)
	gen := n.masterGen.Load()
	n.handover.Lock()
	defer n.handover.Unlock()
	res := PurgeResult{Started: n.cfg.Clock.Now()}
	err := n.purge(ctx, gen, uint32(timeout/time.Second), &res)
	res.Duration = n.cfg.Clock.Now().Sub(res.Started)
	if err != nil {
		err = fmt.Errorf("statesync: after master: %w", err)
		res.Err = err.Error()
	}
	n.mu.Lock()
	n.lastPurge = &res
	n.mu.Unlock()
	lvl := n.cfg.Logger.Info
	if err != nil {
		lvl = n.cfg.Logger.Warn
	}
	lvl("state sync: synced flows handed to the peer, their timeouts shortened", "shortened", res.Shortened,
		"kept", res.Kept, "refused", res.Refused, "aborted", res.Aborted, "purge_timeout", timeout, "duration", res.Duration, "err", err)
	return res, err
}

// purgeBatch is the number of entries per SetTimeouts call: small, so
// that a takeover waits little for the batch in progress.
const purgeBatch = 2000

func (n *Node) purge(ctx context.Context, gen uint64, limit uint32, res *PurgeResult) error {
	if n.masterGen.Load() != gen {
		res.Aborted = true
		return nil
	}
	c, err := ctnl.Dial(ctnl.Config{NetNS: n.cfg.NetNS})
	if err != nil {
		return err
	}
	defer c.Close()
	table, err := c.Dump()
	if err != nil && len(table) == 0 {
		return err
	}
	f := n.src.filter.Load()
	var due []ctnl.Entry
	for i := range table {
		e := &table[i]
		switch {
		case f.skip(e):
		case e.Timeout <= limit:
			res.Kept++
		default:
			due = append(due, *e)
		}
	}
	for start := 0; start < len(due); start += purgeBatch {
		if n.masterGen.Load() != gen {
			res.Aborted = true
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		end := min(start+purgeBatch, len(due))
		fails, err := c.SetTimeouts(due[start:end], limit)
		res.Refused += len(fails)
		res.Shortened += end - start - len(fails)
		if err != nil {
			return err
		}
	}
	return nil
}
