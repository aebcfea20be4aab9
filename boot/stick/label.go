// Package stick finds, mounts and watches the config stick: a USB stick
// with a vfat or ext4 file system labelled RAMPART. It is found by label
// because /dev/sdX names move between boots and USB storage appears late.
// It is mounted read-only and remounted read-write only while a config
// write runs, so that pulling it, or a power cut, finds it clean.
package stick

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Label is the file system label of the config stick.
const Label = "RAMPART"

// File system types Probe recognises, as mount(2) names them.
const (
	VFAT = "vfat"
	Ext4 = "ext4"
)

// ErrUnknownFS means the device holds neither vfat nor ext2/3/4.
var ErrUnknownFS = errors.New("no vfat or ext4 file system")

// Probe reads the superblock at the start of r and returns the file
// system type and its label, trimmed of padding.
func Probe(r io.ReaderAt) (fstype, label string, err error) {
	buf := make([]byte, 2048)
	n, err := r.ReadAt(buf, 0)
	if n < len(buf) && err != nil && !errors.Is(err, io.EOF) {
		return "", "", fmt.Errorf("stick: read superblock: %w", err)
	}
	buf = buf[:n]
	if l, ok := ext4Label(buf); ok {
		return Ext4, l, nil
	}
	if l, ok := fatLabel(buf); ok {
		return VFAT, l, nil
	}
	return "", "", ErrUnknownFS
}

// ext4Label reads an ext2/3/4 superblock: it starts at byte 1024, its
// magic 0xEF53 is at offset 0x38 and its 16-byte volume name at 0x78.
// All three use the same superblock and mount as ext4.
func ext4Label(b []byte) (string, bool) {
	const sb = 1024
	if len(b) < sb+0x88 || binary.LittleEndian.Uint16(b[sb+0x38:]) != 0xEF53 {
		return "", false
	}
	return cString(b[sb+0x78 : sb+0x88]), true
}

// fatLabel reads a FAT boot sector. The BIOS parameter block must be
// sane (so that an MBR is not taken for one), and the 11-byte label sits
// at 0x2B (FAT12/16) or 0x47 (FAT32), after the extended boot signature
// 0x29 at 0x26 or 0x42. The label in the root directory can differ;
// mkfs.vfat, Windows and mtools write both.
func fatLabel(b []byte) (string, bool) {
	if len(b) < 512 || b[510] != 0x55 || b[511] != 0xAA {
		return "", false
	}
	bps := binary.LittleEndian.Uint16(b[11:])
	spc := b[13]
	fats := b[16]
	if bps < 512 || bps > 4096 || bps&(bps-1) != 0 || spc == 0 || spc&(spc-1) != 0 || fats == 0 || fats > 2 {
		return "", false
	}
	switch {
	case b[0x42] == 0x29 && string(b[0x52:0x57]) == "FAT32":
		return fatString(b[0x47:0x52]), true
	case b[0x26] == 0x29 && string(b[0x36:0x39]) == "FAT":
		return fatString(b[0x2B:0x36]), true
	}
	return "", false
}

// fatString trims the space padding; "NO NAME" is FAT's empty label.
func fatString(b []byte) string {
	s := strings.TrimRight(string(b), " \x00")
	if s == "NO NAME" {
		return ""
	}
	return s
}

func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
