package ctnl

import (
	"encoding/binary"
	"errors"
)

// Netlink attributes (struct nlattr) are appended to and read from plain
// byte slices here, so that the codecs stay pure functions that fuzzing can
// reach without a socket.

var errAttrTruncated = errors.New("attribute truncated")

// align4 rounds n up to the netlink alignment (NLA_ALIGNTO, NLMSG_ALIGNTO).
func align4(n int) int { return (n + 3) &^ 3 }

// appendAttr appends one attribute with its padding.
func appendAttr(b []byte, typ uint16, data []byte) []byte {
	b = append(appendHdr(b, typ, len(data)), data...)
	return pad(b)
}

func pad(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// appendHdr appends an attribute header for n bytes of data.
func appendHdr(b []byte, typ uint16, n int) []byte {
	b = binary.NativeEndian.AppendUint16(b, uint16(nlaHdrLen+n))
	return binary.NativeEndian.AppendUint16(b, typ)
}

func appendU8(b []byte, typ uint16, v uint8) []byte {
	return append(appendHdr(b, typ, 1), v, 0, 0, 0)
}

// appendBE16 and appendBE32 write integers in network byte order, as
// ctnetlink wants every integer attribute. They do not allocate: a commit
// encodes hundreds of thousands of them.
func appendBE16(b []byte, typ uint16, v uint16) []byte {
	return append(binary.BigEndian.AppendUint16(appendHdr(b, typ, 2), v), 0, 0)
}

func appendBE32(b []byte, typ uint16, v uint32) []byte {
	return binary.BigEndian.AppendUint32(appendHdr(b, typ, 4), v)
}

// beginNest starts a nested attribute and returns where it starts;
// endNest fills in its length once the children are appended.
func beginNest(b []byte, typ uint16) ([]byte, int) {
	start := len(b)
	b = binary.NativeEndian.AppendUint16(b, 0)
	b = binary.NativeEndian.AppendUint16(b, typ|nlaFNested)
	return b, start
}

func endNest(b []byte, start int) []byte {
	binary.NativeEndian.PutUint16(b[start:], uint16(len(b)-start))
	return b
}

// walkAttrs calls fn for each attribute in b, with the type's flag bits
// cleared. It fails on a length that runs past b, which is the only way a
// malformed buffer can mislead the walk.
func walkAttrs(b []byte, fn func(typ uint16, data []byte) error) error {
	for len(b) > 0 {
		if len(b) < nlaHdrLen {
			return errAttrTruncated
		}
		l := int(binary.NativeEndian.Uint16(b))
		typ := binary.NativeEndian.Uint16(b[2:]) & nlaTypeMask
		if l < nlaHdrLen || l > len(b) {
			return errAttrTruncated
		}
		if err := fn(typ, b[nlaHdrLen:l]); err != nil {
			return err
		}
		next := align4(l)
		if next > len(b) {
			next = len(b)
		}
		b = b[next:]
	}
	return nil
}

// readBE16/readBE32/readU8 check the length of a fixed-size attribute.
func readU8(data []byte) (uint8, error) {
	if len(data) < 1 {
		return 0, errAttrTruncated
	}
	return data[0], nil
}

func readBE16(data []byte) (uint16, error) {
	if len(data) < 2 {
		return 0, errAttrTruncated
	}
	return binary.BigEndian.Uint16(data), nil
}

func readBE32(data []byte) (uint32, error) {
	if len(data) < 4 {
		return 0, errAttrTruncated
	}
	return binary.BigEndian.Uint32(data), nil
}
