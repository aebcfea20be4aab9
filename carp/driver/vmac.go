package driver

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"strconv"
)

// VirtualMAC returns the MAC a group answers with in virtual-MAC mode:
// 00:00:5e:00:01:vhid, the IANA VRRP IPv4 range that CARP uses too
// (RFC 5798 §7.3). Every node of the group answers with the same MAC, so
// a client's ARP and neighbour entries stay valid across a failover; only
// the switch has to learn the new port.
func VirtualMAC(vhid uint8) net.HardwareAddr {
	return net.HardwareAddr{0x00, 0x00, 0x5e, 0x00, 0x01, vhid}
}

// ifNameMax is IFNAMSIZ less the NUL.
const ifNameMax = 15

// MacvlanName returns the name of the macvlan that holds group vhid's
// virtual MAC and VIPs on parent: "vh<vhid>-<parent>", or, when that is
// longer than the kernel allows, "vh<vhid>-" and a hash of the parent, so
// that the name stays a pure function of (parent, vhid) and a restarted
// daemon finds what a crashed one left.
func MacvlanName(parent string, vhid uint8) string {
	prefix := "vh" + strconv.Itoa(int(vhid)) + "-"
	if len(prefix)+len(parent) <= ifNameMax {
		return prefix + parent
	}
	sum := sha256.Sum256([]byte(parent))
	return prefix + hex.EncodeToString(sum[:])[:ifNameMax-len(prefix)]
}
