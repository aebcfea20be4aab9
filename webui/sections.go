package webui

import (
	"fmt"
	"strings"
)

// section is one editable list or map of the config: its place in the
// document, its form fields, and how an item reads in a list.
type section struct {
	Name    string   // in URLs: /edit/rules, /api/v1/rules
	API     string   // API path under /api/v1
	Title   string   // "Filter rules"
	Noun    string   // "rule"
	Page    string   // the page that lists it: rules or ha
	Path    []string // keys to it in the document
	Keyed   bool     // a map keyed by name (aliases), else a list
	Movable bool     // order matters (first match wins)
	Fields  []field
	Summary func(item map[string]any) string
}

// Field kinds, which decide how a form value becomes a document value.
const (
	kindText     = "text"     // a string
	kindInt      = "int"      // a number, or the text if it is not one (validation then says so)
	kindList     = "list"     // comma or space separated strings
	kindBool     = "bool"     // a checkbox; unchecked leaves the key out
	kindBoolTrue = "booltrue" // a checkbox whose key defaults to true; unchecked writes false
	kindSelect   = "select"   // one of Options
	kindVIPs     = "vips"     // lines of "role address/len"
)

// field is one form field; Name is its dotted path inside the item.
type field struct {
	Name    string
	Label   string
	Kind    string
	Options []string
	Help    string
}

var (
	protocols = []string{"", "tcp", "udp", "icmp", "icmpv6"}
	actions   = []string{"accept", "drop", "reject"}
)

func endpointFields(side, label string) []field {
	return []field{
		{Name: side + ".interface", Label: label + " interface", Kind: kindText, Help: "role name, e.g. lan"},
		{Name: side + ".addresses", Label: label + " addresses", Kind: kindList, Help: "hosts or CIDRs"},
		{Name: side + ".alias", Label: label + " address alias", Kind: kindText},
		{Name: side + ".ports", Label: label + " ports", Kind: kindList, Help: "22 or 8000-8080; tcp and udp only"},
		{Name: side + ".port_alias", Label: label + " port alias", Kind: kindText},
	}
}

// sectionList returns the editable sections; built per server, not a
// package variable, so nothing can modify a shared copy.
func sectionList() []*section {
	rules := &section{
		Name: "rules", API: "/rules", Title: "Filter rules", Noun: "rule", Page: "rules",
		Path: []string{"rules"}, Movable: true, Summary: ruleSummary,
		Fields: append(append(append([]field{
			{Name: "comment", Label: "Comment", Kind: kindText},
			{Name: "action", Label: "Action", Kind: kindSelect, Options: actions},
			{Name: "chain", Label: "Chain", Kind: kindSelect, Options: []string{"forward", "input"}, Help: "forward: through the firewall; input: to the firewall"},
			{Name: "protocol", Label: "Protocol", Kind: kindSelect, Options: protocols},
		}, endpointFields("from", "From")...), endpointFields("to", "To")...),
			field{Name: "icmp_types", Label: "ICMP types", Kind: kindList, Help: "e.g. echo-request"},
			field{Name: "log", Label: "Log matches", Kind: kindBool},
			field{Name: "disabled", Label: "Disabled", Kind: kindBool}),
	}
	return []*section{rules, {
		Name: "aliases", API: "/aliases", Title: "Aliases", Noun: "alias", Page: "rules",
		Path: []string{"aliases"}, Keyed: true, Summary: aliasSummary,
		Fields: []field{
			{Name: "name", Label: "Name", Kind: kindText},
			{Name: "addresses", Label: "Addresses", Kind: kindList, Help: "hosts or CIDRs; or give ports"},
			{Name: "ports", Label: "Ports", Kind: kindList},
			{Name: "comment", Label: "Comment", Kind: kindText},
		},
	}, {
		Name: "port_forwards", API: "/nat/port-forwards", Title: "Port forwards", Noun: "port forward", Page: "rules",
		Path: []string{"nat", "port_forwards"}, Summary: forwardSummary,
		Fields: []field{
			{Name: "in", Label: "Arrives on", Kind: kindText, Help: "role name, e.g. wan"},
			{Name: "protocol", Label: "Protocol", Kind: kindSelect, Options: []string{"tcp", "udp"}},
			{Name: "port", Label: "Port", Kind: kindText, Help: "443 or 8000-8080"},
			{Name: "sources", Label: "Sources", Kind: kindList, Help: "default: any"},
			{Name: "to", Label: "Internal host", Kind: kindText},
			{Name: "to_port", Label: "Internal port", Kind: kindInt, Help: "default: the same port"},
			{Name: "log", Label: "Log matches", Kind: kindBool},
			{Name: "comment", Label: "Comment", Kind: kindText},
		},
	}, {
		Name: "masquerade", API: "/nat/masquerade", Title: "Masquerade", Noun: "masquerade", Page: "rules",
		Path: []string{"nat", "masquerade"}, Summary: masqSummary,
		Fields: []field{
			{Name: "out", Label: "Leaving on", Kind: kindText, Help: "role name, e.g. wan"},
			{Name: "sources", Label: "Sources", Kind: kindList, Help: "default: any"},
			{Name: "comment", Label: "Comment", Kind: kindText},
		},
	}, {
		Name: "groups", API: "/ha/groups", Title: "Redundancy groups", Noun: "group", Page: "ha",
		Path: []string{"ha", "groups"}, Summary: groupSummary,
		Fields: []field{
			{Name: "vhid", Label: "VHID", Kind: kindInt, Help: "1-255, the same on both nodes"},
			{Name: "priority", Label: "Priority (this node)", Kind: kindInt, Help: "1-254, higher wins; never synced"},
			{Name: "preempt", Label: "Preempt", Kind: kindBoolTrue, Help: "take over from a lower priority master"},
			{Name: "preempt_delay", Label: "Preempt delay", Kind: kindText, Help: "e.g. 30s"},
			{Name: "advbase", Label: "Advert interval", Kind: kindText, Help: "default 1s"},
			{Name: "vips", Label: "Virtual addresses", Kind: kindVIPs, Help: "one per line: role address/len"},
			{Name: "track", Label: "Tracked interfaces", Kind: kindList, Help: "roles whose link loss demotes"},
		},
	}, {
		Name: "health_checks", API: "/ha/health-checks", Title: "Health checks", Noun: "health check", Page: "ha",
		Path: []string{"ha", "health_checks"}, Summary: checkSummary,
		Fields: []field{
			{Name: "name", Label: "Name", Kind: kindText},
			{Name: "type", Label: "Type", Kind: kindSelect, Options: []string{"tcp", "http", "ping", "command"}},
			{Name: "target", Label: "Target", Kind: kindText, Help: "host:port, URL, address or command"},
			{Name: "interval", Label: "Interval", Kind: kindText, Help: "default 2s"},
			{Name: "timeout", Label: "Timeout", Kind: kindText, Help: "default 1s"},
			{Name: "demote", Label: "Demote by", Kind: kindInt, Help: "default 50"},
		},
	}}
}

