package webui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"time"

	"github.com/labstack/echo/v5"

	"rampart/config"
	"rampart/config/store"
	"rampart/webui/chart"
)

// statusView is the dashboard's data, also GET /api/v1/status.
type statusView struct {
	Version    store.Version     `json:"version"` // the last confirmed version
	Pending    *changeView       `json:"pending"`
	HA         HAStatus          `json:"ha"`
	StateSync  SyncStatus        `json:"statesync"`
	ConfigSync configSyncView    `json:"configsync"`
	Interfaces []InterfaceStatus `json:"interfaces"`
	Node       *NodeStatus       `json:"node,omitempty"`   // when the backend is a NodeViewer
	Errors     []string          `json:"errors,omitempty"` // views that could not be read
}

func (s *Server) status() statusView {
	_, v := s.be.Running()
	st := statusView{Version: v, HA: s.be.HA(), StateSync: s.be.StateSync(), ConfigSync: s.configSync(), Interfaces: []InterfaceStatus{}}
	if p, ok := s.pendingChange(); ok {
		st.Pending = &p
	}
	if nv, ok := s.be.(NodeViewer); ok {
		n := nv.Node()
		st.Node = &n
	}
	if ifs, err := s.be.Interfaces(); err != nil {
		st.Errors = append(st.Errors, "interfaces: "+err.Error())
	} else {
		st.Interfaces = ifs
	}
	return st
}

// dashboard adds what only the page shows: graphs and counters.
type dashboard struct {
	statusView
	Graphs   map[string]template.HTML
	Counters []RuleCounter
	Apply    Timing
}

func (s *Server) getDashboard(c *echo.Context) error {
	live, err := s.dashboardLive()
	if err != nil {
		return echo.ErrInternalServerError.Wrap(err)
	}
	return s.render(c, http.StatusOK, "dashboard.html", withNotice(c, s.page(c, "Dashboard", "dashboard", dashboardPage{Live: live})))
}

// dashboardPage is the dashboard page's data: its live part, drawn.
type dashboardPage struct{ Live template.HTML }

// getDashboardLive is the dashboard's live part alone, an HTML fragment
// that app.js puts in place of the old one every few seconds.
func (s *Server) getDashboardLive(c *echo.Context) error {
	live, err := s.dashboardLive()
	if err != nil {
		return echo.ErrInternalServerError.Wrap(err)
	}
	return c.HTMLBlob(http.StatusOK, []byte(live))
}

// liveTTL is how long the dashboard's drawn live part is served to
// everyone who asks: it holds no one's own data, drawing it is most of
// a dashboard request's cost, and it is refreshed every few seconds.
const liveTTL = 500 * time.Millisecond

// apply and commit are the backend's Apply and Commit, and drop the drawn
// live part: the next dashboard shows the change.
func (s *Server) apply(ctx context.Context, cfg *config.Config) error {
	defer s.liveStale()
	return s.be.Apply(ctx, cfg)
}

func (s *Server) commit(data []byte, meta store.Meta) (store.Version, error) {
	defer s.liveStale()
	return s.be.Commit(data, meta)
}

// liveStale drops the drawn live part.
func (s *Server) liveStale() {
	s.liveMu.Lock()
	s.live = ""
	s.liveMu.Unlock()
}

// dashboardLive draws the dashboard's live part, or returns the drawing
// of less than liveTTL ago. Concurrent requests wait for one drawing.
func (s *Server) dashboardLive() (template.HTML, error) {
	s.liveMu.Lock()
	defer s.liveMu.Unlock()
	now := s.now()
	if s.live != "" && !now.Before(s.liveAt) && now.Sub(s.liveAt) < liveTTL {
		return s.live, nil
	}
	t, ok := s.pages["dashboard.html"]
	if !ok {
		return "", errors.New("no dashboard template")
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "dashboard-live", s.dashboard()); err != nil {
		return "", fmt.Errorf("render the dashboard: %w", err)
	}
	s.live, s.liveAt = template.HTML(buf.String()), now // the template escaped it
	return s.live, nil
}

func (s *Server) dashboard() dashboard {
	d := dashboard{statusView: s.status(), Graphs: map[string]template.HTML{}}
	for _, i := range d.Interfaces {
		d.Graphs[i.Role] = template.HTML(s.trafficGraph(i.Role)) // chart escapes every text it writes
	}
	if fw, err := s.be.Firewall(); err != nil {
		d.Errors = append(d.Errors, "firewall: "+err.Error())
	} else {
		d.Counters, d.Apply = fw.Counters, fw.Apply
	}
	return d
}

func (s *Server) apiStatus(c *echo.Context) error {
	return c.JSON(http.StatusOK, s.status())
}

func (s *Server) apiConfigSync(c *echo.Context) error {
	return c.JSON(http.StatusOK, s.configSync())
}

type countersView struct {
	Counters []RuleCounter `json:"counters"`
	Apply    Timing        `json:"apply"`
}

func (s *Server) apiCounters(c *echo.Context) error {
	fw, err := s.be.Firewall()
	if err != nil {
		return changeError(err)
	}
	if fw.Counters == nil {
		fw.Counters = []RuleCounter{}
	}
	return c.JSON(http.StatusOK, countersView{Counters: fw.Counters, Apply: fw.Apply})
}

type interfacesView struct {
	Interfaces []InterfaceStatus `json:"interfaces"`
}

func (s *Server) apiInterfaces(c *echo.Context) error {
	ifs, err := s.be.Interfaces()
	if err != nil {
		return changeError(err)
	}
	if ifs == nil {
		ifs = []InterfaceStatus{}
	}
	return c.JSON(http.StatusOK, interfacesView{Interfaces: ifs})
}

// ratePoint is a traffic sample in JSON; a gap is null, as JSON has no NaN.
type ratePoint struct {
	T time.Time `json:"t"`
	V *float64  `json:"v"`
}

type trafficView struct {
	Role string      `json:"role"`
	Rx   []ratePoint `json:"rx_bytes_per_second"`
	Tx   []ratePoint `json:"tx_bytes_per_second"`
}

func jsonPoints(ps []chart.Point) []ratePoint {
	out := make([]ratePoint, 0, len(ps))
	for _, p := range ps {
		rp := ratePoint{T: p.T}
		if !math.IsNaN(p.V) && !math.IsInf(p.V, 0) {
			v := p.V
			rp.V = &v
		}
		out = append(out, rp)
	}
	return out
}

func (s *Server) apiTraffic(c *echo.Context) error {
	ifs, err := s.be.Interfaces()
	if err != nil {
		return changeError(err)
	}
	role := c.Param("role")
	for _, i := range ifs {
		if i.Role == role {
			tp := s.trafficOf(role)
			return c.JSON(http.StatusOK, trafficView{Role: role, Rx: jsonPoints(tp.Rx), Tx: jsonPoints(tp.Tx)})
		}
	}
	return echo.NewHTTPError(http.StatusNotFound, "no interface with that role")
}
