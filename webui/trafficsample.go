package webui

import (
	"context"
	"time"

	"rampart/webui/chart"
)

// sampleTraffic records every interface's counters once; the listener
// calls it every traffic interval.
func (s *Server) sampleTraffic() {
	ifs, err := s.be.Interfaces()
	if err != nil {
		return
	}
	now := s.now()
	s.trafficMu.Lock()
	defer s.trafficMu.Unlock()
	for _, i := range ifs {
		s.traffic.Record(now, i.Role, i.RxBytes, i.TxBytes)
	}
	s.trafficGen++
}

// sampleTrafficEvery samples until ctx ends. It uses a real ticker: the
// samples carry s.now(), and tests call sampleTraffic directly.
func (s *Server) sampleTrafficEvery(ctx context.Context) {
	s.sampleTraffic()
	t := time.NewTicker(s.traffic.Interval())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.sampleTraffic()
		}
	}
}

// trafficPoints is one interface's rates for the last hour.
type trafficPoints struct {
	Role string        `json:"role"`
	Rx   []chart.Point `json:"rx"`
	Tx   []chart.Point `json:"tx"`
}

func (s *Server) trafficOf(role string) trafficPoints {
	s.trafficMu.Lock()
	defer s.trafficMu.Unlock()
	rx, tx := s.traffic.Rates(role)
	return trafficPoints{Role: role, Rx: rx, Tx: tx}
}

// trafficGraph renders one interface's last hour as SVG. The drawing is
// kept until the next sample: the data changes only then, and drawing
// it was an eighth of the dashboard's cost under load (bench-ui).
func (s *Server) trafficGraph(role string) []byte {
	s.trafficMu.Lock()
	gen := s.trafficGen
	if g, ok := s.graphs[role]; ok && g.gen == gen {
		s.trafficMu.Unlock()
		return g.svg
	}
	rx, tx := s.traffic.Rates(role)
	s.trafficMu.Unlock()
	now := s.now()
	g := chart.Line{Title: "Traffic on " + role + ", last hour", Unit: "B/s", Start: now.Add(-time.Hour), End: now,
		Series: []chart.Series{{Name: "in", Class: "s1", Points: rx}, {Name: "out", Class: "s2", Points: tx}}}
	svg := g.SVG()
	s.trafficMu.Lock()
	if s.graphs == nil {
		s.graphs = map[string]cachedGraph{}
	}
	s.graphs[role] = cachedGraph{gen: gen, svg: svg}
	s.trafficMu.Unlock()
	return svg
}

// cachedGraph is a traffic graph drawn from the samples up to gen.
type cachedGraph struct {
	gen uint64
	svg []byte
}
