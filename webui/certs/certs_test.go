package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"rampart/internal/stickrw"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time          { return c.t }
func (c *fakeClock) Advance(d time.Duration) { c.t = c.t.Add(d) }

type memStore struct {
	bundle  []byte
	saves   int
	saveErr error
}

func (m *memStore) Load() ([]byte, error) {
	if m.bundle == nil {
		return nil, fs.ErrNotExist
	}
	return m.bundle, nil
}

func (m *memStore) Save(b []byte) error {
	if m.saveErr != nil {
		return m.saveErr
	}
	m.bundle = b
	m.saves++
	return nil
}

var addrEqual = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

var testCfg = Config{
	Hostname: "FW1.example.net",
	Addrs:    []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")},
}

func setup(t *testing.T) (*memStore, *fakeClock) {
	t.Helper()
	return &memStore{}, &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func TestFirstBootCreatesAndSaves(t *testing.T) {
	st, clk := setup(t)
	m := NewManager(st, testCfg, clk.Now)
	if _, err := m.GetCertificate(nil); err == nil {
		t.Error("GetCertificate before Ensure returned a certificate")
	}
	info, created, err := m.Ensure()
	if err != nil || !created || st.saves != 1 {
		t.Fatalf("Ensure() = created %v, err %v, %d saves; want a new saved certificate", created, err, st.saves)
	}
	want := Info{
		Fingerprint: info.Fingerprint,
		NotBefore:   clk.t.Add(-time.Hour),
		NotAfter:    clk.t.Add(397 * 24 * time.Hour),
		DNSNames:    []string{"fw1.example.net"},
		Addrs:       testCfg.Addrs,
	}
	if diff := cmp.Diff(want, info, addrEqual); diff != "" {
		t.Errorf("Info (-want +got):\n%s", diff)
	}
	c, err := m.GetCertificate(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.PrivateKey.(*ecdsa.PrivateKey); !ok || c.Leaf.PublicKey.(*ecdsa.PublicKey).Curve != elliptic.P256() {
		t.Errorf("key is %T, want ECDSA P-256", c.PrivateKey)
	}
	sum := sha256.Sum256(c.Certificate[0])
	if got := strings.ReplaceAll(info.Fingerprint, ":", ""); got != strings.ToUpper(hex.EncodeToString(sum[:])) {
		t.Errorf("fingerprint %s is not the SHA-256 of the served DER", info.Fingerprint)
	}
	if len(info.Fingerprint) != 32*3-1 {
		t.Errorf("fingerprint %q is not 32 colon-separated bytes", info.Fingerprint)
	}
}

func TestRebootKeepsCertificate(t *testing.T) {
	st, clk := setup(t)
	first, _, _ := NewManager(st, testCfg, clk.Now).Ensure()
	clk.Advance(100 * 24 * time.Hour)
	again, created, err := NewManager(st, testCfg, clk.Now).Ensure()
	if err != nil || created || again.Fingerprint != first.Fingerprint {
		t.Errorf("after reboot: created %v, err %v, fingerprint %s, want the stored %s", created, err, again.Fingerprint, first.Fingerprint)
	}
}

func TestRenewal(t *testing.T) {
	st, clk := setup(t)
	m := NewManager(st, testCfg, clk.Now)
	first, _, _ := m.Ensure()
	clk.Advance(397*24*time.Hour - 30*24*time.Hour - time.Minute) // 30 days and a minute left
	if info, created, _ := m.Ensure(); created || info.Fingerprint != first.Fingerprint {
		t.Fatal("renewed with more than 30 days left")
	}
	clk.Advance(2 * time.Minute) // a daily check would see this
	info, created, err := m.Ensure()
	if err != nil || !created || info.Fingerprint == first.Fingerprint || st.saves != 2 {
		t.Fatalf("with under 30 days left: created %v, err %v, saves %d; want a new saved certificate", created, err, st.saves)
	}
	if want := clk.t.Add(397 * 24 * time.Hour); !info.NotAfter.Equal(want) {
		t.Errorf("renewed NotAfter %v, want %v", info.NotAfter, want)
	}
	served, _ := m.GetCertificate(nil)
	if Fingerprint(served.Certificate[0]) != info.Fingerprint {
		t.Error("GetCertificate still serves the old certificate")
	}
}

func TestClockBehindKeepsCertificate(t *testing.T) {
	st, clk := setup(t)
	first, _, _ := NewManager(st, testCfg, clk.Now).Ensure()
	clk.t = time.Unix(0, 0) // no clock battery, no NTP yet
	info, created, _ := NewManager(st, testCfg, clk.Now).Ensure()
	if created || info.Fingerprint != first.Fingerprint {
		t.Error("a clock in 1970 replaced the certificate")
	}
}

func TestNewAddressReissues(t *testing.T) {
	st, clk := setup(t)
	first, _, _ := NewManager(st, testCfg, clk.Now).Ensure()
	cfg := testCfg
	cfg.Addrs = append([]netip.Addr{netip.MustParseAddr("198.51.100.1")}, testCfg.Addrs...)
	info, created, _ := NewManager(st, cfg, clk.Now).Ensure()
	if !created || info.Fingerprint == first.Fingerprint || !cmp.Equal(info.Addrs, normalize(cfg.Addrs), addrEqual) {
		t.Errorf("a new management address did not reissue: %+v", info)
	}
	cfg.Addrs = cfg.Addrs[:1] // dropping an address keeps the certificate
	again, created, _ := NewManager(st, cfg, clk.Now).Ensure()
	if created || again.Fingerprint != info.Fingerprint {
		t.Error("dropping an address reissued the certificate")
	}
}

func TestCorruptBundleReplaced(t *testing.T) {
	st, clk := setup(t)
	st.bundle = []byte("-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n")
	if _, created, err := NewManager(st, testCfg, clk.Now).Ensure(); err != nil || !created {
		t.Errorf("corrupt bundle: created %v, err %v; want a fresh certificate", created, err)
	}
}

func TestSaveFailureStillServes(t *testing.T) {
	st, clk := setup(t)
	st.saveErr = errors.New("read-only stick")
	m := NewManager(st, testCfg, clk.Now)
	if _, _, err := m.Ensure(); err == nil {
		t.Error("Ensure hid the save error")
	}
	if _, err := m.GetCertificate(nil); err != nil {
		t.Errorf("GetCertificate after a failed save: %v", err)
	}
}

func TestDirStore(t *testing.T) {
	dir := t.TempDir()
	st := DirStore{Dir: dir}
	if _, err := st.Load(); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of an empty dir = %v, want fs.ErrNotExist", err)
	}
	clk := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	first, _, err := NewManager(st, testCfg, clk.Now).Ensure()
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, BundleFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("bundle file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	again, created, _ := NewManager(st, testCfg, clk.Now).Ensure()
	if created || again.Fingerprint != first.Fingerprint {
		t.Error("DirStore did not keep the certificate")
	}
}

// On the stick, Save writes between a read-write and a read-only remount
// (rampart/internal/stickrw).
func TestDirStoreRemountsStick(t *testing.T) {
	dir := t.TempDir()
	var log []string
	st := DirStore{Dir: dir, Stick: &stickrw.Writer{Lock: filepath.Join(dir, "lock"), Remount: func(ro bool) error {
		_, err := os.Stat(filepath.Join(dir, BundleFile))
		log = append(log, fmt.Sprintf("ro=%v exists=%v", ro, err == nil))
		return nil
	}}}
	if err := st.Save([]byte("bundle")); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"ro=false exists=false", "ro=true exists=true"}, log); diff != "" {
		t.Errorf("remounts (-want +got):\n%s", diff)
	}
}

