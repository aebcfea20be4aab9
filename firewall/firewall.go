package firewall

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Options configures a Firewall.
type Options struct {
	// NetNSFd is the network namespace to program; 0 is the current one.
	// New keeps a duplicate, so the caller may close theirs.
	NetNSFd int
	Logger  *slog.Logger
}

// Firewall applies rulesets to the kernel. It remembers the last ruleset
// it applied and the ruleset generation that followed, so that the next
// Apply can send only the difference.
type Firewall struct {
	mu      sync.Mutex
	log     *slog.Logger
	netns   int
	nl      *nlConn
	applied *Ruleset // nil until the first successful Apply
	gen     uint32   // ruleset generation right after our last commit
	last    applyStats

	// mutate, when set, edits every batch before it is sent. Tests use it
	// to inject a failure.
	mutate func(*batch)
}

// applyStats describes the last batch Apply sent.
type applyStats struct {
	full     bool
	messages int
}

// maxFullTries bounds the retries of a full replace that loses a race
// with another nftables client.
const maxFullTries = 3

// New opens a netlink socket in the namespace.
func New(opts Options) (*Firewall, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	netns := opts.NetNSFd
	if netns != 0 {
		// Our own descriptor: the namespace stays reachable for Counters
		// whatever the caller does with theirs.
		fd, err := unix.FcntlInt(uintptr(netns), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("firewall: new: duplicate netns fd: %w", err)
		}
		netns = fd
	}
	nl, err := dial(netns)
	if err != nil {
		if netns != 0 {
			unix.Close(netns)
		}
		return nil, fmt.Errorf("firewall: new: %w", err)
	}
	return &Firewall{log: log, netns: netns, nl: nl}, nil
}

// Close releases the socket. The ruleset stays in the kernel.
func (f *Firewall) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.nl == nil {
		return nil
	}
	err := f.nl.Close()
	f.nl = nil
	if f.netns != 0 {
		unix.Close(f.netns)
	}
	return err
}

// Apply makes rs the kernel's ruleset for Rampart's tables, atomically:
// either all of it is in force afterwards, or the previous ruleset still
// is. Applying the ruleset already in force sends nothing. When the kernel
// is still at the generation of the last apply, only the difference is
// sent; otherwise (first apply, another client changed nftables, a
// structural change) the tables are replaced whole.
func (f *Firewall) Apply(rs *Ruleset) error {
	if rs == nil {
		return errors.New("firewall: apply: nil ruleset")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.nl == nil {
		return errors.New("firewall: apply: closed")
	}
	start := time.Now()
	if f.applied != nil {
		done, err := f.applyDiff(rs)
		if done {
			f.log.Debug("firewall applied", "mode", "diff", "messages", f.last.messages, "took", time.Since(start))
			return nil
		}
		if err != nil {
			f.log.Warn("firewall: differential apply failed; replacing the tables", "err", err)
		}
	}
	if err := f.applyFull(rs); err != nil {
		return fmt.Errorf("firewall: apply: %w", err)
	}
	f.log.Debug("firewall applied", "mode", "full", "messages", f.last.messages, "took", time.Since(start))
	return nil
}

// applyDiff sends the difference from the applied ruleset. done is false
// when the full replace must follow.
func (f *Firewall) applyDiff(rs *Ruleset) (done bool, err error) {
	plans, ok := diff(f.applied, rs)
	if !ok {
		return false, nil
	}
	if len(plans) == 0 {
		f.applied, f.last = rs, applyStats{}
		return true, nil
	}
	b, err := build(plans)
	if err != nil {
		return false, err
	}
	if err := f.commit(b, f.gen); err != nil {
		if errors.Is(err, errGeneration) {
			return false, nil
		}
		return false, err
	}
	f.applied, f.gen, f.last = rs, nextGen(f.gen), applyStats{messages: len(b.msgs)}
	return true, nil
}

func (f *Firewall) applyFull(rs *Ruleset) error {
	b, err := fullBatch(rs)
	if err != nil {
		return err
	}
	for range maxFullTries {
		gen, err := f.nl.generation()
		if err != nil {
			return err
		}
		err = f.commit(b, gen)
		if errors.Is(err, errGeneration) {
			continue
		}
		if err != nil {
			return err
		}
		// A commit moves the generation on by exactly one, and the batch
		// ran at gen: no other change can have come in between.
		f.applied, f.gen, f.last = rs, nextGen(gen), applyStats{full: true, messages: len(b.msgs)}
		return nil
	}
	return errGeneration
}

// nextGen is the generation after a commit at g: the kernel skips 0, which
// a batch would read as "no generation to check".
func nextGen(g uint32) uint32 {
	if g+1 == 0 {
		return 1
	}
	return g + 1
}

func (f *Firewall) commit(b *batch, gen uint32) error {
	if f.mutate != nil {
		f.mutate(b)
	}
	return f.nl.commit(b, gen)
}
