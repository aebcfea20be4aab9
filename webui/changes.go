package webui

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v5"

	"rampart/config"
	"rampart/config/store"
	"rampart/webui/confirm"
)

// Every config change from the UI or the API goes through here: it is
// validated, applied at once, and reverted at the deadline unless a later
// request on a newer connection confirms it (see package confirm). Only a
// confirmed change is stored, so a restart boots the last confirmed
// version. changeMu serialises proposals, confirmations, reverts, the
// timer and config sync from the peer.

// revertRetry is how soon a failed automatic revert is tried again.
const revertRetry = 5 * time.Second

// change is what a pending change needs to be confirmed or reverted.
type change struct {
	Old, New   *config.Config
	OldVersion store.Version
	Meta       store.Meta
}

// changeView is a pending change as pages and the API show it.
type changeView struct {
	ID          string    `json:"id"`
	Actor       string    `json:"actor"`
	Summary     string    `json:"summary"`
	Proposed    time.Time `json:"proposed"`
	Deadline    time.Time `json:"deadline"`
	SecondsLeft int       `json:"seconds_left"`
	Expired     bool      `json:"expired"`
}

func (s *Server) viewOf(p confirm.Pending[change]) changeView {
	left := p.Left(s.now())
	return changeView{ID: p.ID, Actor: p.Actor, Summary: p.Summary, Proposed: p.Proposed, Deadline: p.Deadline,
		SecondsLeft: int((left + time.Second - 1) / time.Second), Expired: left == 0}
}

// pendingChange returns the pending change, if any.
func (s *Server) pendingChange() (changeView, bool) {
	s.changeMu.Lock()
	defer s.changeMu.Unlock()
	p, ok := s.changes.Pending()
	if !ok {
		return changeView{}, false
	}
	return s.viewOf(p), true
}

// proposal is a change ready to be applied.
type proposal struct {
	cfg     *config.Config
	summary string // what the audit log and the history say
	message string // the admin's own words, optional
}

// errApply wraps a failed apply: the old config stays in force.
type errApply struct{ err error }

func (e errApply) Error() string {
	return "the change could not be applied; the previous config stays in force: " + e.err.Error()
}
func (e errApply) Unwrap() error { return e.err }

// propose applies p.cfg now and makes it the pending change. Validation
// problems come back as config.Errors, a failed apply as errApply.
func (s *Server) propose(c *echo.Context, p proposal) (changeView, error) {
	s.changeMu.Lock()
	defer s.changeMu.Unlock()
	if _, ok := s.changes.Pending(); ok {
		return changeView{}, confirm.ErrBusy
	}
	old, oldVersion := s.be.Running()
	if err := s.apply(c.Request().Context(), p.cfg); err != nil {
		if _, ok := validationErrors(err); ok || errors.Is(err, ErrUnavailable) {
			return changeView{}, err
		}
		return changeView{}, errApply{err}
	}
	// Taken after the apply: only connections opened from now on count.
	mark := s.marks.Add(1)
	actor := actorOf(c)
	pending, err := s.changes.Propose(s.now(), confirm.Proposal[change]{
		ID: newChangeID(), Actor: actor, Summary: p.summary, Mark: mark, Timeout: confirmTimeout(old),
		Payload: change{Old: old, New: p.cfg, OldVersion: oldVersion, Meta: s.meta(c, p)},
	})
	if err != nil { // cannot happen: checked above under the same lock
		s.undo(old)
		return changeView{}, err
	}
	s.pendingMark.Store(mark)
	s.arm(pending.ID, pending.Left(s.now()))
	// Close this connection, so the browser's confirmation comes on a new one.
	c.Response().Header().Set("Connection", "close")
	s.record(c, actor, "config.propose", p.summary, map[string]string{"change": pending.ID, "deadline": pending.Deadline.UTC().Format(time.RFC3339)})
	return s.viewOf(pending), nil
}

