package driver

import (
	"errors"
	"fmt"
	"net"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// gateTable is the driver's own nftables table. It is apart from the
// firewall's so that the firewall's atomic replace never touches it.
const gateTable = "rampart_vmac"

// gate decides, in the kernel, which node a virtual MAC is live on. The
// macvlans that hold the virtual MACs are up on every node for good;
// whether a group is master here is one element of the "active" set, so a
// takeover or a step-down is one nftables transaction and two rounds of
// address changes, with no device going up or down (that waits for RCU
// grace periods: tens of milliseconds on a busy box).
//
// On each parent device an ingress chain runs before the macvlan's
// receive handler. A frame to an active virtual MAC is rewritten to the
// parent's own MAC and marked for this host, so the packet arrives on the
// parent as if the virtual MAC were its own: without this it would arrive
// on the macvlan and miss every firewall rule that names an interface.
// Neighbour discovery and ARP to the virtual MAC are left to the macvlan,
// which answers them with the virtual MAC. Frames to an inactive virtual
// MAC of ours are dropped, as any host drops frames for another.
//
// On each macvlan an egress chain drops everything while its group is not
// active: the IPv6 stack sends MLD reports when a VIP goes, and a single
// frame from the backup with the virtual MAC as source would teach the
// switch the wrong port.
type gate struct {
	conn   *nftables.Conn
	active *nftables.Set
}

// ICMPv6 neighbour discovery types (RFC 4861 §4) and PACKET_HOST
// (linux/if_packet.h).
const (
	icmpv6RouterSolicit = 133
	icmpv6Redirect      = 137
	packetHost          = 0
)

var (
	etherIPv4 = []byte{0x08, 0x00}
	etherIPv6 = []byte{0x86, 0xdd}
)

// newGate replaces the table. parents maps each parent device to its own
// MAC, macvlans names every group macvlan, ours lists every virtual MAC.
func newGate(conn *nftables.Conn, parents map[string]net.HardwareAddr, macvlans []string, ours []net.HardwareAddr) (*gate, error) {
	deleteTable(conn)
	t := conn.AddTable(&nftables.Table{Family: nftables.TableFamilyNetdev, Name: gateTable})
	active := &nftables.Set{Table: t, Name: "active", KeyType: nftables.TypeEtherAddr}
	if err := conn.AddSet(active, nil); err != nil {
		return nil, fmt.Errorf("carp driver: gate set: %w", err)
	}
	all := &nftables.Set{Table: t, Name: "ours", KeyType: nftables.TypeEtherAddr, Constant: true}
	var els []nftables.SetElement
	for _, m := range ours {
		els = append(els, nftables.SetElement{Key: []byte(m)})
	}
	if err := conn.AddSet(all, els); err != nil {
		return nil, fmt.Errorf("carp driver: gate set: %w", err)
	}
	for dev, mac := range parents {
		c := conn.AddChain(&nftables.Chain{Name: "in_" + dev, Table: t, Type: nftables.ChainTypeFilter,
			Hooknum: nftables.ChainHookIngress, Priority: nftables.ChainPriorityFilter, Device: dev})
		for _, exprs := range ingressRules(active, all, mac) {
			conn.AddRule(&nftables.Rule{Table: t, Chain: c, Exprs: exprs})
		}
	}
	for _, dev := range macvlans {
		c := conn.AddChain(&nftables.Chain{Name: "out_" + dev, Table: t, Type: nftables.ChainTypeFilter,
			Hooknum: nftables.ChainHookEgress, Priority: nftables.ChainPriorityFilter, Device: dev})
		for _, exprs := range egressRules(active) {
			conn.AddRule(&nftables.Rule{Table: t, Chain: c, Exprs: exprs})
		}
	}
	if err := conn.Flush(); err != nil {
		return nil, fmt.Errorf("carp driver: gate table: %w", err)
	}
	return &gate{conn: conn, active: active}, nil
}

// deleteTable removes a table a previous run left, if any.
func deleteTable(conn *nftables.Conn) {
	tables, err := conn.ListTablesOfFamily(nftables.TableFamilyNetdev)
	if err != nil {
		return
	}
	for _, t := range tables {
		if t.Name == gateTable {
			conn.DelTable(t)
			_ = conn.Flush()
		}
	}
}

// ingressRules are, in nft syntax:
//
//	ether daddr @active icmpv6 type 133-137 accept
//	ether daddr @active ether type ip6 ether daddr set MAC meta pkttype set host counter
//	ether daddr @active ether type ip  ether daddr set MAC meta pkttype set host counter
//	ether daddr @active accept
//	ether daddr @ours counter drop
func ingressRules(active, ours *nftables.Set, mac net.HardwareAddr) [][]expr.Any {
	daddrIn := func(s *nftables.Set, more ...expr.Any) []expr.Any {
		return append([]expr.Any{
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseLLHeader, Offset: 0, Len: 6},
			&expr.Lookup{SourceRegister: 1, SetName: s.Name, SetID: s.ID},
		}, more...)
	}
	rewrite := func(etherType []byte) []expr.Any {
		return daddrIn(active,
			&expr.Meta{Key: expr.MetaKeyPROTOCOL, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: etherType},
			&expr.Immediate{Register: 1, Data: []byte(mac)},
			&expr.Payload{OperationType: expr.PayloadWrite, SourceRegister: 1, Base: expr.PayloadBaseLLHeader, Offset: 0, Len: 6},
			&expr.Immediate{Register: 1, Data: []byte{packetHost}},
			&expr.Meta{Key: expr.MetaKeyPKTTYPE, SourceRegister: true, Register: 1},
			&expr.Counter{},
		)
	}
	return [][]expr.Any{
		daddrIn(active,
			&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_ICMPV6}},
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 0, Len: 1},
			&expr.Cmp{Op: expr.CmpOpGte, Register: 1, Data: []byte{icmpv6RouterSolicit}},
			&expr.Cmp{Op: expr.CmpOpLte, Register: 1, Data: []byte{icmpv6Redirect}},
			&expr.Verdict{Kind: expr.VerdictAccept},
		),
		rewrite(etherIPv6),
		rewrite(etherIPv4),
		daddrIn(active, &expr.Verdict{Kind: expr.VerdictAccept}),
		daddrIn(ours, &expr.Counter{}, &expr.Verdict{Kind: expr.VerdictDrop}),
	}
}

// egressRules are: ether saddr @active accept; counter drop.
func egressRules(active *nftables.Set) [][]expr.Any {
	return [][]expr.Any{
		{
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseLLHeader, Offset: 6, Len: 6},
			&expr.Lookup{SourceRegister: 1, SetName: active.Name, SetID: active.ID},
			&expr.Verdict{Kind: expr.VerdictAccept},
		},
		{&expr.Counter{}, &expr.Verdict{Kind: expr.VerdictDrop}},
	}
}

// activate makes one virtual MAC live on this node, or not.
func (g *gate) activate(mac net.HardwareAddr, on bool) error {
	el := []nftables.SetElement{{Key: []byte(mac)}}
	var err error
	if on {
		err = g.conn.SetAddElements(g.active, el)
	} else {
		err = g.conn.SetDeleteElements(g.active, el)
	}
	if err == nil {
		err = g.conn.Flush()
	}
	if err != nil && !(errors.Is(err, unix.ENOENT) && !on) {
		return fmt.Errorf("carp driver: gate %v (on=%v): %w", mac, on, err)
	}
	return nil
}

// close removes the table and releases the connection.
func (g *gate) close() error {
	deleteTable(g.conn)
	return g.conn.CloseLasting()
}
