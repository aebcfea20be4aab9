// Package certs gives the web UI its HTTPS certificate: ECDSA P-256,
// self-signed, made on first boot, kept on the stick, and renewed well
// before it expires. pfSense boxes locked their admins out with an expired
// self-signed certificate; this one is checked at start and daily.
//
// The admin trusts the certificate by its SHA-256 fingerprint, which the
// console prints. A renewal changes the fingerprint, so it happens a month
// early, when the admin is not in a hurry.
package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for Config. 397 days is the longest validity browsers accept
// for a server certificate (CA/Browser Forum, since September 2020).
const (
	DefaultValidity    = 397 * 24 * time.Hour
	DefaultRenewBefore = 30 * 24 * time.Hour
	// backdate covers a peer clock a little behind ours.
	backdate = time.Hour
)

// Config names the certificate's subject.
type Config struct {
	Hostname    string       // DNS SAN and common name; empty for none
	Addrs       []netip.Addr // IP SANs: the management addresses
	Validity    time.Duration
	RenewBefore time.Duration
}

// Info describes the certificate in use, for the console.
type Info struct {
	Fingerprint string // SHA-256 of the DER, colon-separated hex, as browsers show it
	NotBefore   time.Time
	NotAfter    time.Time
	DNSNames    []string
	Addrs       []netip.Addr
}

// Manager holds the certificate in use and renews it. GetCertificate reads
// it without a lock, so a renewal never blocks a handshake.
type Manager struct {
	store Store
	cfg   Config
	now   func() time.Time
	mu    sync.Mutex // serializes Ensure
	cur   atomic.Pointer[loaded]
}

type loaded struct {
	tls  tls.Certificate
	info Info
}

// NewManager returns a Manager; call Ensure before serving.
func NewManager(store Store, cfg Config, now func() time.Time) *Manager {
	if cfg.Validity <= 0 {
		cfg.Validity = DefaultValidity
	}
	if cfg.RenewBefore <= 0 {
		cfg.RenewBefore = DefaultRenewBefore
	}
	cfg.Addrs = normalize(cfg.Addrs)
	return &Manager{store: store, cfg: cfg, now: now}
}

// Ensure makes sure a certificate is in use that covers the configured
// names and has more than RenewBefore left: the one in memory, else the
// stored one, else a new one, which it saves. created reports a new
// certificate (and so a new fingerprint). If saving fails, the new
// certificate is still served from memory and the error is returned.
func (m *Manager) Ensure() (info Info, created bool, err error) {
	info, save, err := m.EnsureLater()
	if save != nil {
		return info, true, save()
	}
	return info, false, err
}

// EnsureLater is Ensure, except that a new certificate is only put in
// use, and save, non-nil then, keeps it in the store: a server can listen
// first and write to the stick after (the write remounts the stick and
// flushes it, a quarter of a second under emulation at boot).
func (m *Manager) EnsureLater() (info Info, save func() error, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur := m.cur.Load(); cur != nil && m.usable(cur.info) {
		return cur.info, nil, nil
	}
	if l, err := m.load(); err == nil && m.usable(l.info) {
		m.cur.Store(l)
		return l.info, nil, nil
	}
	bundle, l, err := m.generate()
	if err != nil {
		return Info{}, nil, err
	}
	m.cur.Store(l)
	save = func() error {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.cur.Load() != l { // replaced meanwhile: keep the newer one
			return nil
		}
		if err := m.store.Save(bundle); err != nil {
			return fmt.Errorf("certs: keep new certificate: %w", err)
		}
		return nil
	}
	return l.info, save, nil
}

// Current describes the certificate in use; ok is false before Ensure.
func (m *Manager) Current() (Info, bool) {
	cur := m.cur.Load()
	if cur == nil {
		return Info{}, false
	}
	return cur.info, true
}

// GetCertificate is for tls.Config.GetCertificate.
func (m *Manager) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	cur := m.cur.Load()
	if cur == nil {
		return nil, errors.New("certs: no certificate yet")
	}
	return &cur.tls, nil
}

// usable says whether a certificate may stay. A certificate not yet valid
// is kept: a box without a clock battery boots in 1970, and replacing the
// certificate then would change the fingerprint at every boot.
func (m *Manager) usable(info Info) bool {
	if info.NotAfter.Sub(m.now()) <= m.cfg.RenewBefore {
		return false
	}
	if m.cfg.Hostname != "" && !slices.Contains(info.DNSNames, strings.ToLower(m.cfg.Hostname)) {
		return false
	}
	for _, a := range m.cfg.Addrs {
		if !slices.Contains(info.Addrs, a) {
			return false
		}
	}
	return true
}

func (m *Manager) load() (*loaded, error) {
	bundle, err := m.store.Load()
	if err != nil {
		return nil, err
	}
	return parse(bundle)
}

func parse(bundle []byte) (*loaded, error) {
	c, err := tls.X509KeyPair(bundle, bundle)
	if err != nil {
		return nil, fmt.Errorf("certs: parse bundle: %w", err)
	}
	if c.Leaf == nil {
		if c.Leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return nil, fmt.Errorf("certs: parse bundle: %w", err)
		}
	}
	return &loaded{tls: c, info: describe(c.Leaf)}, nil
}

func (m *Manager) generate() ([]byte, *loaded, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: generate key: %w", err)
	}
	der, err := x509.CreateCertificate(rand.Reader, m.template(), m.template(), &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: create certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: encode key: %w", err)
	}
	bundle := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	bundle = append(bundle, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
	l, err := parse(bundle)
	return bundle, l, err
}

func (m *Manager) template() *x509.Certificate {
	now := m.now()
	serial := make([]byte, 16)
	rand.Read(serial)
	cn := "rampart"
	var dns []string
	if m.cfg.Hostname != "" {
		cn = strings.ToLower(m.cfg.Hostname)
		dns = []string{cn}
	}
	var ips []net.IP
	for _, a := range m.cfg.Addrs {
		ips = append(ips, net.IP(a.AsSlice()))
	}
	return &x509.Certificate{
		SerialNumber:          new(big.Int).SetBytes(serial),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"Rampart self-signed"}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(m.cfg.Validity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              dns,
		IPAddresses:           ips,
	}
}

func describe(c *x509.Certificate) Info {
	var addrs []netip.Addr
	for _, ip := range c.IPAddresses {
		if a, ok := netip.AddrFromSlice(ip); ok {
			addrs = append(addrs, a)
		}
	}
	return Info{
		Fingerprint: Fingerprint(c.Raw),
		NotBefore:   c.NotBefore,
		NotAfter:    c.NotAfter,
		DNSNames:    c.DNSNames,
		Addrs:       normalize(addrs),
	}
}

// Fingerprint is the SHA-256 of a DER certificate as browsers display it:
// upper-case hex bytes separated by colons.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	parts := make([]string, 0, len(sum))
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}

func normalize(addrs []netip.Addr) []netip.Addr {
	out := make([]netip.Addr, 0, len(addrs))
	for _, a := range addrs {
		if a.IsValid() {
			out = append(out, a.Unmap().WithZone(""))
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out)
}
