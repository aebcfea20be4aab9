package webui

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v5"
)

// page fills what every logged-in page shows: the user, the CSRF token,
// the menu, and the pending change.
func (s *Server) page(c *echo.Context, title, nav string, data any) pageData {
	p, _ := principalOf(c)
	pd := pageData{Title: title, Actor: p.Actor, CSRF: s.csrfToken(p.SessionID), Nav: nav, Data: data}
	if v, ok := s.pendingChange(); ok {
		pd.Pending = &v
	}
	return pd
}

// notice is the message a redirect may ask a page to show, by code, so
// that no URL can make the page say anything else.
func notice(code string) string {
	switch code {
	case "proposed":
		return "The change is applied. Confirm it below, or it reverts by itself."
	case "confirmed":
		return "The change is confirmed and stored."
	case "reverted":
		return "The change was reverted."
	case "maintenance":
		return "Maintenance mode changed."
	}
	return ""
}

func withNotice(c *echo.Context, pd pageData) pageData {
	pd.Notice = notice(c.QueryParam("done"))
	return pd
}

// seeOther redirects after a successful form post.
func seeOther(c *echo.Context, to string) error {
	return c.Redirect(http.StatusSeeOther, to)
}

// atoiDefault parses a non-negative query number, or returns def.
func atoiDefault(s string, def int) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return def
	}
	return n
}
