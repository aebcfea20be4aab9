package stick

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func fat32(label string) []byte {
	b := make([]byte, 2048)
	binary.LittleEndian.PutUint16(b[11:], 512)
	b[13], b[16] = 8, 2
	b[0x42] = 0x29
	copy(b[0x47:0x52], []byte(label + "           ")[:11])
	copy(b[0x52:], "FAT32   ")
	b[510], b[511] = 0x55, 0xAA
	return b
}

func fat16(label string) []byte {
	b := make([]byte, 2048)
	binary.LittleEndian.PutUint16(b[11:], 512)
	b[13], b[16] = 4, 2
	b[0x26] = 0x29
	copy(b[0x2B:0x36], []byte(label + "           ")[:11])
	copy(b[0x36:], "FAT16   ")
	b[510], b[511] = 0x55, 0xAA
	return b
}

func ext4(label string) []byte {
	b := make([]byte, 2048)
	binary.LittleEndian.PutUint16(b[1024+0x38:], 0xEF53)
	copy(b[1024+0x78:], label)
	return b
}

// mbr is a partition table: it ends in 55AA like a boot sector but has
// no sane BIOS parameter block.
func mbr() []byte {
	b := make([]byte, 2048)
	b[446+4] = 0x0c
	b[510], b[511] = 0x55, 0xAA
	return b
}

func TestProbe(t *testing.T) {
	for _, tc := range []struct {
		name          string
		data          []byte
		fstype, label string
		err           error
	}{
		{"fat32", fat32("RAMPART"), VFAT, "RAMPART", nil},
		{"fat16", fat16("RAMPART"), VFAT, "RAMPART", nil},
		{"fat no label", fat32("NO NAME"), VFAT, "", nil},
		{"ext4", ext4("RAMPART"), Ext4, "RAMPART", nil},
		{"ext4 16 bytes", ext4("ABCDEFGHIJKLMNOP"), Ext4, "ABCDEFGHIJKLMNOP", nil},
		{"mbr", mbr(), "", "", ErrUnknownFS},
		{"zeros", make([]byte, 4096), "", "", ErrUnknownFS},
		{"short", []byte{1, 2, 3}, "", "", ErrUnknownFS},
	} {
		fstype, label, err := Probe(bytes.NewReader(tc.data))
		if fstype != tc.fstype || label != tc.label || !errors.Is(err, tc.err) {
			t.Errorf("%s: got (%q, %q, %v), want (%q, %q, %v)", tc.name, fstype, label, err, tc.fstype, tc.label, tc.err)
		}
	}
}

// Real file systems from dosfstools and e2fsprogs, where installed.
func TestProbeMkfs(t *testing.T) {
	for _, tc := range []struct {
		fstype string
		mkfs   []string
	}{
		{VFAT, []string{"mkfs.fat", "-C", "-n", "RAMPART"}},
		{Ext4, []string{"mkfs.ext4", "-q", "-L", "RAMPART"}},
	} {
		if _, err := exec.LookPath(tc.mkfs[0]); err != nil {
			t.Logf("%s not installed; skipping %s", tc.mkfs[0], tc.fstype)
			continue
		}
		img := filepath.Join(t.TempDir(), "fs.img")
		args := append(tc.mkfs[1:], img)
		if tc.fstype == Ext4 {
			if err := os.WriteFile(img, make([]byte, 8<<20), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		args = append(args, "8192")
		if out, err := exec.Command(tc.mkfs[0], args...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v: %s", tc.mkfs[0], err, out)
		}
		f, err := os.Open(img)
		if err != nil {
			t.Fatal(err)
		}
		fstype, label, err := Probe(f)
		f.Close()
		if fstype != tc.fstype || label != Label || err != nil {
			t.Errorf("%s: got (%q, %q, %v)", tc.mkfs[0], fstype, label, err)
		}
	}
}

func TestFinder(t *testing.T) {
	sys, dev := t.TempDir(), t.TempDir()
	for name, data := range map[string][]byte{
		"sda":   mbr(),
		"sda1":  fat32("OTHER"),
		"sdb":   mbr(),
		"sdb1":  fat32("RAMPART"),
		"sr0":   fat32("RAMPART"), // never the CD
		"loop0": fat32("RAMPART"),
	} {
		if err := os.Mkdir(filepath.Join(sys, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dev, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f := Finder{SysBlock: sys, Dev: dev}
	d, err := f.Find(Label)
	if err != nil || d == nil {
		t.Fatalf("Find: %v, %v", d, err)
	}
	if d.Name != "sdb1" || d.FSType != VFAT {
		t.Errorf("found %+v, want sdb1 vfat", d)
	}
	if !f.Present(d) {
		t.Error("not present")
	}
	if err := os.Remove(filepath.Join(sys, "sdb1")); err != nil {
		t.Fatal(err)
	}
	if f.Present(d) {
		t.Error("present after removal")
	}
	if d, err := f.Find(Label); d != nil || err != nil {
		t.Errorf("Find after removal: %v, %v", d, err)
	}
}
