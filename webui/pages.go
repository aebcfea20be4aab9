package webui

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v5"

	"rampart/webui/audit"
	"rampart/webui/auth"
)

// adminActor is the one account. Who acted is still recorded per change,
// and API tokens are named, so a second account is not needed yet.
const adminActor = "admin"

// anonymous is the actor of audited attempts that failed.
const anonymous = "-"

var errAlreadySetUp = errors.New("the admin password is already set")

func (s *Server) getSetup(c *echo.Context) error {
	if s.hasAdmin() {
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	s.setup.Current() // reissues an expired token, so the console shows a live one
	sid := ensureFormSession(c.Response(), c.Request())
	return s.render(c, http.StatusOK, "setup.html", pageData{Title: "First-time setup", CSRF: s.csrfToken(sid)})
}

// postSetup redeems the setup token for the admin password. The token is
// spent only once the password is safely stored, so a typo or a full stick
// does not burn it.
func (s *Server) postSetup(c *echo.Context) error {
	form, err := postForm(c)
	if err != nil {
		return err
	}
	if s.hasAdmin() {
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	data := pageData{Title: "First-time setup", CSRF: s.csrfToken(sessionIDOf(c))}
	if !s.limiter.Allow(peerAddr(c)) {
		data.Error = "Too many attempts. Wait a minute and try again."
		return s.render(c, http.StatusTooManyRequests, "setup.html", data)
	}
	token, password := form.Get("token"), form.Get("password")
	if !s.setup.Check(token) {
		s.record(c, anonymous, "setup.failed", "wrong or expired setup token", nil)
		data.Error = "That setup token is wrong or has expired. Check the console: an expired token is replaced by a new one."
		return s.render(c, http.StatusUnauthorized, "setup.html", data)
	}
	if password != form.Get("confirm") {
		data.Error = "The two passwords differ."
		return s.render(c, http.StatusBadRequest, "setup.html", data)
	}
	if err := auth.CheckPassword(password, token); err != nil {
		data.Error = sentence(err.Error())
		return s.render(c, http.StatusBadRequest, "setup.html", data)
	}
	hash, err := s.hasher.Hash(c.Request().Context(), password)
	if err != nil {
		return echo.ErrInternalServerError.Wrap(err)
	}
	err = s.updateState(func(st *auth.State) error {
		if st.Admin != nil {
			return errAlreadySetUp
		}
		st.Admin = &auth.Credential{Hash: hash, Changed: s.now().UTC()}
		return nil
	})
	if errors.Is(err, errAlreadySetUp) {
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	if err != nil {
		return echo.ErrInternalServerError.Wrap(err)
	}
	s.setup.Redeem()
	s.record(c, adminActor, "setup", "admin password set with the setup token", nil)
	return c.Redirect(http.StatusSeeOther, "/login?setup=done")
}

func (s *Server) getLogin(c *echo.Context) error {
	if !s.hasAdmin() {
		return c.Redirect(http.StatusSeeOther, "/setup")
	}
	if p, ok := principalOf(c); ok && p.Via == viaSession {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	sid := ensureFormSession(c.Response(), c.Request())
	data := pageData{Title: "Log in", CSRF: s.csrfToken(sid)}
	if c.QueryParam("setup") == "done" {
		data.Notice = "The admin password is set. Log in with it."
	}
	return s.render(c, http.StatusOK, "login.html", data)
}

// postLogin checks the password and starts a session under a new id.
func (s *Server) postLogin(c *echo.Context) error {
	form, err := postForm(c)
	if err != nil {
		return err
	}
	st := s.snapshot()
	if st.Admin == nil {
		return c.Redirect(http.StatusSeeOther, "/setup")
	}
	data := pageData{Title: "Log in", CSRF: s.csrfToken(sessionIDOf(c))}
	if !s.limiter.Allow(peerAddr(c)) {
		data.Error = "Too many attempts. Wait a minute and try again."
		return s.render(c, http.StatusTooManyRequests, "login.html", data)
	}
	password := form.Get("password")
	err = auth.ErrMismatch
	if len(password) <= auth.MaxPasswordLen {
		err = s.hasher.Verify(c.Request().Context(), st.Admin.Hash, password)
	}
	if errors.Is(err, auth.ErrMismatch) {
		s.record(c, anonymous, "login.failed", "wrong password", nil)
		data.Error = "Wrong password."
		return s.render(c, http.StatusUnauthorized, "login.html", data)
	}
	if err != nil {
		return echo.ErrInternalServerError.Wrap(err)
	}
	sess := s.sessions.Create(adminActor, sessionIDOf(c))
	setSessionCookie(c.Response(), sess.ID)
	s.record(c, adminActor, "login", "logged in", nil)
	return c.Redirect(http.StatusSeeOther, "/")
}

func (s *Server) postLogout(c *echo.Context) error {
	p, _ := principalOf(c)
	s.sessions.Delete(p.SessionID)
	clearSessionCookie(c.Response())
	s.record(c, p.Actor, "logout", "logged out", nil)
	return c.Redirect(http.StatusSeeOther, "/login")
}

// postForm parses an urlencoded body (bounded by limitBody).
func postForm(c *echo.Context) (url.Values, error) {
	r := c.Request()
	if err := r.ParseForm(); err != nil {
		return nil, bodyError(err)
	}
	return r.PostForm, nil
}

// record writes an audit entry. The change it describes is already made,
// so a failing audit log is reported loudly but does not undo it.
func (s *Server) record(c *echo.Context, actor, action, summary string, detail map[string]string) {
	e := audit.Entry{Time: s.now(), Actor: actor, Peer: peerString(c), Action: action, Summary: summary, Detail: detail}
	if err := s.opts.Audit.Record(e); err != nil {
		s.log.Error("webui: audit log write failed", "action", action, "actor", actor, "err", err)
	}
}

// sentence capitalizes an error message for a page.
func sentence(msg string) string {
	if msg == "" {
		return msg
	}
	return strings.ToUpper(msg[:1]) + msg[1:] + "."
}
