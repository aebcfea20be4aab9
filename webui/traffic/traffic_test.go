package traffic

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"rampart/webui/chart"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func values(ps []chart.Point) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, fmt.Sprintf("%s=%v", p.T.Sub(t0), p.V))
	}
	return out
}

func TestRates(t *testing.T) {
	h := New(10*time.Second, time.Minute)
	h.Record(t0, "lan", 0, 0)
	h.Record(t0.Add(10*time.Second), "lan", 1000, 100)
	h.Record(t0.Add(20*time.Second), "lan", 500, 200)  // rx reset
	h.Record(t0.Add(30*time.Second), "lan", 1500, 300) //
	h.Record(t0.Add(90*time.Second), "lan", 2100, 900) // a pause: gap
	rx, tx := h.Rates("lan")
	want := []string{"10s=100", "20s=NaN", "30s=100", "1m30s=NaN"}
	if diff := cmp.Diff(want, values(rx)); diff != "" {
		t.Errorf("rx (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"10s=10", "20s=NaN", "30s=10", "1m30s=NaN"}, values(tx)); diff != "" {
		t.Errorf("tx (-want +got):\n%s", diff)
	}
	if rx, _ := h.Rates("nosuch"); rx != nil {
		t.Error("rates for an unknown interface")
	}
}

func TestBounded(t *testing.T) {
	h := New(time.Second, 10*time.Second)
	for i := range 100 {
		h.Record(t0.Add(time.Duration(i)*time.Second), "wan", uint64(i*10), 0)
	}
	rx, _ := h.Rates("wan")
	if len(rx) != 11 || rx[len(rx)-1].T != t0.Add(99*time.Second) || math.Abs(rx[0].V-10) > 1e-9 {
		t.Errorf("got %d points ending %v; want the last 11, ending at 99s", len(rx), rx[len(rx)-1].T.Sub(t0))
	}
	h.Record(t0.Add(200*time.Second), "lan", 0, 0)
	if rx, _ := h.Rates("wan"); rx != nil {
		t.Error("an interface silent for longer than the window was kept")
	}
}
