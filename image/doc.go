// Package image builds Rampart's bootable ISO: a hybrid image that boots
// from CD and from a USB stick, on BIOS (isolinux) and UEFI (GRUB). It is
// made from Debian packages only: the kernel and its modules come from
// linux-image-amd64, the boot loaders from isolinux and
// grub-efi-amd64-bin, and xorriso, mtools and dosfstools put it together.
//
// The initramfs is the whole root file system and is written here, in Go,
// with u-root's pkg/cpio. It holds the static rampart binary as /init, a
// /dev/console node, /sbin/modprobe pointing at /init so the kernel's
// module autoload reaches our modprobe, and the modules the appliance
// needs with the index files modprobe reads (see rampart/boot/kmod). It
// holds nothing else: no shell, no busybox.
//
// The build is reproducible: the same inputs (kernel package, rampart
// binary, SOURCE_DATE_EPOCH) give the same bytes.
//
// This package is a build tool. It is never linked into the firmware;
// cmd/rampart's deps test enforces it.
package image
