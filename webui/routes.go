package webui

import (
	"github.com/labstack/echo/v5"
)

// routes builds the echo instance. Middleware order matters: headers go on
// every response, errors included; the body bound comes before anything
// reads a form; authentication before CSRF, which needs the session.
func (s *Server) routes() *echo.Echo {
	e := echo.NewWithConfig(echo.Config{
		Logger:           s.log,
		IPExtractor:      echo.ExtractIPDirect(), // never X-Forwarded-For
		HTTPErrorHandler: s.handleError,
		// A wrong method on a known API path is a 405, not a 404.
		NoGroupAutoRegister404Routes: true,
	})
	e.Use(s.recoverPanics, securityHeaders, limitBody, s.authenticate, s.checkCSRF)

	e.GET("/static/:name", serveStatic)

	e.GET("/setup", s.getSetup)
	e.POST("/setup", s.postSetup)
	e.GET("/login", s.getLogin)
	e.POST("/login", s.postLogin)
	e.POST("/logout", s.postLogout, requireSession)
	e.GET("/", s.getIndex, requireSession)

	api := e.Group("/api/v1", requireAPI)
	api.GET("/session", s.apiSession)
	api.GET("/tokens", s.apiListTokens)
	api.POST("/tokens", s.apiCreateToken)
	api.DELETE("/tokens/:id", s.apiRevokeToken)
	return e
}
