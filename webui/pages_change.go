package webui

import (
	"net/http"

	"github.com/labstack/echo/v5"

	"rampart/config"
	"rampart/webui/linediff"
)

// diffContext is the number of equal lines shown around each change.
const diffContext = 3

// changePage shows the pending change and what it changes.
type changePage struct {
	Change *changeView
	Hunks  []linediff.Hunk
	Sync   configSyncView
}

func (s *Server) getChange(c *echo.Context) error {
	p := changePage{Sync: s.configSync()}
	s.changeMu.Lock()
	pending, ok := s.changes.Pending()
	s.changeMu.Unlock()
	if ok {
		v := s.viewOf(pending)
		p.Change = &v
		p.Hunks = configDiff(pending.Payload.Old, pending.Payload.New)
	}
	return s.render(c, http.StatusOK, "change.html", withNotice(c, s.page(c, "Pending change", "", p)))
}

// configDiff diffs two configs' canonical documents, secrets redacted.
func configDiff(a, b *config.Config) []linediff.Hunk {
	da, _ := config.Marshal(a)
	db, _ := config.Marshal(b)
	da, db, err := redactPair(da, db)
	if err != nil { // cannot happen for Marshal's output; show nothing rather than a secret
		return nil
	}
	return linediff.Hunks(linediff.Diff(linediff.Split(string(da)), linediff.Split(string(db))), diffContext)
}

func (s *Server) postConfirm(c *echo.Context) error {
	form, err := postForm(c)
	if err != nil {
		return err
	}
	if _, err := s.confirmChange(c, form.Get("id")); err != nil {
		return s.changeRefused(c, err)
	}
	return seeOther(c, "/change?done=confirmed")
}

func (s *Server) postRevert(c *echo.Context) error {
	form, err := postForm(c)
	if err != nil {
		return err
	}
	if err := s.revertChange(c, form.Get("id")); err != nil {
		return s.changeRefused(c, err)
	}
	return seeOther(c, "/change?done=reverted")
}

// changeRefused shows why a confirmation or revert was refused on the
// change page, with the buttons still there to try again.
func (s *Server) changeRefused(c *echo.Context, err error) error {
	he, ok := changeError(err).(*echo.HTTPError)
	if !ok || he.Code >= 500 {
		return changeError(err)
	}
	p := changePage{Sync: s.configSync()}
	s.changeMu.Lock()
	pending, found := s.changes.Pending()
	s.changeMu.Unlock()
	if found {
		v := s.viewOf(pending)
		p.Change = &v
		p.Hunks = configDiff(pending.Payload.Old, pending.Payload.New)
	}
	pd := s.page(c, "Pending change", "", p)
	pd.Error = sentence(he.Message)
	return s.render(c, he.Code, "change.html", pd)
}

type pendingView struct {
	Pending *changeView `json:"pending"`
}

func (s *Server) apiGetChange(c *echo.Context) error {
	var out pendingView
	if v, ok := s.pendingChange(); ok {
		out.Pending = &v
	}
	return c.JSON(http.StatusOK, out)
}

type changeIDRequest struct {
	ID string `json:"id"`
}

func (s *Server) apiConfirm(c *echo.Context) error {
	var req changeIDRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	res, err := s.confirmChange(c, req.ID)
	if err != nil {
		return changeError(err)
	}
	return c.JSON(http.StatusOK, res)
}

func (s *Server) apiRevert(c *echo.Context) error {
	var req changeIDRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := s.revertChange(c, req.ID); err != nil {
		return changeError(err)
	}
	return c.NoContent(http.StatusNoContent)
}
