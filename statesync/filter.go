package statesync

import (
	"net/netip"

	"rampart/statesync/ctnl"
)

// Filter says which flows are not synced: those of the firewall itself
// and those of ignored networks. The daemon builds it from the config
// and the interfaces.
type Filter struct {
	// Local are the firewall's own addresses, VIPs included. A flow
	// that starts or ends at one of them is the firewall's own (its DNS
	// queries, the admin's SSH session, the sync connection itself) and
	// means nothing to the peer.
	Local []netip.Addr
	// Ignore are networks whose flows are not synced: the sync link's
	// subnet and the configured statesync.ignore prefixes.
	Ignore []netip.Prefix
}

// filter is a Filter compiled for lookups.
type filter struct {
	local  map[netip.Addr]struct{}
	ignore []netip.Prefix
}

func (f Filter) compile() *filter {
	c := &filter{local: make(map[netip.Addr]struct{}, len(f.Local))}
	for _, a := range f.Local {
		c.local[a.Unmap()] = struct{}{}
	}
	for _, p := range f.Ignore {
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		c.ignore = append(c.ignore, p.Masked())
	}
	return c
}

// skip reports whether e's flow is not synced.
//
// Endpoints are judged on the original source (the client), the
// original destination (what the client addressed) and the reply source
// (the real server, after DNAT). A flow is the firewall's own when its
// client is local, or its real server is: a port forward addressed to
// the firewall's WAN address goes on to an inside host and is synced.
// The reply destination is left out: for masqueraded flows it is the
// firewall's own address, and those flows are exactly what must survive
// a failover.
func (f *filter) skip(e *ctnl.Entry) bool {
	server := e.Orig.Dst
	if e.Reply.IsValid() {
		server = e.Reply.Src
	}
	if f.isLocal(e.Orig.Src) || f.isLocal(server) {
		return true
	}
	for _, a := range [...]netip.Addr{e.Orig.Src, e.Orig.Dst, server} {
		a = a.Unmap()
		for _, p := range f.ignore {
			if p.Contains(a) {
				return true
			}
		}
	}
	return false
}

func (f *filter) isLocal(a netip.Addr) bool {
	_, ok := f.local[a.Unmap()]
	return ok
}
