package webui

import (
	"net/http"

	"github.com/labstack/echo/v5"
)

// haPage is the HA settings page: status, maintenance, and the editable
// groups and health checks.
type haPage struct {
	Status      HAStatus
	Configured  bool
	Maintenance bool
	Sections    []sectionView
}

func (s *Server) getHA(c *echo.Context) error {
	return s.renderHA(c, http.StatusOK, "")
}

func (s *Server) renderHA(c *echo.Context, code int, errMsg string) error {
	views, err := s.sectionViews("ha", nil)
	if err != nil {
		return changeError(err)
	}
	cur, _ := s.be.Running()
	p := haPage{Status: s.be.HA(), Configured: cur != nil && cur.HA != nil, Sections: views}
	if p.Configured {
		p.Maintenance = cur.HA.Maintenance
	}
	pd := withNotice(c, s.page(c, "High availability", "ha", p))
	pd.Error = errMsg
	return s.render(c, code, "ha.html", pd)
}

// postMaintenance is the one button: enabled=1 or 0.
func (s *Server) postMaintenance(c *echo.Context) error {
	form, err := postForm(c)
	if err != nil {
		return err
	}
	if err := s.setMaintenance(c, form.Get("enabled") == "1"); err != nil {
		he := changeError(err)
		if e, ok := he.(*echo.HTTPError); ok && e.Code < 500 {
			return s.renderHA(c, e.Code, sentence(e.Message))
		}
		return he
	}
	return seeOther(c, "/ha?done=maintenance")
}

type maintenanceRequest struct {
	Enabled *bool `json:"enabled"`
}

type maintenanceView struct {
	Enabled bool `json:"enabled"`
}

func (s *Server) apiMaintenance(c *echo.Context) error {
	var req maintenanceRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Enabled == nil {
		return echo.NewHTTPError(http.StatusBadRequest, "enabled is required: true or false")
	}
	if err := s.setMaintenance(c, *req.Enabled); err != nil {
		return changeError(err)
	}
	return c.JSON(http.StatusOK, maintenanceView{Enabled: *req.Enabled})
}
