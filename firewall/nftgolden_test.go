package firewall

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rampart/internal/netns"
)

// These tests load rulesets with the nft binary (Debian package nftables)
// and compare `nft list ruleset` with what Apply built, so they catch
// any difference nft can see: bytecode, set flags and types, elements.

func needNft(t *testing.T) {
	t.Helper()
	needRoot(t)
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("needs the nft binary (Debian package nftables)")
	}
}

var (
	counterRE  = regexp.MustCompile(`counter packets \d+ bytes \d+`)
	counter2RE = regexp.MustCompile(`counter pkts \d+ bytes \d+`)
	handleRE   = regexp.MustCompile(`(?m)^(inet \S+ \S+)( \d+)+$`)
	elementsRE = regexp.MustCompile(`elements = \{[^}]*\}`)
)

// sortElements orders the elements of a set listing: a pipapo map lists
// them in insertion order, which a differential apply changes.
func sortElements(block string) string {
	inner := strings.TrimSuffix(strings.TrimPrefix(block, "elements = {"), "}")
	elems := strings.Split(inner, ",")
	for i := range elems {
		elems[i] = strings.TrimSpace(elems[i])
	}
	slices.Sort(elems)
	return "elements = { " + strings.Join(elems, ", ") + " }"
}

// listRuleset prints a namespace's ruleset as the bytecode nft decodes
// followed by nft syntax (nft --debug=netlink list ruleset), without what
// differs between two equal rulesets: counter values, rule handles, the
// order of sets and chains in a table and of elements in a set (a
// differential apply appends; a hash set has its own random seed). The
// order of rules in a chain is kept.
func listRuleset(t *testing.T, ns *netns.NS) string {
	t.Helper()
	out, err := ns.Output("nft", "--debug=netlink", "list", "ruleset")
	if err != nil {
		t.Fatal(err)
	}
	out = counterRE.ReplaceAllString(out, "counter packets 0 bytes 0")
	out = counter2RE.ReplaceAllString(out, "counter pkts 0 bytes 0")
	out = handleRE.ReplaceAllString(out, "$1")
	code, text := out, ""
	if i := strings.Index(out, "\ntable "); i >= 0 {
		code, text = out[:i+1], out[i+1:]
	} else if strings.HasPrefix(out, "table ") {
		code, text = "", out
	}
	return sortText(text) + "---- bytecode ----\n" + sortBytecode(code)
}

// sortBytecode orders the blocks of the bytecode dump by their header
// (set or chain), keeping blocks with the same header in order.
func sortBytecode(s string) string {
	blocks := strings.Split(strings.TrimSpace(s), "\n\n")
	var all []string
	for _, b := range blocks {
		// Element dumps of several sets follow each other without a
		// blank line; split them on their headers.
		lines := strings.Split(b, "\n")
		cur := []string{}
		for _, l := range lines {
			if !strings.HasPrefix(l, "\t") && !strings.HasPrefix(l, "  ") && len(cur) > 0 {
				all = append(all, joinSorted(cur))
				cur = nil
			}
			cur = append(cur, l)
		}
		all = append(all, joinSorted(cur))
	}
	slices.SortStableFunc(all, func(a, b string) int {
		return strings.Compare(strings.SplitN(a, "\n", 2)[0], strings.SplitN(b, "\n", 2)[0])
	})
	return strings.Join(all, "\n\n")
}

// joinSorted joins a block's lines, element lines sorted.
func joinSorted(lines []string) string {
	if len(lines) > 1 && strings.HasPrefix(lines[1], "\telement ") {
		slices.Sort(lines[1:])
	}
	return strings.Join(lines, "\n")
}

// sortText orders the sets and chains of each table by name.
func sortText(s string) string {
	var out []string
	for _, tbl := range strings.SplitAfter(s, "\n}\n") {
		head, body, ok := strings.Cut(tbl, "\n")
		if !ok {
			out = append(out, tbl)
			continue
		}
		body = strings.TrimSuffix(body, "}\n")
		items := strings.Split(body, "\n\n")
		for i := range items {
			items[i] = elementsRE.ReplaceAllStringFunc(strings.TrimRight(items[i], "\n"), sortElements)
		}
		slices.Sort(items)
		out = append(out, head+"\n"+strings.Join(items, "\n\n")+"\n}\n")
	}
	return strings.Join(out, "")
}

func nftLoad(t *testing.T, ns *netns.NS, file string) {
	t.Helper()
	if err := ns.Run("nft", "-f", file); err != nil {
		t.Fatal(err)
	}
}

// applied returns the listing of a config applied by a Firewall.
func applied(t *testing.T, name string) string {
	t.Helper()
	rs, err := Compile(testConfigs[name]())
	if err != nil {
		t.Fatal(err)
	}
	ns := newNS(t, "ours")
	if err := newFirewall(t, ns).Apply(rs); err != nil {
		t.Fatal(err)
	}
	got := listRuleset(t, ns)
	if !strings.Contains(got, "table inet "+FilterTable) {
		t.Fatalf("nothing applied:\n%s", got)
	}
	return got
}

// TestStringLoadsWithNft: `nft -f` of String() builds what Apply builds.
func TestStringLoadsWithNft(t *testing.T) {
	needNft(t)
	for _, name := range configNames() {
		t.Run(name, func(t *testing.T) {
			rs, err := Compile(testConfigs[name]())
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(t.TempDir(), name+".nft")
			if err := os.WriteFile(file, []byte(rs.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			ns := newNS(t, "nft")
			nftLoad(t, ns, file)
			if d := cmp.Diff(listRuleset(t, ns), applied(t, name)); d != "" {
				t.Errorf("nft -f String() vs Apply (-nft +ours):\n%s", d)
			}
		})
	}
}

// TestHandWrittenNft compares Apply with testdata/nft/<name>.nft, the same
// policy written by hand as an admin would write it for nft -f.
func TestHandWrittenNft(t *testing.T) {
	needNft(t)
	for _, name := range configNames() {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join("testdata", "nft", name+".nft")
			if _, err := os.Stat(file); err != nil {
				t.Fatalf("every test config needs a hand-written %s: %v", file, err)
			}
			ns := newNS(t, "hand")
			nftLoad(t, ns, file)
			if d := cmp.Diff(listRuleset(t, ns), applied(t, name)); d != "" {
				t.Errorf("hand-written vs Apply (-hand +ours):\n%s", d)
			}
		})
	}
}
