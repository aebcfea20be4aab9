package carp

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"slices"

	"rampart/config"
)

const digestDomain = "rampart carp v1 vip digest\x00"

// VIPDigest hashes a group's VIPs in a canonical order, so that two nodes
// configured with the same VIPs in any order agree, and a master whose
// adverts carry another digest shows up as an alarm: the pair would move
// different addresses on failover.
func VIPDigest(vips []config.VIP) Digest {
	s := slices.Clone(vips)
	slices.SortFunc(s, func(a, b config.VIP) int {
		return cmp.Or(
			cmp.Compare(a.Interface, b.Interface),
			a.Address.Addr().Compare(b.Address.Addr()),
			cmp.Compare(a.Address.Bits(), b.Address.Bits()),
		)
	})
	h := sha256.New()
	h.Write([]byte(digestDomain))
	for _, v := range s {
		var n [2]byte
		binary.BigEndian.PutUint16(n[:], uint16(len(v.Interface)))
		h.Write(n[:])
		h.Write([]byte(v.Interface))
		addr := v.Address.Addr().AsSlice()
		h.Write([]byte{byte(len(addr))})
		h.Write(addr)
		h.Write([]byte{byte(v.Address.Bits())})
	}
	var d Digest
	copy(d[:], h.Sum(nil))
	return d
}
