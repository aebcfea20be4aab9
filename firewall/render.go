package firewall

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/google/nftables"
)

// String prints the ruleset in nft syntax. `nft -f` loads it and builds
// the same tables Apply does; it is what `rampart check` shows. Comments
// after map elements name the config item each element belongs to.
func (r *Ruleset) String() string {
	var b strings.Builder
	for i, t := range r.tables {
		if i > 0 {
			b.WriteString("\n")
		}
		t.render(&b)
	}
	return b.String()
}

func (t *table) render(b *strings.Builder) {
	fmt.Fprintf(b, "table inet %s {\n", t.name)
	first := true
	sep := func() {
		if !first {
			b.WriteString("\n")
		}
		first = false
	}
	for _, s := range t.sets {
		sep()
		s.render(b)
	}
	for _, c := range t.chains {
		sep()
		c.render(b)
	}
	b.WriteString("}\n")
}

func (s *set) render(b *strings.Builder) {
	kind, data := "set", ""
	if s.isMap {
		kind, data = "map", " : verdict"
	}
	names := make([]string, len(s.fields))
	for i, f := range s.fields {
		names[i] = fields[f].dtype.Name
	}
	fmt.Fprintf(b, "\t%s %s {\n\t\ttype %s%s\n", kind, s.name, strings.Join(names, " . "), data)
	if s.interval {
		b.WriteString("\t\tflags interval\n")
	}
	if s.counter {
		b.WriteString("\t\tcounter\n")
	}
	if s.comment != "" {
		fmt.Fprintf(b, "\t\tcomment %s\n", quote(s.comment))
	}
	if len(s.elems) > 0 {
		b.WriteString("\t\telements = {\n")
		for _, e := range s.elems {
			fmt.Fprintf(b, "\t\t\t%s,", s.formatElem(e))
			if e.owner != nil {
				fmt.Fprintf(b, " # %s", e.owner.label())
			}
			b.WriteString("\n")
		}
		b.WriteString("\t\t}\n")
	}
	b.WriteString("\t}\n")
}

// formatElem prints an element as nft does: each component of the key as a
// value, prefix or range, then the verdict of a map.
func (s *set) formatElem(e elem) string {
	parts := make([]string, len(s.fields))
	off := 0
	for i, f := range s.fields {
		fi := fields[f]
		sp := span{lo: e.key[off : off+fi.size]}
		sp.hi = sp.lo
		if e.end != nil {
			sp.hi = e.end[off : off+fi.size]
		}
		parts[i] = formatSpan(f, sp)
		off += fi.padded()
		if len(s.fields) == 1 {
			off = fi.size
		}
	}
	out := strings.Join(parts, " . ")
	if s.isMap {
		out += " : " + e.verdict.String()
	}
	return out
}

func (c *chain) render(b *strings.Builder) {
	fmt.Fprintf(b, "\tchain %s {\n", c.name)
	if h := c.hook; h != nil {
		fmt.Fprintf(b, "\t\ttype %s hook %s priority %s; policy %s;\n", h.typ, hookName(h.num), prioName(h), h.policy)
	}
	for _, r := range c.rules {
		fmt.Fprintf(b, "\t\t%s\n", r.text)
	}
	b.WriteString("\t}\n")
}

func renderRule(r *rule) string {
	parts := make([]string, 0, len(r.nodes)+1)
	for _, n := range r.nodes {
		parts = append(parts, n.text())
	}
	if r.comment != "" {
		parts = append(parts, "comment "+quote(r.comment))
	}
	return strings.Join(parts, " ")
}

func (o *owner) label() string {
	s := strings.ReplaceAll(o.kind, "_", " ") + " " + strconv.Itoa(o.index)
	if o.comment != "" {
		s += ": " + cleanComment(o.comment)
	}
	return s
}

func quote(s string) string { return `"` + s + `"` }

// cleanComment makes a string safe for an nft comment: nft strings cannot
// hold a double quote or a newline, and the kernel keeps a comment in
// userdata of limited size.
func cleanComment(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '"' {
			return '\''
		}
		if r < ' ' {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxComment {
		s = strings.ToValidUTF8(s[:maxComment], "")
	}
	return s
}

// maxComment keeps a comment well inside NFT_USERDATA_MAXLEN.
const maxComment = 120

func hookName(h nftables.ChainHook) string {
	switch h {
	case *nftables.ChainHookPrerouting:
		return "prerouting"
	case *nftables.ChainHookInput:
		return "input"
	case *nftables.ChainHookForward:
		return "forward"
	case *nftables.ChainHookOutput:
		return "output"
	case *nftables.ChainHookPostrouting:
		return "postrouting"
	}
	return strconv.Itoa(int(h))
}

func prioName(h *hook) string {
	switch {
	case h.typ == nftables.ChainTypeFilter && h.prio == 0:
		return "filter"
	case h.typ == nftables.ChainTypeNAT && h.prio == -100:
		return "dstnat"
	case h.typ == nftables.ChainTypeNAT && h.prio == 100:
		return "srcnat"
	}
	return strconv.Itoa(int(h.prio))
}