// str reads a dotted path from an item as text.
func str(item map[string]any, path string) string {
	v, ok := lookup(item, strings.Split(path, "."))
	if !ok || v == nil {
		return ""
	}
	if l, ok := v.([]any); ok {
		parts := make([]string, len(l))
		for i, e := range l {
			parts[i] = fmt.Sprint(e)
		}
		return strings.Join(parts, ", ")
	}
	return fmt.Sprint(v)
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func endpoint(item map[string]any, side string) string {
	var parts []string
	for _, k := range []string{"interface", "addresses", "alias"} {
		if v := str(item, side+"."+k); v != "" {
			parts = append(parts, v)
		}
	}
	where := or(strings.Join(parts, " "), "any")
	for _, k := range []string{"ports", "port_alias"} {
		if v := str(item, side+"."+k); v != "" {
			where += " port " + v
		}
	}
	return where
}

func ruleSummary(item map[string]any) string {
	s := fmt.Sprintf("%s %s from %s to %s", str(item, "action"), or(str(item, "protocol"), "any"), endpoint(item, "from"), endpoint(item, "to"))
	if str(item, "chain") == "input" {
		s += " (to the firewall)"
	}
	if str(item, "disabled") == "true" {
		s += " [disabled]"
	}
	return s
}

func aliasSummary(item map[string]any) string {
	return or(str(item, "addresses"), str(item, "ports"))
}

func forwardSummary(item map[string]any) string {
	return fmt.Sprintf("%s %s port %s → %s:%s", str(item, "in"), str(item, "protocol"), str(item, "port"), str(item, "to"), or(str(item, "to_port"), str(item, "port")))
}

func masqSummary(item map[string]any) string {
	return fmt.Sprintf("%s out of %s", or(str(item, "sources"), "any"), str(item, "out"))
}

func groupSummary(item map[string]any) string {
	var vips []string
	if l, ok := item["vips"].([]any); ok {
		for _, v := range l {
			if m, ok := v.(map[string]any); ok {
				vips = append(vips, fmt.Sprintf("%v on %v", m["address"], m["interface"]))
			}
		}
	}
	return fmt.Sprintf("vhid %s priority %s: %s", str(item, "vhid"), str(item, "priority"), strings.Join(vips, ", "))
}

func checkSummary(item map[string]any) string {
	return fmt.Sprintf("%s %s %s", str(item, "name"), str(item, "type"), str(item, "target"))
}
