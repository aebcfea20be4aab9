// Package chart renders line graphs as SVG on the server, so the UI needs
// no script library and the CSP stays strict. Output uses classes and
// presentation attributes only (no style attributes, which the CSP's
// style-src would block), and every text is escaped.
package chart

import (
	"bytes"
	"fmt"
	"html"
	"math"
	"time"
)

// Point is one sample. A NaN value is a gap: the line breaks there.
type Point struct {
	T time.Time
	V float64
}

// Series is one line. Class styles it from the stylesheet (s1, s2, ...).
type Series struct {
	Name   string
	Class  string
	Points []Point
}

// Line is a time-series graph over [Start, End].
type Line struct {
	Title         string
	Width, Height int    // in SVG units; zero takes 600×160
	Unit          string // appended to y labels, e.g. "B/s"
	Start, End    time.Time
	Series        []Series
}

// Margins leave room for the axis labels.
const (
	marginLeft   = 64
	marginRight  = 8
	marginTop    = 8
	marginBottom = 22
	yTicks       = 4
)

// SVG renders the graph. Points outside [Start, End] are left out; an
// empty or all-zero graph still draws its axes.
func (g Line) SVG() []byte {
	if g.Width <= 0 || g.Height <= 0 {
		g.Width, g.Height = 600, 160
	}
	if !g.End.After(g.Start) {
		g.End = g.Start.Add(time.Hour)
	}
	p := plot{g: g, top: niceCeil(g.maxValue())}
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s">`,
		g.Width, g.Height, html.EscapeString(g.Title))
	fmt.Fprintf(&b, `<title>%s</title>`, html.EscapeString(g.Title))
	p.grid(&b)
	for _, s := range g.Series {
		p.line(&b, s)
	}
	p.legend(&b)
	b.WriteString(`</svg>`)
	return b.Bytes()
}

func (g Line) maxValue() float64 {
	top := 0.0
	for _, s := range g.Series {
		for _, pt := range s.Points {
			if g.inside(pt) && pt.V > top && !math.IsInf(pt.V, 0) {
				top = pt.V
			}
		}
	}
	return top
}

func (g Line) inside(pt Point) bool {
	return !pt.T.Before(g.Start) && !pt.T.After(g.End) && !math.IsNaN(pt.V)
}

// niceCeil rounds up to 1, 2 or 5 times a power of ten, so the y labels
// are round; 0 becomes 1 so an idle graph has a scale.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	exp := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*exp {
			return m * exp
		}
	}
	return 10 * exp
}

type plot struct {
	g   Line
	top float64
}

func (p plot) x(t time.Time) float64 {
	w := float64(p.g.Width - marginLeft - marginRight)
	return marginLeft + w*float64(t.Sub(p.g.Start))/float64(p.g.End.Sub(p.g.Start))
}

func (p plot) y(v float64) float64 {
	h := float64(p.g.Height - marginTop - marginBottom)
	return marginTop + h*(1-math.Min(v, p.top)/p.top)
}

func (p plot) grid(b *bytes.Buffer) {
	x0, x1 := float64(marginLeft), float64(p.g.Width-marginRight)
	for i := 0; i <= yTicks; i++ {
		v := p.top * float64(i) / yTicks
		y := p.y(v)
		fmt.Fprintf(b, `<line class="grid" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, x0, y, x1, y)
		fmt.Fprintf(b, `<text class="label" x="%d" y="%.1f" text-anchor="end">%s</text>`,
			marginLeft-4, y+4, html.EscapeString(SI(v)+p.g.Unit))
	}
	step := timeStep(p.g.End.Sub(p.g.Start))
	for t := p.g.Start.Truncate(step); !t.After(p.g.End); t = t.Add(step) {
		if t.Before(p.g.Start) {
			continue
		}
		fmt.Fprintf(b, `<text class="label" x="%.1f" y="%d" text-anchor="middle">%s</text>`,
			p.x(t), p.g.Height-6, t.Format("15:04"))
	}
}

// timeStep picks about six x labels.
func timeStep(span time.Duration) time.Duration {
	for _, s := range []time.Duration{time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour, 6 * time.Hour} {
		if span/s <= 6 {
			return s
		}
	}
	return 24 * time.Hour
}

// line draws one polyline per unbroken run of points.
func (p plot) line(b *bytes.Buffer, s Series) {
	var run []Point
	flush := func() {
		if len(run) > 0 {
			fmt.Fprintf(b, `<polyline class="%s" fill="none" points="`, html.EscapeString("line "+s.Class))
			for i, pt := range run {
				if i > 0 {
					b.WriteByte(' ')
				}
				fmt.Fprintf(b, "%.1f,%.1f", p.x(pt.T), p.y(pt.V))
			}
			b.WriteString(`"/>`)
		}
		run = run[:0]
	}
	for _, pt := range s.Points {
		if p.g.inside(pt) && !math.IsInf(pt.V, 0) {
			run = append(run, pt)
		} else {
			flush()
		}
	}
	flush()
}

func (p plot) legend(b *bytes.Buffer) {
	x := marginLeft + 8
	for _, s := range p.g.Series {
		fmt.Fprintf(b, `<text class="%s" x="%d" y="%d">%s</text>`,
			html.EscapeString("legend "+s.Class), x, marginTop+12, html.EscapeString(s.Name))
		x += 10 + 8*len([]rune(s.Name))
	}
}

// SI formats v with an SI prefix: 0, 950, 1.5k, 12M.
func SI(v float64) string {
	for _, u := range []struct {
		div    float64
		prefix string
	}{{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if math.Abs(v) >= u.div {
			return trim(v/u.div) + u.prefix
		}
	}
	return trim(v)
}

func trim(v float64) string {
	if v == math.Trunc(v) || math.Abs(v) >= 100 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.3g", v)
}
