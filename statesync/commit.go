package statesync

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"rampart/statesync/ctnl"
)

// Creator writes entries into a conntrack table; *ctnl.Conn is one.
type Creator interface {
	Create(entries []ctnl.Entry, opts ctnl.CreateOptions) ([]ctnl.Failure, error)
}

// CommitResult is the outcome of a commit of the cache to the kernel.
type CommitResult struct {
	Started  time.Time
	Duration time.Duration
	// Entries is the number of flows in the cache; Committed those the
	// kernel took.
	Entries, Committed int
	// Refused counts the entries the kernel (or the encoder) refused, by
	// reason: an errno name such as "EEXIST" or "EINVAL", or "invalid".
	Refused map[string]int
	// Err is the error that stopped the commit early, if one did.
	Err string
}

// Commit writes every cached flow into the kernel table through c, in
// batches of Tuning.CommitBatch, replacing entries with the same tuple.
// The carp driver calls it (through Node.BeforeMaster) before it adds the
// VIPs, so that the first packet of a recovered connection finds its
// entry. opts.Replace makes cached state replace existing entries;
// without it existing entries stay (refused as EEXIST). opts.Liberal sets
// the per-entry be liberal flag on TCP entries, never the global sysctl.
//
// Refused entries are counted, not errors. The error is for a commit
// that could not finish: the context ended or the socket failed.
func (r *Receiver) Commit(ctx context.Context, c Creator, opts ctnl.CreateOptions) (CommitResult, error) {
	res := CommitResult{Started: r.cfg.Clock.Now(), Refused: map[string]int{}}
	entries := r.cache.Entries()
	res.Entries = len(entries)
	err := commitBatches(ctx, c, entries, opts, r.cfg.Tuning.CommitBatch, &res)
	res.Duration = r.cfg.Clock.Now().Sub(res.Started)
	if err != nil {
		err = fmt.Errorf("statesync: commit: %w", err)
		res.Err = err.Error()
	}
	r.mu.Lock()
	cp := res
	cp.Refused = maps.Clone(res.Refused)
	r.st.lastCommit = &cp
	r.mu.Unlock()
	lvl := r.cfg.Logger.Info
	if err != nil || len(res.Refused) > 0 {
		lvl = r.cfg.Logger.Warn
	}
	lvl("state sync: cache committed to the kernel", "entries", res.Entries, "committed", res.Committed,
		"refused", res.Refused, "duration", res.Duration, "err", err)
	return res, err
}

func commitBatches(ctx context.Context, c Creator, entries []ctnl.Entry, opts ctnl.CreateOptions, batch int, res *CommitResult) error {
	for start := 0; start < len(entries); start += batch {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%d of %d entries done: %w", start, len(entries), err)
		}
		end := min(start+batch, len(entries))
		fails, err := c.Create(entries[start:end], opts)
		for _, f := range fails {
			res.Refused[refusalReason(f.Err)]++
		}
		if err != nil {
			return fmt.Errorf("%d of %d entries done: %w", start, len(entries), err)
		}
		res.Committed += end - start - len(fails)
	}
	return nil
}

// refusalReason names why an entry was refused, for counting.
func refusalReason(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if name := unix.ErrnoName(errno); name != "" {
			return name
		}
		return errno.Error()
	}
	if errors.Is(err, ctnl.ErrInvalidEntry) {
		return "invalid"
	}
	return "other"
}
