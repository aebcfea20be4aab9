package chart

import (
	"encoding/xml"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// polylines returns the points attributes of the graph's lines.
func polylines(svg string) []string {
	re := regexp.MustCompile(`<polyline class="[^"]*" fill="none" points="([^"]*)"/>`)
	var out []string
	for _, m := range re.FindAllStringSubmatch(svg, -1) {
		out = append(out, m[1])
	}
	return out
}

func wellFormed(t *testing.T, svg []byte) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(string(svg)))
	for {
		_, err := d.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("not well-formed XML: %v\n%s", err, svg)
			}
			return
		}
	}
}

func TestLineCoordinates(t *testing.T) {
	g := Line{Title: "lan", Width: 164, Height: 130, Start: t0, End: t0.Add(100 * time.Second), Unit: "B/s",
		Series: []Series{{Name: "rx", Class: "s1", Points: []Point{
			{t0, 0}, {t0.Add(50 * time.Second), 50}, {t0.Add(100 * time.Second), 100},
		}}}}
	svg := g.SVG()
	wellFormed(t, svg)
	// Plot area: x 64..156 (92 wide), y 8..108 (100 high), top 100.
	want := []string{"64.0,108.0 110.0,58.0 156.0,8.0"}
	if diff := cmp.Diff(want, polylines(string(svg))); diff != "" {
		t.Errorf("polylines (-want +got):\n%s", diff)
	}
	for _, label := range []string{">100B/s<", ">50B/s<", ">0B/s<", ">12:00<"} {
		if !strings.Contains(string(svg), label) {
			t.Errorf("no label %s", label)
		}
	}
}

func TestLineGapsAndClipping(t *testing.T) {
	g := Line{Start: t0, End: t0.Add(time.Hour), Series: []Series{{Name: "tx", Points: []Point{
		{t0.Add(-time.Minute), 5}, // before the window: left out
		{t0, 1}, {t0.Add(time.Minute), 2},
		{t0.Add(2 * time.Minute), math.NaN()}, // a gap
		{t0.Add(3 * time.Minute), 3}, {t0.Add(4 * time.Minute), math.Inf(1)},
		{t0.Add(5 * time.Minute), 4},
	}}}}
	svg := string(g.SVG())
	if got := len(polylines(svg)); got != 3 {
		t.Errorf("%d polylines, want 3 (breaks at the NaN and the Inf)", got)
	}
	if strings.Contains(svg, "NaN") || strings.Contains(svg, "Inf") {
		t.Error("NaN or Inf reached the output")
	}
}

func TestLineEmptyAndEscaped(t *testing.T) {
	g := Line{Title: `<script>"x"&`, Start: t0, End: t0.Add(time.Hour),
		Series: []Series{{Name: "</text><script>", Class: `s1" onload="x`, Points: []Point{{t0, 0}, {t0.Add(time.Minute), 0}}}}}
	svg := g.SVG()
	wellFormed(t, svg)
	s := string(svg)
	if strings.Contains(s, "<script>") || strings.Contains(s, `" onload="`) {
		t.Errorf("unescaped text in %s", s)
	}
	if strings.Contains(s, "NaN") || len(polylines(s)) != 1 {
		t.Errorf("an all-zero series: %s", s)
	}
	empty := string(Line{}.SVG())
	if !strings.Contains(empty, `viewBox="0 0 600 160"`) || strings.Contains(empty, "polyline") {
		t.Errorf("empty graph: %s", empty)
	}
}

func TestNiceCeilAndSI(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want float64
	}{{0, 1}, {0.3, 0.5}, {1, 1}, {1.01, 2}, {3, 5}, {7, 10}, {99, 100}, {1234, 2000}} {
		if got := niceCeil(tc.v); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("niceCeil(%v) = %v, want %v", tc.v, got, tc.want)
		}
	}
	got := []string{SI(0), SI(950), SI(1500), SI(2e6), SI(12.5e9), SI(0.25)}
	want := []string{"0", "950", "1.5k", "2M", "12.5G", "0.25"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SI (-want +got):\n%s", diff)
	}
}
