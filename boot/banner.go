package boot

import (
	"log/slog"
	"net"
	"strings"

	"github.com/google/nftables"
)

// showInterfaces logs each interface with its addresses, for whoever
// stands at the console.
func showInterfaces(log *slog.Logger) {
	ifs, err := net.Interfaces()
	if err != nil {
		log.Warn("interfaces unknown", "err", err)
		return
	}
	for _, ifc := range ifs {
		addrs, _ := ifc.Addrs()
		var as []string
		for _, a := range addrs {
			as = append(as, a.String())
		}
		log.Info("interface", "name", ifc.Name, "mac", ifc.HardwareAddr.String(),
			"up", ifc.Flags&net.FlagUp != 0, "addrs", strings.Join(as, ","))
	}
}

// tableSummary is what one nftables table holds; sets and elements
// count named sets and maps, as firewall.Ruleset.Elements does.
type tableSummary struct {
	family, name                  string
	chains, rules, sets, elements int
}

// showRuleset logs the nftables tables in force, read back from the
// kernel over netlink: the image has no nft binary, and this line is
// how a test (or an admin) sees that the ruleset is loaded.
func showRuleset(log *slog.Logger) {
	sums, err := rulesetSummary()
	if err != nil {
		log.Warn("ruleset unreadable", "err", err)
		return
	}
	if len(sums) == 0 {
		log.Warn("ruleset: no tables")
	}
	for _, s := range sums {
		log.Info("ruleset", "table", s.family+"/"+s.name, "chains", s.chains,
			"rules", s.rules, "sets", s.sets, "elements", s.elements)
	}
}

func rulesetSummary() ([]tableSummary, error) {
	c, err := nftables.New()
	if err != nil {
		return nil, err
	}
	defer c.CloseLasting()
	tables, err := c.ListTables()
	if err != nil {
		return nil, err
	}
	var out []tableSummary
	for _, t := range tables {
		s := tableSummary{family: familyName(t.Family), name: t.Name}
		if err := countTable(c, t, &s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func countTable(c *nftables.Conn, t *nftables.Table, s *tableSummary) error {
	chains, err := c.ListChainsOfTableFamily(t.Family)
	if err != nil {
		return err
	}
	for _, ch := range chains {
		if ch.Table.Name != t.Name {
			continue
		}
		s.chains++
		rules, err := c.GetRules(t, ch)
		if err != nil {
			return err
		}
		s.rules += len(rules)
	}
	sets, err := c.GetSets(t)
	if err != nil {
		return err
	}
	for _, set := range sets {
		if set.Anonymous {
			continue // part of a rule, not a named set or map
		}
		s.sets++
		elems, err := c.GetSetElements(set)
		if err != nil {
			return err
		}
		n := len(elems)
		if set.Interval {
			// The kernel lists an interval as two elements: start and end.
			n = countIntervals(elems)
		}
		s.elements += n
	}
	return nil
}

// countIntervals counts the intervals of an interval set, whose elements
// come as starts and ends (IntervalEnd).
func countIntervals(elems []nftables.SetElement) int {
	n := 0
	for _, e := range elems {
		if !e.IntervalEnd {
			n++
		}
	}
	return n
}

func familyName(f nftables.TableFamily) string {
	switch f {
	case nftables.TableFamilyINet:
		return "inet"
	case nftables.TableFamilyIPv4:
		return "ip"
	case nftables.TableFamilyIPv6:
		return "ip6"
	case nftables.TableFamilyARP:
		return "arp"
	case nftables.TableFamilyBridge:
		return "bridge"
	case nftables.TableFamilyNetdev:
		return "netdev"
	}
	return "unknown"
}
