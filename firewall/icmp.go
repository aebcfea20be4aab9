package firewall

import (
	"fmt"
	"slices"
)

// ICMP and ICMPv6 type numbers under the names nft gives them (RFC 792,
// RFC 4443, RFC 4861, RFC 3810).
var (
	icmpTypes = map[string]uint8{
		"echo-reply": 0, "destination-unreachable": 3, "source-quench": 4, "redirect": 5,
		"echo-request": 8, "router-advertisement": 9, "router-solicitation": 10,
		"time-exceeded": 11, "parameter-problem": 12, "timestamp-request": 13,
		"timestamp-reply": 14, "info-request": 15, "info-reply": 16,
		"address-mask-request": 17, "address-mask-reply": 18,
	}
	icmpv6Types = map[string]uint8{
		"destination-unreachable": 1, "packet-too-big": 2, "time-exceeded": 3,
		"parameter-problem": 4, "echo-request": 128, "echo-reply": 129,
		"mld-listener-query": 130, "mld-listener-report": 131, "mld-listener-done": 132,
		"mld-listener-reduction": 132, "nd-router-solicit": 133, "nd-router-advert": 134,
		"nd-neighbor-solicit": 135, "nd-neighbor-advert": 136, "nd-redirect": 137,
		"router-renumbering": 138, "ind-neighbor-solicit": 141, "ind-neighbor-advert": 142,
		"mld2-listener-report": 143,
	}
)

// icmpTypeName is the name nft prints for a type number.
func icmpTypeName(v6 bool, t uint8) string {
	names := icmpTypes
	if v6 {
		names = icmpv6Types
	}
	best := ""
	for name, n := range names {
		// mld-listener-done and mld-listener-reduction share 132; nft
		// prints the former.
		if n == t && (best == "" || name < best) {
			best = name
		}
	}
	if best == "" {
		return fmt.Sprint(t)
	}
	return best
}

func icmpTypeNumbers(v6 bool, names []string) ([]uint8, error) {
	table := icmpTypes
	if v6 {
		table = icmpv6Types
	}
	out := make([]uint8, 0, len(names))
	for _, n := range names {
		t, ok := table[n]
		if !ok {
			return nil, fmt.Errorf("unknown icmp type %q", n)
		}
		if !slices.Contains(out, t) { // an anonymous set takes each once
			out = append(out, t)
		}
	}
	return out, nil
}

// Defaults every IP stack needs (RFC 4890 for ICMPv6): errors that carry
// path MTU and reachability, and on input also neighbour discovery,
// router discovery, multicast listener discovery and echo.
var (
	defaultICMPInput     = []string{"destination-unreachable", "time-exceeded", "parameter-problem"}
	defaultICMPv6Input   = []string{"destination-unreachable", "packet-too-big", "time-exceeded", "parameter-problem", "echo-request", "nd-router-solicit", "nd-router-advert", "nd-neighbor-solicit", "nd-neighbor-advert", "mld-listener-query", "mld-listener-report", "mld-listener-done", "mld2-listener-report"}
	defaultICMPForward   = []string{"destination-unreachable", "time-exceeded", "parameter-problem"}
	defaultICMPv6Forward = []string{"destination-unreachable", "packet-too-big", "time-exceeded", "parameter-problem"}
)
