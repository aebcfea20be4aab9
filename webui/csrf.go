package webui

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v5"
)

// CSRF defence, two layers.
//
// The synchronizer token is bound to the session: it is the HMAC of the
// session id under a key made at boot. It cannot be forged without the
// key, differs per session, changes when login rotates the id, and dies
// with the session. Being derived rather than stored, it also protects the
// login and setup forms, whose "session" is only a random cookie, without
// keeping anything in memory for anonymous visitors.
//
// The Origin and Sec-Fetch-Site headers, which browsers set and pages
// cannot forge, refuse cross-site requests outright.
//
// Requests with an API token carry no ambient credential (authenticate
// ignores cookies for them), so they need neither layer.
const (
	csrfHeader = "X-CSRF-Token"
	csrfField  = "csrf_token"
)

func (s *Server) csrfToken(sessionID string) string {
	mac := hmac.New(sha256.New, s.csrfKey)
	mac.Write([]byte("rampart-csrf\x00"))
	mac.Write([]byte(sessionID))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func (s *Server) csrfValid(sessionID, token string) bool {
	if sessionID == "" || token == "" {
		return false
	}
	return hmac.Equal([]byte(token), []byte(s.csrfToken(sessionID)))
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// checkCSRF guards every request but GET, HEAD and OPTIONS, which never
// change anything here.
func (s *Server) checkCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		r := c.Request()
		if safeMethod(r.Method) {
			return next(c)
		}
		if p, ok := principalOf(c); ok && p.Via == viaToken {
			return next(c)
		}
		if err := checkOrigin(r); err != nil {
			return err
		}
		token := r.Header.Get(csrfHeader)
		if token == "" && isForm(r) {
			if err := r.ParseForm(); err != nil {
				return bodyError(err)
			}
			token = r.PostForm.Get(csrfField)
		}
		if !s.csrfValid(sessionIDOf(c), token) {
			return echo.NewHTTPError(http.StatusForbidden, "the form has expired or came from another site; reload the page and try again")
		}
		return next(c)
	}
}

// checkOrigin refuses requests a browser marks as cross-site. Clients that
// send neither header (curl, old browsers) still need the CSRF token.
func checkOrigin(r *http.Request) error {
	site := r.Header.Get("Sec-Fetch-Site")
	switch site {
	case "", "same-origin":
	default:
		return echo.NewHTTPError(http.StatusForbidden, "cross-site request refused")
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	// Under our Referrer-Policy: no-referrer, browsers send "Origin: null"
	// on their own same-origin form posts (Fetch: serializing a request
	// origin). Sec-Fetch-Site, which pages cannot forge, vouches for those.
	if origin == "null" && site == "same-origin" {
		return nil
	}
	scheme := "https"
	if r.TLS == nil {
		scheme = "http"
	}
	if !strings.EqualFold(origin, scheme+"://"+r.Host) {
		return echo.NewHTTPError(http.StatusForbidden, "cross-origin request refused")
	}
	return nil
}

func isForm(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/x-www-form-urlencoded"
}
