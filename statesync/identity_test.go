package statesync

import (
	"bytes"
	"crypto/ed25519"
	"testing"
)

func TestDeriveIdentity(t *testing.T) {
	secret := []byte("correct horse battery staple")
	a, b := addr("10.99.0.1"), addr("10.99.0.2")
	ida, err := DeriveIdentity(secret, a, b)
	if err != nil {
		t.Fatal(err)
	}
	idb, err := DeriveIdentity(secret, b, a)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ida.PeerKey, idb.Key.Public().(ed25519.PublicKey)) || !bytes.Equal(idb.PeerKey, ida.Key.Public().(ed25519.PublicKey)) {
		t.Errorf("each node's peer key must be the other's public key")
	}
	if bytes.Equal(ida.Key, idb.Key) {
		t.Errorf("the two nodes derived the same key")
	}
	again, _ := DeriveIdentity(secret, a, b)
	if !bytes.Equal(again.Key, ida.Key) {
		t.Errorf("derivation is not deterministic")
	}
	other, _ := DeriveIdentity([]byte("correct horse battery stapler"), a, b)
	if bytes.Equal(other.Key, ida.Key) {
		t.Errorf("another secret gave the same key")
	}
	mapped, _ := DeriveIdentity(secret, addr("::ffff:10.99.0.1"), b)
	if !bytes.Equal(mapped.Key, ida.Key) {
		t.Errorf("a v4-mapped address derived another key")
	}
	zoned, _ := DeriveIdentity(secret, addr("fe80::1%sync"), addr("fe80::2"))
	plain, _ := DeriveIdentity(secret, addr("fe80::1"), addr("fe80::2%sync"))
	if !bytes.Equal(zoned.Key, plain.Key) || !bytes.Equal(zoned.PeerKey, plain.PeerKey) {
		t.Errorf("an address zone changed the keys")
	}
	if _, err := DeriveIdentity(secret, a, a); err == nil {
		t.Errorf("same local and peer address accepted")
	}
	if _, err := DeriveIdentity(nil, a, b); err == nil {
		t.Errorf("empty secret accepted")
	}
}

func TestVerifyPeer(t *testing.T) {
	secret := []byte("0123456789abcdef")
	ida, _ := DeriveIdentity(secret, addr("10.99.0.1"), addr("10.99.0.2"))
	idb, _ := DeriveIdentity(secret, addr("10.99.0.2"), addr("10.99.0.1"))
	certA, err := ida.certificate()
	if err != nil {
		t.Fatal(err)
	}
	certB, _ := idb.certificate()
	if err := idb.verifyPeer(certA.Certificate, nil); err != nil {
		t.Errorf("b refuses a's certificate: %v", err)
	}
	if err := ida.verifyPeer(certA.Certificate, nil); err == nil {
		t.Errorf("a accepts its own certificate from the peer")
	}
	if err := ida.verifyPeer(append(certB.Certificate, certB.Certificate...), nil); err == nil {
		t.Errorf("a accepts a chain of two")
	}
	if err := ida.verifyPeer([][]byte{[]byte("junk")}, nil); err == nil {
		t.Errorf("a accepts junk")
	}
}
