package remote

import (
	"context"
	"errors"

	"rampart/config"
	"rampart/config/store"
	"rampart/webui"
)

// sentinels are the errors a caller tests for with errors.Is, by the name
// they cross the wire under. A sentinel the UI learns to test for is
// added here.
var sentinels = []struct {
	name string
	err  error
}{
	{"store.ErrNotFound", store.ErrNotFound},
	{"store.ErrCorrupt", store.ErrCorrupt},
	{"webui.ErrUnavailable", webui.ErrUnavailable},
	{"context.Canceled", context.Canceled},
	{"context.DeadlineExceeded", context.DeadlineExceeded},
	{"remote.ErrClosed", ErrClosed},
}

// wireError is an error on the wire: its text, the sentinels it wraps,
// and config validation errors, which the editors show at their fields.
type wireError struct {
	Msg    string        `json:"msg"`
	Is     []string      `json:"is,omitempty"`
	Fields config.Errors `json:"fields,omitempty"`
}

func encodeError(err error) *wireError {
	w := &wireError{Msg: err.Error()}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			w.Is = append(w.Is, s.name)
		}
	}
	var es config.Errors
	var e *config.Error
	switch {
	case errors.As(err, &es):
		w.Fields = es
	case errors.As(err, &e):
		w.Fields = config.Errors{e}
	}
	return w
}

func (w *wireError) decode() error {
	e := &Error{msg: w.Msg}
	for _, name := range w.Is {
		for _, s := range sentinels {
			if s.name == name {
				e.wrapped = append(e.wrapped, s.err)
			}
		}
	}
	if len(w.Fields) > 0 {
		e.wrapped = append(e.wrapped, w.Fields)
	}
	return e
}

// Error is an error returned by the other side: its text as it was there,
// wrapping what could be rebuilt here (sentinels, config.Errors).
type Error struct {
	msg     string
	wrapped []error
}

func (e *Error) Error() string   { return e.msg }
func (e *Error) Unwrap() []error { return e.wrapped }
