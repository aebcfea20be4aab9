package driver

import "encoding/binary"

// The few netlink messages the link watch reads and writes, by hand: a
// request header, and the messages and attributes of a reply. Lengths are
// checked at every step, since the bytes come from the kernel but a parser
// must not trust them blindly.

// putNlHeader writes a netlink header for a request of len(b) bytes.
func putNlHeader(b []byte, typ uint16, flags uint16, seq uint32) {
	binary.NativeEndian.PutUint32(b[0:], uint32(len(b)))
	binary.NativeEndian.PutUint16(b[4:], typ)
	binary.NativeEndian.PutUint16(b[6:], flags)
	binary.NativeEndian.PutUint32(b[8:], seq)
	binary.NativeEndian.PutUint32(b[12:], 0)
}

type nlMsg struct {
	typ  uint16
	data []byte
}

const nlHdrLen = 16

func align4(n int) int { return (n + 3) &^ 3 }

// splitNetlink splits a datagram into messages; a truncated one ends it.
func splitNetlink(b []byte) []nlMsg {
	var out []nlMsg
	for len(b) >= nlHdrLen {
		n := int(binary.NativeEndian.Uint32(b[0:4]))
		if n < nlHdrLen || n > len(b) {
			break
		}
		out = append(out, nlMsg{typ: binary.NativeEndian.Uint16(b[4:6]), data: b[nlHdrLen:n]})
		b = b[min(align4(n), len(b)):]
	}
	return out
}

// attr returns the value of the first attribute of type typ, or nil.
func attr(b []byte, typ uint16) []byte {
	for len(b) >= 4 {
		n := int(binary.NativeEndian.Uint16(b[0:2]))
		if n < 4 || n > len(b) {
			return nil
		}
		if binary.NativeEndian.Uint16(b[2:4])&0x3fff == typ { // without NLA_F_NESTED / NLA_F_NET_BYTEORDER
			return b[4:n]
		}
		b = b[min(align4(n), len(b)):]
	}
	return nil
}
