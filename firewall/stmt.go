package firewall

import (
	"fmt"
	"net/netip"
	"strconv"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// Statements: what a rule does once it matches.

type counterNode struct{}

func (counterNode) text() string          { return "counter" }
func (counterNode) encode(e *ruleEncoder) { e.add(&expr.Counter{}) }

// LogGroup is the NFLOG group logged packets go to. The daemon listens
// on it in its own network namespace (appliance/fwlog.go) and puts each
// packet in the live log; nothing reaches the kernel log, which a busy
// rule would flood.
const LogGroup uint16 = 10

// LogPrefix starts the prefix of every logged packet: "rampart rule 3: "
// for rules[3], "rampart pf 1: " for nat.port_forwards[1].
const LogPrefix = "rampart "

type logNode struct{ prefix string }

func (n logNode) text() string {
	return "log prefix " + strconv.Quote(n.prefix) + " group " + strconv.Itoa(int(LogGroup))
}

func (n logNode) encode(e *ruleEncoder) {
	e.add(&expr.Log{Key: 1<<unix.NFTA_LOG_PREFIX | 1<<unix.NFTA_LOG_GROUP, Group: LogGroup, Data: []byte(n.prefix)})
}

type verdictNode struct{ v verdict }

func (n verdictNode) text() string { return n.v.String() }

func (n verdictNode) encode(e *ruleEncoder) {
	e.add(&expr.Verdict{Kind: n.v.kind, Chain: n.v.chain})
}

// rejectNode answers TCP with a reset and anything else with an ICMP(v6)
// port unreachable, as nft's reject does in an inet table.
type rejectNode struct{ tcp bool }

func (n rejectNode) text() string {
	if n.tcp {
		return "reject with tcp reset"
	}
	return "reject"
}

func (n rejectNode) encode(e *ruleEncoder) {
	if n.tcp {
		e.add(&expr.Reject{Type: unix.NFT_REJECT_TCP_RST})
		return
	}
	e.add(&expr.Reject{Type: unix.NFT_REJECT_ICMPX_UNREACH, Code: unix.NFT_REJECT_ICMPX_PORT_UNREACH})
}

// natNode is masquerade, snat or dnat.
type natNode struct {
	kind string // "masquerade", "snat", "dnat"
	addr netip.Addr
	port uint16 // dnat only, 0 = keep
}

func (n natNode) text() string {
	if n.kind == "masquerade" {
		return n.kind
	}
	fam, to := "ip", n.addr.String()
	if n.addr.Is6() {
		fam = "ip6"
		if n.port != 0 {
			to = "[" + to + "]"
		}
	}
	if n.port != 0 {
		to += ":" + strconv.Itoa(int(n.port))
	}
	return fmt.Sprintf("%s %s to %s", n.kind, fam, to)
}

func (n natNode) encode(e *ruleEncoder) {
	if n.kind == "masquerade" {
		e.add(&expr.Masq{})
		return
	}
	nat := &expr.NAT{Type: expr.NATTypeSourceNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: reg1}
	if n.kind == "dnat" {
		nat.Type = expr.NATTypeDestNAT
	}
	if n.addr.Is6() {
		nat.Family = unix.NFPROTO_IPV6
	}
	e.add(&expr.Immediate{Register: reg1, Data: n.addr.AsSlice()})
	if n.port != 0 {
		e.add(&expr.Immediate{Register: reg1 + 1, Data: portValue(n.port)})
		nat.RegProtoMin, nat.Specified = reg1+1, true
	}
	e.add(nat)
}
