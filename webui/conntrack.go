package webui

import (
	"net/netip"
	"strings"
)

// Conntrack paging bounds: a page is for reading, the API for scripts.
const (
	connPageSize  = 50
	maxConnLimit  = 500
	maxSearchTerm = 256
)

// MatchConn is the connection search: the query is split on spaces and
// every term must occur, case-insensitively, in the entry's protocol,
// state, or one of its four addresses written as ip:port (so "10.0.0.5",
// ":443" and "tcp 10.0.0.5:22" all work). An empty query matches all.
// Backends use it so that search means the same everywhere.
func MatchConn(e ConnEntry, query string) bool {
	terms := strings.Fields(strings.ToLower(query))
	if len(terms) == 0 {
		return true
	}
	text := strings.ToLower(strings.Join([]string{e.Proto, e.State,
		addrPort(e.Src), addrPort(e.Dst), addrPort(e.ReplySrc), addrPort(e.ReplyDst)}, " "))
	for _, t := range terms {
		if !strings.Contains(text, t) {
			return false
		}
	}
	return true
}

func addrPort(a netip.AddrPort) string {
	if !a.IsValid() {
		return ""
	}
	if a.Port() == 0 {
		return a.Addr().String()
	}
	return a.String()
}
