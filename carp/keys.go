package carp

import (
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
	"strconv"

	"rampart/config"
)

// Key derivation inputs. They name the protocol and its version so a key
// derived here is never valid for anything else, and the info names the
// group so that one advert cannot be replayed into another group even if
// the vhid byte were ignored.
const (
	hkdfSalt       = "rampart carp v1"
	hkdfInfoPrefix = "rampart carp v1 advert hmac-sha256 vhid="
)

// Secret is key material from the config: a passphrase's bytes, or a key
// file's bytes used verbatim (so a file copied to the peer gives the same
// key, trailing newline and all).
type Secret struct {
	ID    uint8
	Bytes []byte
}

// DeriveKey derives the advert key of one group with HKDF-SHA256.
//
// HKDF is not a password hash: anyone who captures an advert can test
// passphrase guesses offline at HMAC speed. A passphrase must therefore be
// long and random; a key file of 32 random bytes is better.
func DeriveKey(secret []byte, vhid uint8) (Key, error) {
	var k Key
	if len(secret) == 0 {
		return k, fmt.Errorf("carp: derive key for vhid %d: empty secret", vhid)
	}
	if vhid == 0 {
		return k, fmt.Errorf("carp: derive key: vhid 0")
	}
	b, err := hkdf.Key(sha256.New, secret, []byte(hkdfSalt), hkdfInfoPrefix+strconv.Itoa(int(vhid)), len(k))
	if err != nil {
		return k, fmt.Errorf("carp: derive key for vhid %d: %w", vhid, err)
	}
	copy(k[:], b)
	return k, nil
}

// SecretsFromConfig reads the current and previous secrets of an HA auth
// section. readFile is os.ReadFile in the daemon; it is passed in so that
// this stays free of I/O.
func SecretsFromConfig(a config.HAAuth, readFile func(string) ([]byte, error)) (current Secret, previous []Secret, err error) {
	current, err = secretFrom(a.KeyID, a.Passphrase, a.KeyFile, readFile)
	if err != nil {
		return Secret{}, nil, err
	}
	for _, k := range a.Previous {
		s, err := secretFrom(k.KeyID, k.Passphrase, k.KeyFile, readFile)
		if err != nil {
			return Secret{}, nil, err
		}
		previous = append(previous, s)
	}
	return current, previous, nil
}

func secretFrom(id uint8, pass, file string, readFile func(string) ([]byte, error)) (Secret, error) {
	switch {
	case pass != "" && file != "":
		return Secret{}, fmt.Errorf("carp: key %d: both a passphrase and a key file", id)
	case pass != "":
		return Secret{ID: id, Bytes: []byte(pass)}, nil
	case file == "":
		return Secret{}, fmt.Errorf("carp: key %d: no passphrase and no key file", id)
	}
	b, err := readFile(file)
	if err != nil {
		return Secret{}, fmt.Errorf("carp: key %d: read key file: %w", id, err)
	}
	return Secret{ID: id, Bytes: b}, nil
}

type keyIndex struct{ vhid, id uint8 }

// Keyring holds the derived keys of every group on this node: the current
// key, used to send, and previous keys, still accepted. Rotating is then:
// give the backups the new key as current and the old one as previous
// (backups send nothing, so nothing changes), then do the same on the
// master (it now sends with the new key, which the backups accept), then
// drop the old key everywhere. No step makes a node deaf to the master, so
// no step fails over.
type Keyring struct {
	current uint8
	keys    map[keyIndex]*Key
}

// NewKeyring derives the keys of the given groups.
func NewKeyring(vhids []uint8, current Secret, previous ...Secret) (*Keyring, error) {
	r := &Keyring{current: current.ID, keys: map[keyIndex]*Key{}}
	ids := map[uint8]bool{}
	for _, s := range append([]Secret{current}, previous...) {
		if ids[s.ID] {
			return nil, fmt.Errorf("carp: keyring: key id %d given twice", s.ID)
		}
		ids[s.ID] = true
		for _, v := range vhids {
			k, err := DeriveKey(s.Bytes, v)
			if err != nil {
				return nil, fmt.Errorf("carp: keyring: key %d: %w", s.ID, err)
			}
			r.keys[keyIndex{v, s.ID}] = &k
		}
	}
	return r, nil
}

// Has reports whether the ring holds keys for vhid.
func (r *Keyring) Has(vhid uint8) bool {
	_, ok := r.keys[keyIndex{vhid, r.current}]
	return ok
}

// Lookup returns the key for vhid and key id.
func (r *Keyring) Lookup(vhid, id uint8) (*Key, bool) {
	k, ok := r.keys[keyIndex{vhid, id}]
	return k, ok
}

// Seal sets a's key id to the current key and marshals it.
func (r *Keyring) Seal(a Advert) ([]byte, error) {
	k, ok := r.keys[keyIndex{a.VHID, r.current}]
	if !ok {
		return nil, fmt.Errorf("carp: seal advert: no key for vhid %d", a.VHID)
	}
	a.KeyID = r.current
	return a.Marshal(k), nil
}

// Open parses b and authenticates it with the key its vhid and key id
// name. A non-nil error is always a Reason.
func (r *Keyring) Open(b []byte) (Advert, error) {
	a, err := Parse(b)
	if err != nil {
		return Advert{}, err
	}
	if !r.Has(a.VHID) {
		return Advert{}, ReasonVHID
	}
	k, ok := r.Lookup(a.VHID, a.KeyID)
	if !ok {
		return Advert{}, ReasonKeyID
	}
	if !Verify(b, k) {
		return Advert{}, ReasonAuth
	}
	return a, nil
}
