package linediff

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// render writes a diff as " a", "-b", "+c".
func render(ls []Line) []string {
	out := []string{}
	for _, l := range ls {
		out = append(out, string(l.Op)+l.Text)
	}
	return out
}

func TestDiff(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b string
		want []string
	}{
		{"equal", "x\ny\n", "x\ny\n", []string{" x", " y"}},
		{"both empty", "", "", []string{}},
		{"from empty", "", "a\nb\n", []string{"+a", "+b"}},
		{"to empty", "a\n", "", []string{"-a"}},
		{"insert middle", "a\nc\n", "a\nb\nc\n", []string{" a", "+b", " c"}},
		{"delete middle", "a\nb\nc\n", "a\nc\n", []string{" a", "-b", " c"}},
		{"change", "a\nb\nc\n", "a\nB\nc\n", []string{" a", "-b", "+B", " c"}},
		{"abcabba to cbabac", "a\nb\nc\na\nb\nb\na\n", "c\nb\na\nb\na\nc\n",
			// Myers' paper example: five edits.
			[]string{"-a", "-b", " c", "+b", " a", " b", "-b", " a", "+c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := render(Diff(Split(tc.a), Split(tc.b)))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("diff (-want +got):\n%s", diff)
			}
		})
	}
}

// apply rebuilds both sides from a diff, checking the line numbers.
func apply(t *testing.T, ls []Line) (a, b []string) {
	t.Helper()
	for _, l := range ls {
		if l.Op != Insert {
			a = append(a, l.Text)
			if l.A != len(a) {
				t.Fatalf("line %q: A = %d, want %d", l.Text, l.A, len(a))
			}
		}
		if l.Op != Delete {
			b = append(b, l.Text)
			if l.B != len(b) {
				t.Fatalf("line %q: B = %d, want %d", l.Text, l.B, len(b))
			}
		}
	}
	return a, b
}

func TestDiffRandomIsCorrectAndShort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		a := randomLines(r, r.IntN(30))
		b := mutate(r, a)
		ls := Diff(a, b)
		gotA, gotB := apply(t, ls)
		if !slicesEqual(a, gotA) || !slicesEqual(b, gotB) {
			t.Fatalf("case %d: the diff does not rebuild its inputs", i)
		}
		if edits, lcs := count(ls), lcsLen(a, b); edits != len(a)+len(b)-2*lcs {
			t.Fatalf("case %d: %d edits, minimum is %d", i, edits, len(a)+len(b)-2*lcs)
		}
	}
}

func TestDiffBounded(t *testing.T) {
	var a, b []string
	for i := range 3 * MaxEdits {
		a = append(a, fmt.Sprint("a", i))
		b = append(b, fmt.Sprint("b", i))
	}
	a = append([]string{"head"}, append(a, "tail")...)
	b = append([]string{"head"}, append(b, "tail")...)
	ls := Diff(a, b)
	gotA, gotB := apply(t, ls)
	if !slicesEqual(a, gotA) || !slicesEqual(b, gotB) {
		t.Fatal("the bounded diff does not rebuild its inputs")
	}
	if ls[0].Op != Equal || ls[len(ls)-1].Op != Equal {
		t.Error("the common head and tail were not kept equal")
	}
}

func TestHunks(t *testing.T) {
	var a []string
	for i := 1; i <= 20; i++ {
		a = append(a, fmt.Sprint(i))
	}
	b := append([]string(nil), a...)
	b[1] = "two"  // line 2
	b[4] = "five" // line 5: within 2*3 of line 2, same hunk
	b[16] = "17!" // a hunk of its own
	hs := Hunks(Diff(a, b), 3)
	type head struct{ AStart, ALen, BStart, BLen int }
	var got []head
	for _, h := range hs {
		got = append(got, head{h.AStart, h.ALen, h.BStart, h.BLen})
	}
	want := []head{{1, 8, 1, 8}, {14, 7, 14, 7}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("hunks (-want +got):\n%s", diff)
	}
	if got := render(hs[1].Lines); !cmp.Equal(got, []string{" 14", " 15", " 16", "-17", "+17!", " 18", " 19", " 20"}) {
		t.Errorf("second hunk %q", got)
	}
	if hs := Hunks(Diff(a, a), 3); len(hs) != 0 {
		t.Errorf("equal texts gave %d hunks", len(hs))
	}
}

func randomLines(r *rand.Rand, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = string(rune('a' + r.IntN(4)))
	}
	return out
}

func mutate(r *rand.Rand, a []string) []string {
	b := append([]string(nil), a...)
	for range r.IntN(8) {
		switch i := r.IntN(len(b) + 1); r.IntN(3) {
		case 0:
			b = append(b[:i], append([]string{string(rune('a' + r.IntN(5)))}, b[i:]...)...)
		case 1:
			if i < len(b) {
				b = append(b[:i], b[i+1:]...)
			}
		default:
			if i < len(b) {
				b[i] = strings.ToUpper(b[i])
			}
		}
	}
	return b
}

func count(ls []Line) int {
	n := 0
	for _, l := range ls {
		if l.Op != Equal {
			n++
		}
	}
	return n
}

func lcsLen(a, b []string) int {
	dp := make([][]int, len(a)+1)
	for i := range dp {
		dp[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	return dp[0][0]
}

func slicesEqual(a, b []string) bool {
	return strings.Join(a, "\n") == strings.Join(b, "\n") && len(a) == len(b)
}
