package auth

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time          { return c.t }
func (c *fakeClock) Advance(d time.Duration) { c.t = c.t.Add(d) }

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func TestSetupTokenShape(t *testing.T) {
	clk := newClock()
	s := NewSetup(time.Hour, clk.Now, nil)
	tok, exp := s.Current()
	if !regexp.MustCompile(`^([A-Z2-7]{4}-){7}[A-Z2-7]{4}$`).MatchString(tok) {
		t.Errorf("token %q is not 8 dash-separated base32 groups", tok)
	}
	if want := clk.t.Add(time.Hour); !exp.Equal(want) {
		t.Errorf("expires %v, want %v", exp, want)
	}
	if again, _ := s.Current(); again != tok {
		t.Errorf("Current changed a live token: %q then %q", tok, again)
	}
}

func TestSetupTokenCheck(t *testing.T) {
	clk := newClock()
	var printed []string
	s := NewSetup(time.Hour, clk.Now, func(tok string, _ time.Time) { printed = append(printed, tok) })
	tok, _ := s.Current()
	wrong := "B" + tok[1:]
	if tok[0] == 'B' {
		wrong = "C" + tok[1:]
	}
	if s.Check(wrong) {
		t.Error("Check accepted a wrong token")
	}
	if s.Check("") {
		t.Error("Check accepted an empty token")
	}
	if !s.Check(strings.ToLower(strings.ReplaceAll(tok, "-", " "))) {
		t.Error("Check refused the token typed in lower case with spaces")
	}
	clk.Advance(time.Hour)
	if s.Check(tok) {
		t.Error("Check accepted an expired token")
	}
	fresh, _ := s.Current()
	if fresh == tok || !s.Check(fresh) {
		t.Errorf("after expiry Current gave %q (old %q), want a fresh valid token", fresh, tok)
	}
	if len(printed) != 2 {
		t.Errorf("issued callback ran %d times, want 2 (first token and its replacement)", len(printed))
	}
	s.Redeem()
	if s.Check(fresh) {
		t.Error("Check accepted a redeemed token")
	}
	if again, _ := s.Current(); again != "" {
		t.Errorf("Current after Redeem = %q, want none", again)
	}
}
