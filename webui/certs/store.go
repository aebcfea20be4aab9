package certs

import (
	"fmt"
	"path/filepath"

	"rampart/internal/atomicfile"
	"rampart/internal/stickrw"
)

// Store keeps the certificate and its key as one PEM bundle. The caller
// decides where: the config stick, so the fingerprint an admin has
// accepted survives reboots and reinstalls. Load returns an error wrapping
// fs.ErrNotExist when there is none yet.
type Store interface {
	Load() ([]byte, error)
	Save(pemBundle []byte) error
}

// BundleFile is the name DirStore uses.
const BundleFile = "webui-tls.pem"

// maxBundleBytes bounds what Load reads: a P-256 bundle is about 1 KiB.
const maxBundleBytes = 64 << 10

// DirStore keeps the bundle in Dir/webui-tls.pem, readable by root only.
// One file, replaced atomically, so a power cut never pairs a new
// certificate with an old key.
type DirStore struct {
	Dir   string
	Stick *stickrw.Writer // the stick Dir is on, which Save remounts; nil for none
}

// Load reads the bundle.
func (d DirStore) Load() ([]byte, error) {
	data, err := atomicfile.ReadLimited(filepath.Join(d.Dir, BundleFile), maxBundleBytes)
	if err != nil {
		return nil, fmt.Errorf("certs: load: %w", err)
	}
	return data, nil
}

// Save replaces the bundle.
func (d DirStore) Save(pemBundle []byte) error {
	err := d.Stick.Do(func() error { return atomicfile.Write(filepath.Join(d.Dir, BundleFile), pemBundle, 0o600) })
	if err != nil {
		return fmt.Errorf("certs: save: %w", err)
	}
	return nil
}
