package webui

import (
	"net/http"

	"rampart/webui/session"
)

// cookieName carries the __Host- prefix: browsers accept it only with
// Secure, Path=/ and no Domain, so neither a sibling host nor a plain-HTTP
// attacker can plant or overwrite it.
const cookieName = "__Host-rampart_session"

// maxCookieLen bounds the id we accept; ours are 43 characters.
const maxCookieLen = 64

// sessionCookie returns the session id the browser sent, or "".
func sessionCookie(r *http.Request) string {
	c, err := r.Cookie(cookieName)
	if err != nil || len(c.Value) > maxCookieLen {
		return ""
	}
	return c.Value
}

// setSessionCookie sends id as a browser-session cookie: it has no
// expiry, so closing the browser ends it, and the server enforces the
// idle and absolute timeouts.
func setSessionCookie(w http.ResponseWriter, id string) {
	http.SetCookie(w, &http.Cookie{
		Name:     cookieName,
		Value:    id,
		Path:     "/",
		Secure:   true,
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
	})
}

func clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name:     cookieName,
		Value:    "",
		Path:     "/",
		MaxAge:   -1,
		Secure:   true,
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
	})
}

// ensureFormSession gives a visitor without a cookie a random id, so the
// login and setup forms have something to bind their CSRF token to. It is
// not stored: it becomes a session only at login, under a new id.
func ensureFormSession(w http.ResponseWriter, r *http.Request) string {
	if sid := sessionCookie(r); sid != "" {
		return sid
	}
	sid := session.NewID()
	setSessionCookie(w, sid)
	return sid
}