// undo re-applies old after a failure half-way; it is logged if it fails.
func (s *Server) undo(old *config.Config) {
	if err := s.apply(context.Background(), old); err != nil {
		s.log.Error("webui: could not restore the previous config", "err", err)
	}
}

func confirmTimeout(c *config.Config) time.Duration {
	if c != nil && c.WebUI.ConfirmTimeout > 0 {
		return time.Duration(c.WebUI.ConfirmTimeout)
	}
	return time.Duration(config.DefaultConfirmTimeout)
}

func (s *Server) meta(c *echo.Context, p proposal) store.Meta {
	msg := p.summary
	if p.message != "" {
		msg = p.message + " (" + p.summary + ")"
	}
	return store.Meta{Author: clip(actorOf(c), store.MaxMetaSize), Source: peerString(c), Message: clip(msg, store.MaxMetaSize)}
}

// clip cuts s to at most n bytes on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

func newChangeID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// confirmResult is what a confirmation did.
type confirmResult struct {
	Version store.Version `json:"version"`
	Sync    *syncRecord   `json:"sync,omitempty"` // the push to the peer, if this node pushed
}

// confirmChange stores change id as the newest version, if the request
// came on a connection opened after the change was applied, and then
// pushes the shared config to the peer when this node is master. The push
// runs after the change lock is released, so a slow peer holds up no
// other request; pushMu keeps pushes in order.
func (s *Server) confirmChange(c *echo.Context, id string) (confirmResult, error) {
	s.pushMu.Lock()
	defer s.pushMu.Unlock()
	cfg, v, err := s.commitPending(c, id)
	if err != nil {
		return confirmResult{}, err
	}
	res := confirmResult{Version: v}
	if rec, pushed := s.pushToPeer(c.Request().Context(), cfg, v); pushed {
		res.Sync = &rec
	}
	return res, nil
}

// commitPending is the locked part of a confirmation.
func (s *Server) commitPending(c *echo.Context, id string) (*config.Config, store.Version, error) {
	s.changeMu.Lock()
	defer s.changeMu.Unlock()
	p, err := s.changes.Check(s.now(), id, markOf(c))
	if errors.Is(err, confirm.ErrSameConnection) {
		c.Response().Header().Set("Connection", "close")
	}
	if err != nil {
		return nil, store.Version{}, err
	}
	data, err := config.Marshal(p.Payload.New)
	if err != nil {
		return nil, store.Version{}, fmt.Errorf("confirm: %w", err)
	}
	v, err := s.commit(data, p.Payload.Meta)
	if err != nil {
		return nil, store.Version{}, fmt.Errorf("confirm: store the config (the change stays pending and reverts at its deadline): %w", err)
	}
	s.finish(p.ID)
	s.record(c, actorOf(c), "config.confirm", p.Summary, map[string]string{"change": p.ID, "version": fmt.Sprint(v.ID)})
	return p.Payload.New, v, nil
}

// revertChange reverts change id now, on request.
func (s *Server) revertChange(c *echo.Context, id string) error {
	s.changeMu.Lock()
	defer s.changeMu.Unlock()
	p, ok := s.changes.Pending()
	switch {
	case !ok:
		return confirm.ErrNone
	case p.ID != id:
		return confirm.ErrStale
	}
	if err := s.apply(c.Request().Context(), p.Payload.Old); err != nil {
		return fmt.Errorf("revert: %w", err)
	}
	s.finish(p.ID)
	s.record(c, actorOf(c), "config.revert", p.Summary, map[string]string{"change": p.ID})
	return nil
}

// finish ends the pending change; changeMu is held.
func (s *Server) finish(id string) {
	s.changes.Done(id)
	s.pendingMark.Store(0)
	if s.stopTimer != nil {
		s.stopTimer()
		s.stopTimer = nil
	}
}

// arm (re)starts the revert timer; changeMu is held.
func (s *Server) arm(id string, after time.Duration) {
	if s.stopTimer != nil {
		s.stopTimer()
	}
	s.stopTimer = s.afterFunc(after, func() { s.expire(id) })
}

