package boot

import (
	"errors"
	"fmt"
	"os"

	"github.com/u-root/u-root/pkg/mount"
	"golang.org/x/sys/unix"
)

// earlyMount is one of the file systems every later step needs.
type earlyMount struct {
	fstype, dir, data string
	flags             uintptr
}

// earlyMounts: /dev first, since the rest may log to the console.
var earlyMounts = []earlyMount{
	{"devtmpfs", "/dev", "mode=0755", unix.MS_NOSUID},
	{"proc", "/proc", "", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC},
	{"sysfs", "/sys", "", unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC},
	{"devpts", "/dev/pts", "mode=0620,ptmxmode=0666", unix.MS_NOSUID | unix.MS_NOEXEC},
	{"tmpfs", "/run", "mode=0755,size=20%", unix.MS_NOSUID | unix.MS_NODEV},
	{"tmpfs", "/tmp", "mode=1777,size=20%", unix.MS_NOSUID | unix.MS_NODEV},
}

// mountEarly mounts the kernel and RAM file systems. Each must succeed:
// without them nothing else works. One already mounted (EBUSY) is fine.
func mountEarly() error {
	for _, m := range earlyMounts {
		if err := os.MkdirAll(m.dir, 0o755); err != nil {
			return fmt.Errorf("boot: mount %s: %w", m.dir, err)
		}
		_, err := mount.Mount(m.fstype, m.dir, m.fstype, m.data, m.flags)
		if err != nil && !errors.Is(err, unix.EBUSY) {
			return fmt.Errorf("boot: mount %s on %s: %w", m.fstype, m.dir, err)
		}
	}
	return nil
}
