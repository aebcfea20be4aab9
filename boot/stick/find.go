package stick

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// Device is a block device that holds the config stick's file system.
type Device struct {
	Name   string // kernel name, e.g. sdb1
	Path   string // e.g. /dev/sdb1
	FSType string // VFAT or Ext4
}

// Finder looks for a file system by label among the block devices.
type Finder struct {
	SysBlock string // /sys/class/block
	Dev      string // /dev
}

// DefaultFinder reads the running system's devices.
var DefaultFinder = Finder{SysBlock: "/sys/class/block", Dev: "/dev"}

// Wait polls every interval until a device labelled label appears or
// timeout passes. It returns (nil, nil) when there is none: booting
// without a stick is allowed.
func (f Finder) Wait(ctx context.Context, label string, timeout, interval time.Duration) (*Device, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		d, err := f.Find(label)
		if d != nil || err != nil {
			return d, err
		}
		select {
		case <-ctx.Done():
			return nil, nil
		case <-t.C:
		}
	}
}

// Find returns the first device, by kernel name, whose vfat or ext4 file
// system has the label, or nil. Devices it cannot read are skipped: an
// empty card reader or a CD drive without a disc is not an error.
func (f Finder) Find(label string) (*Device, error) {
	ents, err := os.ReadDir(f.SysBlock)
	if err != nil {
		return nil, fmt.Errorf("stick: list block devices: %w", err)
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for _, n := range names {
		if !candidate(n) {
			continue
		}
		p := filepath.Join(f.Dev, n)
		fstype, l, err := probeFile(p)
		if err == nil && l == label {
			return &Device{Name: n, Path: p, FSType: fstype}, nil
		}
	}
	return nil, nil
}

// candidate skips devices that cannot hold the stick: RAM disks, loop
// devices and the CD, which the image itself may be on.
func candidate(name string) bool {
	for _, p := range []string{"ram", "loop", "sr", "zram", "dm-"} {
		if len(name) >= len(p) && name[:len(p)] == p {
			return false
		}
	}
	return true
}

func probeFile(path string) (string, string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", "", err
	}
	defer fh.Close()
	return Probe(fh)
}

// Present reports whether the device still exists, e.g. after the stick
// has been pulled.
func (f Finder) Present(d *Device) bool {
	_, err := os.Stat(filepath.Join(f.SysBlock, d.Name))
	return err == nil
}
