package vmtest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
)

// StickLabel is the config stick's file system label.
const StickLabel = "RAMPART"

// Stick describes a config stick image.
type Stick struct {
	SizeMB int
	// Partitioned puts the file system in an MBR partition at 1 MiB, as
	// on a stick formatted by Windows; otherwise the whole disk is the
	// file system (a "superfloppy").
	Partitioned bool
	Label       string            // default StickLabel
	Files       map[string][]byte // path on the stick -> content
}

const partStart = 2048 // sectors: 1 MiB, the usual alignment

// Make writes the stick image with dosfstools and mtools (no mount, no
// root needed).
func (s Stick) Make(path string) error {
	if s.Label == "" {
		s.Label = StickLabel
	}
	if s.SizeMB == 0 {
		s.SizeMB = 64
	}
	size := int64(s.SizeMB) << 20
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		return err
	}
	if err := os.Truncate(path, size); err != nil {
		return err
	}
	fs := path
	mkfs := []string{"-n", s.Label}
	if s.Partitioned {
		if err := writeMBR(path, partStart, size/512-partStart); err != nil {
			return err
		}
		fs = path + "@@" + strconv.Itoa(partStart*512)
		mkfs = append(mkfs, "--offset", strconv.Itoa(partStart), path, strconv.FormatInt((size-partStart*512)/1024, 10))
	} else {
		mkfs = append(mkfs, path)
	}
	if out, err := exec.Command("mkfs.fat", mkfs...).CombinedOutput(); err != nil {
		return fmt.Errorf("vmtest: mkfs.fat: %w: %s", err, out)
	}
	names := make([]string, 0, len(s.Files))
	for n := range s.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	tmp, err := os.MkdirTemp("", "rampart-stick-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, n := range names {
		src := filepath.Join(tmp, filepath.Base(n))
		if err := os.WriteFile(src, s.Files[n], 0o644); err != nil {
			return err
		}
		if out, err := exec.Command("mcopy", "-o", "-i", fs, src, "::/"+n).CombinedOutput(); err != nil {
			return fmt.Errorf("vmtest: mcopy %s: %w: %s", n, err, out)
		}
	}
	return nil
}

// ReadStickFile reads a file from a stick image made by Make.
func ReadStickFile(path string, partitioned bool, name string) ([]byte, error) {
	fs := path
	if partitioned {
		fs += "@@" + strconv.Itoa(partStart*512)
	}
	out, err := exec.Command("mtype", "-i", fs, "::/"+name).Output()
	if err != nil {
		return nil, fmt.Errorf("vmtest: mtype %s: %w", name, err)
	}
	return out, nil
}

// writeMBR writes a DOS partition table with one FAT32 (LBA) partition.
func writeMBR(path string, start, sectors int64) error {
	mbr := make([]byte, 512)
	e := mbr[446:462]
	e[0] = 0x00                            // not bootable
	copy(e[1:4], []byte{0xfe, 0xff, 0xff}) // CHS: use LBA
	e[4] = 0x0c                            // FAT32 with LBA
	copy(e[5:8], []byte{0xfe, 0xff, 0xff})
	binary.LittleEndian.PutUint32(e[8:], uint32(start))
	binary.LittleEndian.PutUint32(e[12:], uint32(sectors))
	mbr[510], mbr[511] = 0x55, 0xaa
	binary.LittleEndian.PutUint32(mbr[440:], 0x52414d50) // disk signature
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = bytes.NewReader(mbr).WriteTo(f)
	return err
}
