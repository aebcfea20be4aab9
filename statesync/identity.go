package statesync

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"time"
)

// Key derivation inputs. They name the protocol so that a key derived
// here is valid for nothing else; the info names the node's sync-link
// address so that each node has its own key (see DeriveIdentity).
const (
	identitySalt       = "rampart statesync v1"
	identityInfoPrefix = "rampart statesync v1 ed25519 identity node="
)

// Identity is what a node proves and what it expects on the sync link:
// its own Ed25519 key and the peer's public key. Both come from the
// shared secret (DeriveIdentity) or are pinned by the caller.
type Identity struct {
	Key     ed25519.PrivateKey
	PeerKey ed25519.PublicKey
}

// ErrAuth wraps every failure to authenticate the peer or to be
// authenticated by it: different secrets, a wrong pinned key, or
// something else answering on the sync link.
var ErrAuth = errors.New("peer authentication failed")

// errPeerKey is what our certificate check returns.
var errPeerKey = errors.New("the peer's key is not the one derived from the shared secret (do both nodes have the same secret?)")

// DeriveKey derives the Ed25519 key of the node whose sync-link address
// is addr, with HKDF-SHA256 from the shared secret. The address is taken
// without IPv4-in-IPv6 mapping and without zone, so that both nodes name
// it alike.
//
// HKDF is not a password hash: whoever can open a TLS connection to a
// node gets its public key and can test guesses of a passphrase offline.
// The config asks for at least 16 characters; a key file of 32 random
// bytes is better.
func DeriveKey(secret []byte, addr netip.Addr) (ed25519.PrivateKey, error) {
	if len(secret) == 0 {
		return nil, errors.New("statesync: derive key: empty secret")
	}
	if !addr.IsValid() {
		return nil, errors.New("statesync: derive key: no node address")
	}
	seed, err := hkdf.Key(sha256.New, secret, []byte(identitySalt), identityInfoPrefix+addr.Unmap().WithZone("").String(), ed25519.SeedSize)
	if err != nil {
		return nil, fmt.Errorf("statesync: derive key for %v: %w", addr, err)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// DeriveIdentity derives this node's key from its own sync-link address
// and the peer's public key from the peer's address. The two keys
// differ, so a connection that is looped back to its own node (a
// misconfigured or hostile link) fails authentication instead of
// feeding a node its own table.
func DeriveIdentity(secret []byte, local, peer netip.Addr) (Identity, error) {
	if local.Unmap().WithZone("") == peer.Unmap().WithZone("") {
		return Identity{}, fmt.Errorf("statesync: derive identity: local and peer address are both %v", local)
	}
	own, err := DeriveKey(secret, local)
	if err != nil {
		return Identity{}, err
	}
	theirs, err := DeriveKey(secret, peer)
	if err != nil {
		return Identity{}, err
	}
	return Identity{Key: own, PeerKey: theirs.Public().(ed25519.PublicKey)}, nil
}

func (id Identity) check() error {
	if len(id.Key) != ed25519.PrivateKeySize || len(id.PeerKey) != ed25519.PublicKeySize {
		return errors.New("statesync: identity: missing or malformed key")
	}
	return nil
}

// certificate wraps the node's key in a self-signed certificate, the
// only way Go's TLS stack carries a raw public key. Nothing in it but the
// key is ever checked: no name, no validity period (a box without a
// battery-backed clock boots in 1970), no chain.
func (id Identity) certificate() (tls.Certificate, error) {
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "rampart statesync"},
		NotBefore:    time.Unix(0, 0),
		NotAfter:     time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	// Ed25519 signing is deterministic: rand is not used.
	der, err := x509.CreateCertificate(nil, tmpl, tmpl, id.Key.Public(), id.Key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("statesync: identity certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: id.Key}, nil
}

// verifyPeer accepts exactly one certificate whose public key is the
// expected one. TLS 1.3 has already checked the CertificateVerify
// signature with that key over the handshake transcript, so a match
// proves that the peer holds the private key.
func (id Identity) verifyPeer(raw [][]byte, _ [][]*x509.Certificate) error {
	if len(raw) != 1 {
		return fmt.Errorf("%w: %d certificates", errPeerKey, len(raw))
	}
	cert, err := x509.ParseCertificate(raw[0])
	if err != nil {
		return fmt.Errorf("%w: %v", errPeerKey, err)
	}
	pub, ok := cert.PublicKey.(ed25519.PublicKey)
	if !ok || subtle.ConstantTimeCompare(pub, id.PeerKey) != 1 {
		return errPeerKey
	}
	return nil
}

// tlsConfig is the TLS 1.3 configuration of either end. The server asks
// for a client certificate and checks it the same way the client checks
// the server's: mutual authentication, both against pinned keys.
func (id Identity) tlsConfig(server bool) (*tls.Config, error) {
	if err := id.check(); err != nil {
		return nil, err
	}
	cert, err := id.certificate()
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{
		MinVersion:             tls.VersionTLS13,
		MaxVersion:             tls.VersionTLS13,
		Certificates:           []tls.Certificate{cert},
		VerifyPeerCertificate:  id.verifyPeer,
		SessionTicketsDisabled: true,
	}
	if server {
		// RequireAnyClientCert: a certificate is required but no chain is
		// built; verifyPeer decides.
		cfg.ClientAuth = tls.RequireAnyClientCert
	} else {
		// No CA and no names: verifyPeer, which still runs, decides.
		cfg.InsecureSkipVerify = true
		cfg.ServerName = "rampart-statesync"
	}
	return cfg, nil
}

// authError wraps err with ErrAuth when it says that a certificate was
// refused: by our check, or by the peer, which shows as a TLS alert
// ("remote error"). Between two Rampart nodes the only alert the
// handshake sends is for a refused key; versions and ciphers are fixed.
// Other errors pass as they are.
func authError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, errPeerKey) {
		return fmt.Errorf("%w: %w", ErrAuth, err)
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "remote error" {
		return fmt.Errorf("%w: the peer refused our key (do both nodes have the same secret?): %w", ErrAuth, err)
	}
	return err
}
