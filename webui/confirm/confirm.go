// Package confirm is the web UI's commit-confirm engine. A change is
// applied at once and reverted automatically at a deadline unless a later,
// separate request confirms it. A change that cuts the admin off therefore
// undoes itself: the admin cannot send the confirmation.
//
// The engine only decides; it does no I/O and reads no clock. Its caller
// applies and reverts configs, stores them, and arms a timer for
// Pending.Deadline that calls Due. Every method takes the time as an
// argument, so tests drive it with a fake clock.
//
// "Separate request" is made precise with marks. The caller numbers
// connections (or, without a connection, requests) in the order they
// arrive, and takes a fresh mark after the new config is in force. A
// confirmation must carry a higher mark: it came on a connection opened
// after the apply. A request on an older connection proves nothing,
// because conntrack keeps established connections alive across a ruleset
// that would refuse them anew, and the proposing request itself is older.
//
// Nothing survives a restart. A pending change lives only in memory and
// was never stored, so a restarted daemon boots the last confirmed version
// from the store, which is the same as the revert.
package confirm

import (
	"errors"
	"fmt"
	"time"
)

// DefaultTimeout is how long a change waits for its confirmation when the
// config says nothing (config.DefaultConfirmTimeout).
const DefaultTimeout = 120 * time.Second

// Errors from Propose and Check. They are sentinel values, so handlers
// map them to statuses with errors.Is.
var (
	// ErrBusy: only one change may be pending; confirm or revert it first.
	ErrBusy = errors.New("another change is pending; confirm or revert it first")
	// ErrNone: nothing is pending.
	ErrNone = errors.New("no change is pending")
	// ErrStale: the id names a change that is no longer pending.
	ErrStale = errors.New("that change is no longer pending")
	// ErrExpired: the deadline passed; the change is being reverted.
	ErrExpired = errors.New("the change expired and is being reverted")
	// ErrSameConnection: the confirmation came on a connection that was
	// open before the change was applied, so it does not prove access.
	ErrSameConnection = errors.New("confirm from a new connection: this one was open before the change was applied")
)

// Proposal is a change that has just been applied.
type Proposal[T any] struct {
	ID      string // unique; the caller makes it random
	Actor   string
	Summary string
	// Mark was taken after the change was in force; a confirmation must
	// carry a higher one.
	Mark uint64
	// Timeout until the automatic revert; 0 means the engine's default.
	Timeout time.Duration
	// Payload is what the caller needs to confirm or revert: the old and
	// new configs, the store metadata.
	Payload T
}

// Pending is the change awaiting confirmation.
type Pending[T any] struct {
	Proposal[T]
	Proposed time.Time
	Deadline time.Time
}

// Left is the time until the automatic revert, never negative.
func (p Pending[T]) Left(now time.Time) time.Duration {
	return max(p.Deadline.Sub(now), 0)
}

// Engine holds at most one pending change. It is not safe for concurrent
// use: the caller serialises changes anyway, around its applies.
type Engine[T any] struct {
	timeout time.Duration
	pending *Pending[T]
}

// New returns an engine whose changes expire after timeout unless a
// proposal says otherwise; timeout <= 0 means DefaultTimeout.
func New[T any](timeout time.Duration) *Engine[T] {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Engine[T]{timeout: timeout}
}

// Propose records an applied change and returns it with its deadline.
// ErrBusy means another change is pending, expired or not: one whose
// revert failed stays until the revert succeeds.
func (e *Engine[T]) Propose(now time.Time, p Proposal[T]) (Pending[T], error) {
	if e.pending != nil {
		return Pending[T]{}, ErrBusy
	}
	if p.ID == "" {
		return Pending[T]{}, errors.New("confirm: propose: empty change id")
	}
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = e.timeout
	}
	pe := Pending[T]{Proposal: p, Proposed: now, Deadline: now.Add(timeout)}
	e.pending = &pe
	return pe, nil
}

// Pending returns the pending change, expired or not.
func (e *Engine[T]) Pending() (Pending[T], bool) {
	if e.pending == nil {
		return Pending[T]{}, false
	}
	return *e.pending, true
}

// Check says whether a request with mark may confirm change id now. It
// changes nothing: the caller stores the change and then calls Done, so a
// failed store leaves the change pending (and still due for revert).
func (e *Engine[T]) Check(now time.Time, id string, mark uint64) (Pending[T], error) {
	p, err := e.find(id)
	if err != nil {
		return p, err
	}
	if !now.Before(p.Deadline) {
		return p, ErrExpired
	}
	if mark <= p.Mark {
		return p, ErrSameConnection
	}
	return p, nil
}

// Done ends change id, confirmed or reverted.
func (e *Engine[T]) Done(id string) (Pending[T], error) {
	p, err := e.find(id)
	if err != nil {
		return p, err
	}
	e.pending = nil
	return p, nil
}

// Due returns the pending change if its deadline has passed, for the
// caller to revert and then end with Done. It stays pending until then,
// so a failed revert is retried and blocks new proposals meanwhile.
func (e *Engine[T]) Due(now time.Time) (Pending[T], bool) {
	if e.pending == nil || now.Before(e.pending.Deadline) {
		return Pending[T]{}, false
	}
	return *e.pending, true
}

func (e *Engine[T]) find(id string) (Pending[T], error) {
	switch {
	case e.pending == nil:
		return Pending[T]{}, ErrNone
	case e.pending.ID != id:
		return *e.pending, fmt.Errorf("%w (the pending change is %s)", ErrStale, e.pending.ID)
	}
	return *e.pending, nil
}