// expire is the timer: it reverts change id if its deadline has passed.
// A failed revert is logged, audited and retried; the change stays
// pending meanwhile, so nothing else can be proposed on top of it.
func (s *Server) expire(id string) {
	s.changeMu.Lock()
	defer s.changeMu.Unlock()
	p, ok := s.changes.Pending()
	if !ok || p.ID != id {
		return
	}
	if _, due := s.changes.Due(s.now()); !due {
		s.arm(id, p.Left(s.now())) // the timer ran early
		return
	}
	if err := s.apply(context.Background(), p.Payload.Old); err != nil {
		s.log.Error("webui: automatic revert failed; retrying", "change", id, "err", err)
		s.recordSystem("config.revert.failed", "automatic revert failed: "+err.Error(), map[string]string{"change": id})
		s.arm(id, revertRetry)
		return
	}
	s.finish(id)
	s.log.Warn("webui: change not confirmed in time; reverted", "change", id, "summary", p.Summary)
	s.recordSystem("config.expire", "not confirmed in time, reverted: "+p.Summary, map[string]string{"change": id, "actor": p.Actor})
}

// setMaintenance switches maintenance mode at once and stores it: one
// button, no confirmation. It only demotes this node so the peer takes
// over; the UI listens on this node's own addresses, which it does not
// move, so it cannot cut the admin off. It is refused while a change is
// pending, whose revert would otherwise undo it.
func (s *Server) setMaintenance(c *echo.Context, on bool) error {
	s.changeMu.Lock()
	defer s.changeMu.Unlock()
	if _, ok := s.changes.Pending(); ok {
		return confirm.ErrBusy
	}
	cur, _ := s.be.Running()
	if cur == nil || cur.HA == nil {
		return echo.NewHTTPError(http.StatusConflict, "HA is not configured on this node")
	}
	next, err := cloneConfig(cur)
	if err != nil {
		return err
	}
	next.HA.Maintenance = on
	data, err := config.Marshal(next)
	if err != nil {
		return err
	}
	if err := s.apply(c.Request().Context(), next); err != nil {
		return errApply{err}
	}
	action, summary := "maintenance.off", "maintenance mode off"
	if on {
		action, summary = "maintenance.on", "maintenance mode on: this node steps down"
	}
	if _, err := s.commit(data, s.meta(c, proposal{summary: summary})); err != nil {
		s.undo(cur)
		return fmt.Errorf("maintenance: store the config (nothing changed): %w", err)
	}
	s.record(c, actorOf(c), action, summary, nil)
	return nil
}

// cloneConfig returns a deep copy through the canonical document.
func cloneConfig(c *config.Config) (*config.Config, error) {
	data, err := config.Marshal(c)
	if err != nil {
		return nil, err
	}
	return config.Parse("running", data)
}

// changeError maps the engine's and the backend's errors to responses.
func changeError(err error) error {
	var he *echo.HTTPError
	var ea errApply
	switch {
	case errors.As(err, &he):
		return he
	case errors.Is(err, confirm.ErrNone):
		return echo.NewHTTPError(http.StatusNotFound, err.Error())
	case errors.Is(err, confirm.ErrBusy), errors.Is(err, confirm.ErrStale),
		errors.Is(err, confirm.ErrExpired), errors.Is(err, confirm.ErrSameConnection):
		return echo.NewHTTPError(http.StatusConflict, err.Error())
	case errors.Is(err, ErrUnavailable):
		return echo.NewHTTPError(http.StatusServiceUnavailable, err.Error())
	case errors.As(err, &ea):
		return echo.NewHTTPError(http.StatusUnprocessableEntity, ea.Error())
	}
	return echo.ErrInternalServerError.Wrap(err)
}

func actorOf(c *echo.Context) string {
	p, _ := principalOf(c)
	return p.Actor
}
