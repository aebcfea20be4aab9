package carp

import (
	"bytes"
	"fmt"
)

// NodeIDLen is the size of the sender field on the wire.
const NodeIDLen = 16

// NodeID names the node that sent an advert: its config node_id, zero-padded.
// It is inside the signed part, so the replay window is kept per sender
// rather than per source address (the same advert arrives from two addresses
// over the two paths), and it breaks ties between equal priorities. Padding
// with zeros keeps the byte order equal to the order of the names, so on
// equal priority the node whose name sorts first wins: "a" beats "b".
type NodeID [NodeIDLen]byte

// ParseNodeID turns a config node_id into a NodeID. It is 1 to 16 bytes
// with no NUL, since NUL is the padding.
func ParseNodeID(name string) (NodeID, error) {
	var id NodeID
	switch {
	case name == "":
		return id, fmt.Errorf("carp: node id: empty")
	case len(name) > NodeIDLen:
		return id, fmt.Errorf("carp: node id %q: longer than %d bytes", name, NodeIDLen)
	case bytes.IndexByte([]byte(name), 0) >= 0:
		return id, fmt.Errorf("carp: node id %q: contains NUL", name)
	}
	copy(id[:], name)
	return id, nil
}

func (n NodeID) String() string {
	if i := bytes.IndexByte(n[:], 0); i >= 0 {
		return string(n[:i])
	}
	return string(n[:])
}

// IsZero reports whether n is unset.
func (n NodeID) IsZero() bool { return n == NodeID{} }

// canonical reports whether n is what ParseNodeID makes: a non-empty name
// followed only by padding.
func (n NodeID) canonical() bool {
	i := bytes.IndexByte(n[:], 0)
	if i < 0 {
		return true
	}
	return i > 0 && bytes.Count(n[i:], []byte{0}) == NodeIDLen-i
}

// Compare orders node ids by their bytes, which is the order of their names.
func (n NodeID) Compare(o NodeID) int { return bytes.Compare(n[:], o[:]) }
