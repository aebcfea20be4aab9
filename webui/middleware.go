package webui

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/labstack/echo/v5"

	"rampart/webui/auth"
)

// contentSecurityPolicy allows our own files only: no inline script or
// style (so an injected <script> does nothing), no framing (clickjacking),
// no <base> tricks, and forms may post only back to the box.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// maxBody bounds every request body: the largest legitimate one is a
// config form, far below this.
const maxBody = 64 << 10

// securityHeaders goes first, so error responses carry the headers too.
// Everything but the static files is no-store: pages show the firewall's
// configuration and must not linger in a shared browser's cache.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY") // frame-ancestors for older browsers
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Strict-Transport-Security", "max-age=31536000")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		return next(c)
	}
}

// limitBody refuses declared-oversize bodies at once and cuts off the
// rest while they are read: at maxBody, or for a whole config document
// (PUT /api/v1/config) at maxConfigBody.
func limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		r := c.Request()
		limit := int64(maxBody)
		if c.Path() == "/api/v1/config" {
			limit = maxConfigBody
		}
		if r.ContentLength > limit {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over %d bytes", limit))
		}
		r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
		return next(c)
	}
}

// bodyError turns a body-reading error into the right client error.
func bodyError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body over %d bytes", tooBig.Limit))
	}
	return echo.NewHTTPError(http.StatusBadRequest, "malformed request body")
}

// recoverPanics turns a handler bug into a 500 for one request. net/http
// would survive it too, but would drop the connection without a word.
func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				s.log.Error("webui: handler panicked", "panic", r, "method", c.Request().Method, "path", c.Request().URL.Path)
				err = echo.ErrInternalServerError
			}
		}()
		return next(c)
	}
}

// connMarkKey carries a connection's mark in its context (connContext).
type connMarkKey struct{}

// connContext gives each accepted connection the next mark: a change is
// confirmed only on a connection opened after it was applied.
func (s *Server) connContext(ctx context.Context, _ net.Conn) context.Context {
	return context.WithValue(ctx, connMarkKey{}, s.marks.Add(1))
}

// markRequest takes the request's connection mark, or a fresh mark for a
// request without one (the handler served directly). While a change is
// pending, responses on connections older than it close them, so the
// browser opens a new connection for the confirmation.
func (s *Server) markRequest(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		mark, ok := c.Request().Context().Value(connMarkKey{}).(uint64)
		if !ok {
			mark = s.marks.Add(1)
		}
		c.Set(ctxMark, mark)
		if pm := s.pendingMark.Load(); pm != 0 && mark <= pm {
			c.Response().Header().Set("Connection", "close")
		}
		return next(c)
	}
}

func markOf(c *echo.Context) uint64 {
	m, _ := c.Get(ctxMark).(uint64)
	return m
}

// principal is who a request acts as.
type principal struct {
	Actor     string // "admin" or "token:<name>"
	Via       string // viaSession or viaToken
	SessionID string
	TokenID   string
}

const (
	viaSession = "session"
	viaToken   = "token"

	ctxPrincipal = "rampart.principal"
	ctxSessionID = "rampart.sid" // the cookie value, logged in or not
	ctxMark      = "rampart.mark"
)

func principalOf(c *echo.Context) (principal, bool) {
	p, ok := c.Get(ctxPrincipal).(principal)
	return p, ok
}

func sessionIDOf(c *echo.Context) string {
	sid, _ := c.Get(ctxSessionID).(string)
	return sid
}

// authenticate finds the principal: an API token if the request has an
// Authorization header (cookies are then ignored, which is what makes
// token requests safe to exempt from CSRF), else the session cookie.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if h := c.Request().Header.Get("Authorization"); h != "" {
			p, err := s.bearer(c, h)
			if err != nil {
				return err
			}
			c.Set(ctxPrincipal, p)
			return next(c)
		}
		sid := sessionCookie(c.Request())
		if sid == "" {
			return next(c)
		}
		c.Set(ctxSessionID, sid)
		if sess, ok := s.sessions.Get(sid); ok {
			c.Set(ctxPrincipal, principal{Actor: sess.Actor, Via: viaSession, SessionID: sess.ID})
		}
		return next(c)
	}
}

// bearer checks an API token. Failures spend the same rate-limit budget
// as password guesses.
func (s *Server) bearer(c *echo.Context, header string) (principal, error) {
	scheme, secret, ok := strings.Cut(header, " ")
	if ok && strings.EqualFold(scheme, "Bearer") { // schemes are case-insensitive (RFC 9110)
		if t, ok := auth.MatchAPIToken(s.snapshot().Tokens, strings.TrimSpace(secret)); ok {
			return principal{Actor: "token:" + t.Name, Via: viaToken, TokenID: t.ID}, nil
		}
	}
	if !s.limiter.Allow(peerAddr(c)) {
		return principal{}, echo.NewHTTPError(http.StatusTooManyRequests, "too many failed attempts; wait and retry")
	}
	c.Response().Header().Set("WWW-Authenticate", `Bearer realm="rampart"`)
	return principal{}, echo.NewHTTPError(http.StatusUnauthorized, "invalid API token")
}

// requireSession admits logged-in browsers and sends others to log in.
func requireSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if p, ok := principalOf(c); ok && p.Via == viaSession {
			return next(c)
		}
		return c.Redirect(http.StatusSeeOther, "/login")
	}
}

// requireAPI admits a session or an API token.
func requireAPI(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if _, ok := principalOf(c); ok {
			return next(c)
		}
		return echo.NewHTTPError(http.StatusUnauthorized, "log in or send an API token")
	}
}
