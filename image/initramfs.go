package image

import (
	"bytes"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/pierrec/lz4/v4"
	"github.com/u-root/u-root/pkg/cpio"
)

// Initramfs is the content of the initramfs: the whole root file system.
type Initramfs struct {
	Init    []byte            // the static rampart binary, installed as /init
	Release string            // kernel release, e.g. 6.1.0-26-amd64
	Files   map[string][]byte // more regular files by absolute path (modules, index files)
	MTime   int64             // the time stamp of every entry (SOURCE_DATE_EPOCH)
}

// Dirs the root file system has from the start: the mount points PID 1
// uses, so that it needs no mkdir before its first mounts.
var rootDirs = []string{"dev", "proc", "sys", "run", "tmp", "sbin", "lib", "lib/modules"}

// Records lists the cpio records in a fixed order: parents before
// children, then by name. The same Initramfs always gives the same list.
func (fs *Initramfs) Records() []cpio.Record {
	recs := map[string]cpio.Record{}
	addDirs := func(p string) {
		for d := path.Dir(p); d != "." && d != "/"; d = path.Dir(d) {
			recs[d] = cpio.Directory(d, 0o755)
		}
	}
	for _, d := range rootDirs {
		recs[d] = cpio.Directory(d, 0o755)
	}
	recs["dev/console"] = cpio.CharDev("dev/console", 0o600, 5, 1)
	recs["init"] = cpio.StaticRecord(fs.Init, cpio.Info{Name: "init", Mode: cpio.S_IFREG | 0o755})
	// The kernel runs /sbin/modprobe for request_module (nft-expr-*,
	// nf_conntrack-*, crypto-*); /init answers to that name.
	recs["sbin/modprobe"] = cpio.Symlink("sbin/modprobe", "/init")
	for name, data := range fs.Files {
		name = strings.TrimPrefix(name, "/")
		addDirs(name)
		recs[name] = cpio.StaticRecord(data, cpio.Info{Name: name, Mode: cpio.S_IFREG | 0o644})
	}
	names := make([]string, 0, len(recs))
	for n := range recs {
		names = append(names, n)
	}
	// Sorting by name puts every directory before what it holds.
	sort.Strings(names)
	out := make([]cpio.Record, 0, len(names))
	for i, n := range names {
		r := recs[n]
		r.Ino = uint64(i + 1) // distinct, so the kernel links nothing
		r.NLink = 1
		r.MTime = uint64(fs.MTime)
		out = append(out, r)
	}
	return out
}

// CPIO writes the uncompressed newc archive.
func (fs *Initramfs) CPIO() ([]byte, error) {
	var buf bytes.Buffer
	w := cpio.Newc.Writer(&buf)
	if err := cpio.WriteRecords(w, fs.Records()); err != nil {
		return nil, fmt.Errorf("initramfs: %w", err)
	}
	if err := cpio.WriteTrailer(w); err != nil {
		return nil, fmt.Errorf("initramfs: %w", err)
	}
	return buf.Bytes(), nil
}

// Compressed is the archive as the kernel loads it: LZ4 in the legacy
// frame format, the one the kernel's initramfs unpacker reads. LZ4
// rather than gzip, xz or zstd: it unpacks several times faster, which
// under emulation is a second of boot time, for a slightly larger image.
// The output depends only on the input, so it is reproducible.
func (fs *Initramfs) Compressed() ([]byte, error) {
	raw, err := fs.CPIO()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw := lz4.NewWriter(&buf)
	if err := zw.Apply(lz4.LegacyOption(true), lz4.CompressionLevelOption(lz4.Level9)); err != nil {
		return nil, fmt.Errorf("initramfs: lz4: %w", err)
	}
	if _, err := zw.Write(raw); err != nil {
		return nil, fmt.Errorf("initramfs: lz4: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("initramfs: lz4: %w", err)
	}
	return buf.Bytes(), nil
}
