package webui

import (
	"net/http"

	"github.com/labstack/echo/v5"
)

// connPage is one page of the connection table.
type connPage struct {
	Query      string
	Page, Last int // 1-based
	ConnPage
}

func (s *Server) getConnections(c *echo.Context) error {
	q := clip(c.QueryParam("q"), maxSearchTerm)
	page := max(atoiDefault(c.QueryParam("page"), 1), 1)
	res, err := s.be.Conntrack(c.Request().Context(), ConnQuery{Search: q, Offset: (page - 1) * connPageSize, Limit: connPageSize})
	if err != nil {
		return changeError(err)
	}
	last := max((res.Total+connPageSize-1)/connPageSize, 1)
	return s.render(c, http.StatusOK, "connections.html", s.page(c, "Connections", "connections", connPage{Query: q, Page: page, Last: last, ConnPage: res}))
}

func (s *Server) apiConntrack(c *echo.Context) error {
	limit := atoiDefault(c.QueryParam("limit"), connPageSize)
	if limit < 1 || limit > maxConnLimit {
		return echo.NewHTTPError(http.StatusBadRequest, "limit is 1 to 500")
	}
	q := ConnQuery{Search: clip(c.QueryParam("q"), maxSearchTerm), Offset: atoiDefault(c.QueryParam("offset"), 0), Limit: limit}
	res, err := s.be.Conntrack(c.Request().Context(), q)
	if err != nil {
		return changeError(err)
	}
	if res.Entries == nil {
		res.Entries = []ConnEntry{}
	}
	return c.JSON(http.StatusOK, res)
}

// Live log bounds: what one poll returns.
const (
	logBatch    = 200
	maxLogLimit = 1000
)

func (s *Server) getLog(c *echo.Context) error {
	return s.render(c, http.StatusOK, "log.html", s.page(c, "Live log", "log", nil))
}

type logView struct {
	Lines []LogLine `json:"lines"`
	// Next is the after= for the next poll: the last Seq returned, or the
	// one asked for when nothing is new.
	Next uint64 `json:"next"`
}

func (s *Server) apiLogs(c *echo.Context) error {
	limit := atoiDefault(c.QueryParam("limit"), logBatch)
	if limit < 1 || limit > maxLogLimit {
		return echo.NewHTTPError(http.StatusBadRequest, "limit is 1 to 1000")
	}
	after, err := parseSeq(c.QueryParam("after"))
	if err != nil {
		return err
	}
	lines := s.be.Logs(after, limit)
	if len(lines) > limit {
		lines = lines[:limit]
	}
	out := logView{Lines: lines, Next: after}
	if out.Lines == nil {
		out.Lines = []LogLine{}
	}
	if n := len(lines); n > 0 {
		out.Next = lines[n-1].Seq
	}
	return c.JSON(http.StatusOK, out)
}