// EnsureLater puts a new certificate in use at once and leaves the write
// to the caller (a server listens first, then writes to the stick); a
// certificate replaced before its save is not written over the newer one.
func TestEnsureLaterSavesWhenAsked(t *testing.T) {
	st, clk := setup(t)
	m := NewManager(st, testCfg, clk.Now)
	info, save, err := m.EnsureLater()
	if err != nil || save == nil {
		t.Fatalf("EnsureLater: save %v, err %v; want a save for a new certificate", save != nil, err)
	}
	if cur, ok := m.Current(); !ok || cur.Fingerprint != info.Fingerprint {
		t.Fatalf("certificate not in use before the save")
	}
	if st.saves != 0 {
		t.Fatalf("saved %d times before save was called", st.saves)
	}
	if err := save(); err != nil || st.saves != 1 {
		t.Fatalf("save: err %v, saves %d", err, st.saves)
	}
	if _, again, _ := m.EnsureLater(); again != nil {
		t.Error("a second EnsureLater wants to save again")
	}

	// Renewal replaces the certificate before the first one's save ran.
	st2, clk2 := setup(t)
	m2 := NewManager(st2, testCfg, clk2.Now)
	_, stale, _ := m2.EnsureLater()
	clk2.Advance(DefaultValidity)
	_, fresh, _ := m2.EnsureLater()
	if stale == nil || fresh == nil {
		t.Fatal("want two new certificates")
	}
	if err := fresh(); err != nil {
		t.Fatal(err)
	}
	kept := st2.bundle
	if err := stale(); err != nil || string(st2.bundle) != string(kept) {
		t.Errorf("the stale save overwrote the newer certificate (err %v)", err)
	}
}
