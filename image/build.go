package image

import (
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// Cmdline is the kernel command line of every boot entry. panic=5
// reboots five seconds after a kernel panic: Debian's kernel otherwise
// hangs forever, and a hung firewall never fails over. The last console
// is /dev/console; PID 1 writes to every console listed.
// cryptomgr.notests skips the self-tests of every kernel crypto
// algorithm at boot, 1.7 s of CPU under emulation (measured in qemu);
// the firewall uses no kernel crypto, and the tests check the kernel
// build, not the box (docs/benchmarks.md, boot).
const Cmdline = "console=ttyS0,115200n8 console=tty0 panic=5 quiet cryptomgr.notests"

// Options say what to build from and where to.
type Options struct {
	Binary string // the static rampart binary
	Out    string // the ISO to write; the kernel and initramfs go beside it
	Cache  string // where the kernel package is downloaded and unpacked
	// KernelPackage pins the kernel package; empty takes the one
	// linux-image-amd64 depends on.
	KernelPackage string
	// Epoch is the time stamp of every file (SOURCE_DATE_EPOCH).
	Epoch  time.Time
	Logger *slog.Logger
}

// Result describes a built image.
type Result struct {
	ISO       string // Options.Out
	Kernel    string // the kernel, beside the ISO, for direct boots
	Initramfs string // the initramfs, beside the ISO
	Release   string
	Modules   int // module files in the initramfs
}

// Build makes the ISO. The kernel and the initramfs are also written
// beside it (vmlinuz, initrd.img), for tests that boot them directly.
func Build(ctx context.Context, opts Options) (*Result, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	k, err := FetchKernel(ctx, log, opts.Cache, opts.KernelPackage)
	if err != nil {
		return nil, err
	}
	initBin, err := os.ReadFile(opts.Binary)
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	if err := checkStatic(initBin); err != nil {
		return nil, fmt.Errorf("image: %s: %w", opts.Binary, err)
	}
	fs, n, err := initramfsFor(k, initBin, opts.Epoch)
	if err != nil {
		return nil, err
	}
	initrd, err := fs.Compressed()
	if err != nil {
		return nil, err
	}
	outDir := filepath.Dir(opts.Out)
	res := &Result{
		ISO: opts.Out, Release: k.Release, Modules: n,
		Kernel:    filepath.Join(outDir, "vmlinuz"),
		Initramfs: filepath.Join(outDir, "initrd.img"),
	}
	if err := writeFile(res.Initramfs, initrd); err != nil {
		return nil, err
	}
	if err := copyFile(k.Vmlinuz, res.Kernel); err != nil {
		return nil, err
	}
	tree, err := os.MkdirTemp("", "rampart-iso-")
	if err != nil {
		return nil, fmt.Errorf("image: %w", err)
	}
	defer os.RemoveAll(tree)
	if err := isoTree(ctx, tree, k.Vmlinuz, initrd, Cmdline, opts.Epoch); err != nil {
		return nil, err
	}
	if err := xorriso(ctx, tree, opts.Out, opts.Epoch); err != nil {
		return nil, err
	}
	log.Info("image built", "iso", opts.Out, "kernel", k.Package, "modules", n, "initramfs_bytes", len(initrd))
	return res, nil
}

// initramfsFor gathers the modules and their index files for k.
func initramfsFor(k *Kernel, initBin []byte, epoch time.Time) (*Initramfs, int, error) {
	tree, err := scanModules(k.Modules)
	if err != nil {
		return nil, 0, fmt.Errorf("image: %w", err)
	}
	mods, err := tree.closure(Modules)
	if err != nil {
		return nil, 0, fmt.Errorf("image: %w", err)
	}
	index, err := tree.indexFiles(mods)
	if err != nil {
		return nil, 0, fmt.Errorf("image: %w", err)
	}
	base := "/lib/modules/" + k.Release + "/"
	files := map[string][]byte{}
	for name, data := range index {
		files[base+name] = data
	}
	builtin, err := os.ReadFile(filepath.Join(k.Modules, "modules.builtin"))
	if err != nil {
		return nil, 0, fmt.Errorf("image: %w", err)
	}
	files[base+"modules.builtin"] = builtin
	for _, m := range mods {
		data, err := moduleBytes(m.src)
		if err != nil {
			return nil, 0, fmt.Errorf("image: %w", err)
		}
		files[base+m.rel] = StripSignature(data)
	}
	fs := &Initramfs{Init: initBin, Release: k.Release, Files: files, MTime: epoch.Unix()}
	return fs, len(mods), nil
}

// checkStatic refuses a dynamically linked /init: the initramfs has no
// ld.so, and the kernel would fail to run it with a bare ENOENT.
func checkStatic(bin []byte) error {
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		return fmt.Errorf("not an ELF binary: %w", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("dynamically linked (build with CGO_ENABLED=0)")
		}
	}
	return nil
}
