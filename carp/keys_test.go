package carp

import (
	"encoding/hex"
	"errors"
	"io/fs"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rampart/config"
)

func testRing(t testing.TB, vhids []uint8, current Secret, previous ...Secret) *Keyring {
	t.Helper()
	r, err := NewKeyring(vhids, current, previous...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestDeriveKeyVector pins the derivation: a change here makes every
// deployed pair fail authentication during an upgrade.
func TestDeriveKeyVector(t *testing.T) {
	k, err := DeriveKey([]byte("correct horse battery staple"), 1)
	if err != nil {
		t.Fatal(err)
	}
	const want = "b8c6b26147e50731422b03c3a2edd07019328334756704eb53770792fb04c563" // checked against Python hmac (RFC 5869 by hand)
	if got := hex.EncodeToString(k[:]); got != want {
		t.Errorf("DeriveKey = %s, want %s", got, want)
	}
}

func TestDeriveKey(t *testing.T) {
	k1, _ := DeriveKey([]byte("s"), 1)
	k2, _ := DeriveKey([]byte("s"), 2)
	k1b, _ := DeriveKey([]byte("s"), 1)
	if k1 == k2 {
		t.Error("two groups got the same key")
	}
	if k1 != k1b {
		t.Error("derivation is not deterministic")
	}
	if _, err := DeriveKey(nil, 1); err == nil {
		t.Error("empty secret accepted")
	}
	if _, err := DeriveKey([]byte("s"), 0); err == nil {
		t.Error("vhid 0 accepted")
	}
}

func TestKeyringRotation(t *testing.T) {
	old := Secret{ID: 1, Bytes: []byte("old secret")}
	cur := Secret{ID: 2, Bytes: []byte("new secret")}
	sender := testRing(t, []uint8{5}, cur, old) // updated node
	oldOnly := testRing(t, []uint8{5}, old)     // not yet updated
	both := testRing(t, []uint8{5}, old, cur)   // sends with the old key, accepts both
	a := Advert{Type: TypeAdvert, VHID: 5, AdvBaseMS: 1000, Node: nodeID("a")}

	pkt, err := sender.Seal(a)
	if err != nil {
		t.Fatal(err)
	}
	oldPkt, _ := oldOnly.Seal(a)
	tests := []struct {
		name string
		ring *Keyring
		pkt  []byte
		want Reason
	}{
		{"new key, receiver has both", both, pkt, 0},
		{"new key, receiver has old only", oldOnly, pkt, ReasonKeyID},
		{"old key, sender updated keeps accepting", sender, oldPkt, 0},
		{"unknown group", testRing(t, []uint8{6}, cur), pkt, ReasonVHID},
		{"same id, other secret", testRing(t, []uint8{5}, Secret{ID: 2, Bytes: []byte("typo")}), pkt, ReasonAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.ring.Open(tt.pkt)
			if diff := cmp.Diff(tt.want.String(), ReasonOf(err).String()); diff != "" {
				t.Fatalf("Open reason (-want +got):\n%s", diff)
			}
			if err == nil && got.Node != a.Node {
				t.Errorf("Open returned node %v", got.Node)
			}
		})
	}
	if _, err := NewKeyring([]uint8{5}, cur, Secret{ID: 2, Bytes: []byte("x")}); err == nil {
		t.Error("duplicate key id accepted")
	}
	if _, err := sender.Seal(Advert{VHID: 9}); err == nil {
		t.Error("Seal for a group without keys succeeded")
	}
}

func TestSecretsFromConfig(t *testing.T) {
	files := map[string]string{"/k": "file key\n"}
	read := func(name string) ([]byte, error) {
		if s, ok := files[name]; ok {
			return []byte(s), nil
		}
		return nil, fs.ErrNotExist
	}
	cur, prev, err := SecretsFromConfig(config.HAAuth{
		KeyID: 2, KeyFile: "/k",
		Previous: []config.HAKey{{KeyID: 1, Passphrase: "old passphrase"}},
	}, read)
	if err != nil {
		t.Fatal(err)
	}
	want := []Secret{{ID: 2, Bytes: []byte("file key\n")}, {ID: 1, Bytes: []byte("old passphrase")}}
	if diff := cmp.Diff(want, append([]Secret{cur}, prev...)); diff != "" {
		t.Errorf("secrets (-want +got):\n%s", diff)
	}
	_, _, err = SecretsFromConfig(config.HAAuth{KeyFile: "/missing"}, read)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing key file: err = %v, want ErrNotExist", err)
	}
	for _, bad := range []config.HAAuth{{}, {Passphrase: "p", KeyFile: "/k"}} {
		if _, _, err := SecretsFromConfig(bad, read); err == nil {
			t.Errorf("SecretsFromConfig(%+v) succeeded", bad)
		}
	}
}
