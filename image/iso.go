package image

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Files of the Debian packages the image is made from.
const (
	isolinuxBin  = "/usr/lib/ISOLINUX/isolinux.bin"             // isolinux
	isohybridMBR = "/usr/lib/ISOLINUX/isohdpfx.bin"             // isolinux
	ldlinuxC32   = "/usr/lib/syslinux/modules/bios/ldlinux.c32" // syslinux-common
	grubEFIDir   = "/usr/lib/grub/x86_64-efi"                   // grub-efi-amd64-bin
)

// VolumeLabel is the ISO's label. GRUB finds its files by it; it differs
// from the config stick's label (RAMPART), which PID 1 looks for.
const VolumeLabel = "RAMPART_BOOT"

// Paths inside the ISO.
const (
	isoKernel = "/boot/vmlinuz"
	isoInitrd = "/boot/initrd.img"
	isoEFIImg = "/boot/efi.img"
)

// grubModules are what the UEFI loader needs to find the ISO by label on
// a CD or a USB disk and boot Linux from it.
var grubModules = []string{
	"part_gpt", "part_msdos", "iso9660", "fat", "search", "search_label",
	"linux", "efi_gop", "efi_uga", "video_fb", "echo", "boot",
}

// isoTree lays out the ISO's files in dir.
func isoTree(ctx context.Context, dir, vmlinuz string, initrd []byte, cmdline string, epoch time.Time) error {
	files := map[string]string{
		"isolinux/isolinux.bin": isolinuxBin,
		"isolinux/ldlinux.c32":  ldlinuxC32,
		isoKernel[1:]:           vmlinuz,
	}
	for dst, src := range files {
		if err := copyFile(src, filepath.Join(dir, dst)); err != nil {
			return err
		}
	}
	if err := writeFile(filepath.Join(dir, isoInitrd), initrd); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, "isolinux/isolinux.cfg"), []byte(isolinuxConfig(cmdline))); err != nil {
		return err
	}
	efiDir, err := os.MkdirTemp("", "rampart-efi-")
	if err != nil {
		return fmt.Errorf("iso: %w", err)
	}
	defer os.RemoveAll(efiDir)
	if err := efiImage(ctx, efiDir, filepath.Join(dir, isoEFIImg), cmdline, epoch); err != nil {
		return err
	}
	return setTimes(dir, epoch)
}

// isolinuxConfig boots at once: a firewall has nobody at its keyboard.
func isolinuxConfig(cmdline string) string {
	return "serial 0 115200\ndefault rampart\nprompt 0\ntimeout 0\n" +
		"label rampart\n  kernel " + isoKernel + "\n  append initrd=" + isoInitrd + " " + cmdline + "\n"
}

// grubConfig is embedded in the UEFI loader. It runs in GRUB's rescue
// parser, so it is plain commands: no menu, no scripting, no delay.
func grubConfig(cmdline string) string {
	return "search --no-floppy --set=root --label " + VolumeLabel + "\n" +
		"linux " + isoKernel + " " + cmdline + "\n" +
		"initrd " + isoInitrd + "\n" +
		"boot\n"
}

// efiImage builds the FAT image El Torito and the GPT point UEFI at: it
// holds only \EFI\BOOT\BOOTX64.EFI, a GRUB with its config built in.
func efiImage(ctx context.Context, tmp, out, cmdline string, epoch time.Time) error {
	cfg := filepath.Join(tmp, "grub.cfg")
	if err := writeFile(cfg, []byte(grubConfig(cmdline))); err != nil {
		return err
	}
	efi := filepath.Join(tmp, "BOOTX64.EFI")
	args := append([]string{"-O", "x86_64-efi", "-d", grubEFIDir, "-p", "/boot/grub", "-c", cfg, "-o", efi}, grubModules...)
	if err := run(ctx, "", "grub-mkimage", args...); err != nil {
		return fmt.Errorf("iso: %w", err)
	}
	fi, err := os.Stat(efi)
	if err != nil {
		return fmt.Errorf("iso: %w", err)
	}
	if err := os.Chtimes(efi, epoch, epoch); err != nil {
		return fmt.Errorf("iso: %w", err)
	}
	// Room for the FAT itself and the directories.
	kb := fi.Size()/1024 + 256
	env := []string{"SOURCE_DATE_EPOCH=" + strconv.FormatInt(epoch.Unix(), 10), "TZ=UTC", "MTOOLS_SKIP_CHECK=1"}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return fmt.Errorf("iso: %w", err)
	}
	_ = os.Remove(out)
	steps := [][]string{
		{"mkfs.fat", "-C", "--invariant", "-i", "52414d50", "-n", "EFIBOOT", out, strconv.FormatInt(kb, 10)},
		{"mmd", "-i", out, "::/EFI", "::/EFI/BOOT"},
		{"mcopy", "-m", "-i", out, efi, "::/EFI/BOOT/BOOTX64.EFI"},
	}
	for _, s := range steps {
		if err := runEnv(ctx, "", env, s[0], s[1:]...); err != nil {
			return fmt.Errorf("iso: %w", err)
		}
	}
	return nil
}

// xorriso writes the hybrid ISO: El Torito for BIOS (isolinux) and UEFI
// (the FAT image) on CD, and an MBR plus a GPT for the same two when the
// file is written to a USB stick. SOURCE_DATE_EPOCH makes xorriso fix
// every date and the volume UUID.
func xorriso(ctx context.Context, tree, out string, epoch time.Time) error {
	args := []string{"-as", "mkisofs", "-quiet", "-o", out,
		"-V", VolumeLabel, "-r", "-J",
		"-isohybrid-mbr", isohybridMBR,
		"-c", "isolinux/boot.cat",
		"-b", "isolinux/isolinux.bin", "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table",
		"-eltorito-alt-boot",
		"-e", isoEFIImg[1:], "-no-emul-boot", "-isohybrid-gpt-basdat",
		tree}
	env := []string{"SOURCE_DATE_EPOCH=" + strconv.FormatInt(epoch.Unix(), 10), "TZ=UTC"}
	_ = os.Remove(out)
	if err := runEnv(ctx, "", env, "xorriso", args...); err != nil {
		return fmt.Errorf("iso: %w", err)
	}
	return nil
}

func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("iso: %w", err)
	}
	return writeFile(dst, data)
}

func writeFile(name string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return fmt.Errorf("iso: %w", err)
	}
	if err := os.WriteFile(name, data, 0o644); err != nil {
		return fmt.Errorf("iso: %w", err)
	}
	return nil
}

// setTimes gives every file and directory the same time stamp.
func setTimes(dir string, t time.Time) error {
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(p, t, t)
	})
}
