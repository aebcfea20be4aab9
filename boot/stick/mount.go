package stick

import (
	"fmt"
	"os"

	"github.com/u-root/u-root/pkg/mount"
	"golang.org/x/sys/unix"
)

// Flags for every mount of the stick: it holds data, never programs.
const baseFlags = unix.MS_NOATIME | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_NOSUID

// Mount is the mounted stick. Writers remount it through
// rampart/internal/stickrw, which serialises them across processes.
type Mount struct {
	Dev *Device
	Dir string
}

// MountRO mounts the device read-only on dir, creating dir.
func MountRO(d *Device, dir string) (*Mount, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("stick: mount: %w", err)
	}
	if _, err := mount.Mount(d.Path, dir, d.FSType, fsData(d.FSType), baseFlags|unix.MS_RDONLY); err != nil {
		return nil, fmt.Errorf("stick: mount %s on %s: %w", d.Path, dir, err)
	}
	return &Mount{Dev: d, Dir: dir}, nil
}

// fsData are the file system options. vfat: lower-case short names as
// written, and files owned by root.
func fsData(fstype string) string {
	if fstype == VFAT {
		return "shortname=mixed,uid=0,gid=0,fmask=0077,dmask=0077"
	}
	return ""
}

// Remount switches the stick mounted on dir between read-only and
// read-write. Going read-only flushes it first. A process other than
// PID 1 (the appliance) uses this with the mount point it was given.
func Remount(dir, fstype string, readOnly bool) error {
	flags := uintptr(baseFlags | unix.MS_REMOUNT)
	if readOnly {
		if err := syncDir(dir); err != nil {
			return err
		}
		flags |= unix.MS_RDONLY
	}
	if err := unix.Mount("", dir, fstype, flags, fsData(fstype)); err != nil {
		return fmt.Errorf("stick: remount %s (read-only %v): %w", dir, readOnly, err)
	}
	return nil
}

// Unmount flushes and unmounts the stick. If it is busy it is detached,
// after a read-only remount so that nothing more is written.
func (m *Mount) Unmount() error {
	if err := syncDir(m.Dir); err != nil {
		return err
	}
	if err := unix.Unmount(m.Dir, 0); err == nil {
		return nil
	}
	_ = Remount(m.Dir, m.Dev.FSType, true)
	if err := unix.Unmount(m.Dir, unix.MNT_DETACH); err != nil {
		return fmt.Errorf("stick: unmount %s: %w", m.Dir, err)
	}
	return nil
}

// Detach drops the mount of a stick that has been pulled.
func (m *Mount) Detach() error {
	if err := unix.Unmount(m.Dir, unix.MNT_DETACH); err != nil {
		return fmt.Errorf("stick: detach %s: %w", m.Dir, err)
	}
	return nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("stick: sync: %w", err)
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return fmt.Errorf("stick: sync %s: %w", dir, err)
	}
	return nil
}

// Environment PID 1 gives the appliance when a stick is mounted, so that
// the appliance's writes (config store, web UI state) can remount it:
// rampart/internal/stickrw.FromEnv.
const (
	EnvDir = "RAMPART_STICK"    // the mount point, e.g. /stick
	EnvFS  = "RAMPART_STICK_FS" // VFAT or Ext4
)
