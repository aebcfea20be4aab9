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
	e.Use(s.recoverPanics, securityHeaders, s.markRequest, limitBody, s.authenticate, s.checkCSRF)

	e.GET("/static/:name", serveStatic)

	e.GET("/setup", s.getSetup)
	e.POST("/setup", s.postSetup)
	e.GET("/login", s.getLogin)
	e.POST("/login", s.postLogin)
	e.POST("/logout", s.postLogout, requireSession)
	s.pageRoutes(e)

	// /metrics takes a session or an API token, like the API.
	e.GET("/metrics", s.getMetrics, requireAPI)

	api := e.Group("/api/v1", requireAPI)
	api.GET("/openapi.yaml", serveOpenAPI)
	api.GET("/session", s.apiSession)
	api.GET("/tokens", s.apiListTokens)
	api.POST("/tokens", s.apiCreateToken)
	api.DELETE("/tokens/:id", s.apiRevokeToken)
	s.apiRoutes(api)
	return e
}

// pageRoutes are the server-rendered pages; forms post back to them.
func (s *Server) pageRoutes(e *echo.Echo) {
	g := e.Group("", requireSession)
	g.GET("/", s.getDashboard)
	g.GET("/dashboard/live", s.getDashboardLive)
	g.GET("/rules", s.getRules)
	g.GET("/ha", s.getHA)
	g.POST("/maintenance", s.postMaintenance)
	g.GET("/edit/:section", s.getNewItem)
	g.POST("/edit/:section", s.postNewItem)
	g.GET("/edit/:section/:key", s.getEditItem)
	g.POST("/edit/:section/:key", s.postEditItem)
	g.POST("/edit/:section/:key/delete", s.postDeleteItem)
	g.POST("/edit/:section/:key/move", s.postMoveItem)
	g.GET("/change", s.getChange)
	g.POST("/change/confirm", s.postConfirm)
	g.POST("/change/revert", s.postRevert)
	g.GET("/connections", s.getConnections)
	g.GET("/log", s.getLog)
	g.GET("/history", s.getHistory)
	g.GET("/history/diff", s.getDiff)
	g.GET("/history/:id", s.getVersion)
	g.POST("/history/:id/revert", s.postRevertVersion)
}

// apiRoutes mirror the pages for scripts; openapi.yaml documents each,
// and TestOpenAPICoversRoutes keeps the two in step.
func (s *Server) apiRoutes(api *echo.Group) {
	api.GET("/status", s.apiStatus)
	api.GET("/interfaces", s.apiInterfaces)
	api.GET("/interfaces/:role/traffic", s.apiTraffic)
	api.GET("/counters", s.apiCounters)
	api.GET("/conntrack", s.apiConntrack)
	api.GET("/logs", s.apiLogs)
	api.GET("/configsync", s.apiConfigSync)
	api.PUT("/maintenance", s.apiMaintenance)

	api.GET("/config", s.apiGetConfig)
	api.PUT("/config", s.apiPutConfig)
	for _, sec := range s.sections {
		s.sectionAPI(api, sec)
	}

	api.GET("/change", s.apiGetChange)
	api.POST("/change/confirm", s.apiConfirm)
	api.POST("/change/revert", s.apiRevert)

	api.GET("/history", s.apiHistory)
	api.GET("/history/diff", s.apiDiff)
	api.GET("/history/:id", s.apiVersion)
	api.POST("/history/:id/revert", s.apiRevertVersion)
}
