package ctnl

import (
	"errors"
	"fmt"
)

// Error is the error this package returns for a failed operation on a
// netlink socket. Err is usually a syscall.Errno.
type Error struct {
	Op  string
	Err error
}

func (e *Error) Error() string { return "ctnl: " + e.Op + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func opError(op string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Op: op, Err: err}
}

// ErrOverrun means the socket's receive buffer overflowed (ENOBUFS) and
// the kernel dropped messages. For an event listener it means events were
// lost: the sync layer must count it and resync from a dump, never carry
// on as if nothing happened.
var ErrOverrun = errors.New("receive buffer overrun, messages lost")

// ErrNoAck means the kernel did not acknowledge a batch in time, so the
// outcome of its entries is unknown.
var ErrNoAck = errors.New("no acknowledgement from the kernel")

// Failure is an entry that the kernel (or the encoder, before it) refused.
// Err is the kernel's reason as a syscall.Errno (EEXIST, EINVAL,
// EOPNOTSUPP, ...), possibly wrapped with the kernel's text, or wraps
// ErrInvalidEntry.
type Failure struct {
	// Index is the entry's position in the slice given to Create.
	Index int
	Err   error
}

func (f Failure) Error() string { return fmt.Sprintf("entry %d: %v", f.Index, f.Err) }
func (f Failure) Unwrap() error { return f.Err }
