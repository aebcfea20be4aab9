package image

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/ulikunitz/xz"

	"rampart/boot/kmod"
)

// Modules are the modules the image holds, with their dependencies and
// soft dependencies: every list of kmod (Boot, Hardware, Late, OnDemand).
var Modules = kmod.All()

// module is one kernel module file of the kernel package.
type module struct {
	rel  string // path relative to the release directory, always .ko
	src  string // absolute path of the file in the package (.ko or .ko.xz)
	info ModInfo
}

// moduleTree is every module of one kernel release.
type moduleTree struct {
	dir  string
	mods map[string]*module
}

// scanModules reads the .modinfo of every module under dir (a
// /lib/modules/<release> directory), in parallel.
func scanModules(dir string) (*moduleTree, error) {
	var files []string
	err := filepath.WalkDir(filepath.Join(dir, "kernel"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".ko") || strings.HasSuffix(p, ".ko.xz")) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scan modules: %w", err)
	}
	mods := make([]*module, len(files))
	errs := make([]error, len(files))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.NumCPU())
	for i, f := range files {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			mods[i], errs[i] = readModule(dir, f)
		}()
	}
	wg.Wait()
	t := &moduleTree{dir: dir, mods: map[string]*module{}}
	for i, m := range mods {
		if errs[i] != nil {
			return nil, errs[i]
		}
		t.mods[m.info.Name] = m
	}
	return t, nil
}

func readModule(dir, file string) (*module, error) {
	data, err := moduleBytes(file)
	if err != nil {
		return nil, err
	}
	info, err := ReadModInfo(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	rel, err := filepath.Rel(dir, file)
	if err != nil {
		return nil, err
	}
	rel = filepath.ToSlash(rel)
	if info.Name == "" {
		info.Name = kmod.Name(rel)
	}
	// The file is named after the module, underscores and all:
	// nls_iso8859-1.ko becomes nls_iso8859_1.ko. u-root's kmodule looks
	// files up by name with all dashes or all underscores, and misses
	// names that mix them; the kernel goes by .modinfo, not the file.
	rel = path.Join(path.Dir(rel), info.Name+".ko")
	return &module{rel: rel, src: file, info: info}, nil
}

// moduleBytes reads a module file, decompressing .ko.xz. The image holds
// plain .ko files: the initramfs is compressed as a whole, and the kernel
// can then load them with finit_module.
func moduleBytes(file string) ([]byte, error) {
	data, err := os.ReadFile(file)
	if err != nil || !strings.HasSuffix(file, ".xz") {
		return data, err
	}
	r, err := xz.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return out, nil
}

// resolve names a module or an alias: the module of that name, or every
// module with a matching alias, sorted.
func (t *moduleTree) resolve(name string) []string {
	if _, ok := t.mods[kmod.Name(name)]; ok {
		return []string{kmod.Name(name)}
	}
	var out []string
	for n, m := range t.mods {
		for _, a := range m.info.Aliases {
			if kmod.Match(a, name) {
				out = append(out, n)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// closure is the set of modules needed for roots: their hard
// dependencies and their soft dependencies (aliases resolved), all
// transitively. A root that names no module is an error; a soft
// dependency that resolves to nothing is only skipped, as modprobe does
// (it may be built in).
func (t *moduleTree) closure(roots []string) ([]*module, error) {
	seen := map[string]bool{}
	var visit func(name string) error
	visit = func(name string) error {
		if seen[name] {
			return nil
		}
		m, ok := t.mods[name]
		if !ok {
			return fmt.Errorf("module %s: not in the kernel package", name)
		}
		seen[name] = true
		for _, d := range m.info.Depends {
			if err := visit(kmod.Name(d)); err != nil {
				return fmt.Errorf("%s needs %w", name, err)
			}
		}
		for _, sd := range slices.Concat(m.info.Pre, m.info.Post) {
			for _, r := range t.resolve(sd) {
				if err := visit(r); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for _, r := range roots {
		if err := visit(kmod.Name(r)); err != nil {
			return nil, fmt.Errorf("modules: %w", err)
		}
	}
	out := make([]*module, 0, len(seen))
	for n := range seen {
		out = append(out, t.mods[n])
	}
	sort.Slice(out, func(i, j int) bool { return out[i].rel < out[j].rel })
	return out, nil
}

// transitiveDeps lists the files of every module m needs, nearest first
// and each once, as depmod writes modules.dep.
func (t *moduleTree) transitiveDeps(m *module) []string {
	var out []string
	seen := map[string]bool{m.info.Name: true}
	queue := []*module{m}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, d := range cur.info.Depends {
			dm := t.mods[kmod.Name(d)]
			if dm == nil || seen[dm.info.Name] {
				continue
			}
			seen[dm.info.Name] = true
			out = append(out, dm.rel)
			queue = append(queue, dm)
		}
	}
	return out
}

// indexFiles renders modules.dep, modules.alias and modules.softdep for
// the chosen modules. Aliases are kept only if they point at a chosen
// module, so the kernel's request_module finds exactly what the image has.
func (t *moduleTree) indexFiles(mods []*module) (map[string][]byte, error) {
	var files []string
	deps := map[string][]string{}
	var aliases []kmod.Alias
	var softdeps []kmod.Softdep
	for _, m := range mods {
		files = append(files, m.rel)
		deps[m.rel] = t.transitiveDeps(m)
		for _, a := range m.info.Aliases {
			aliases = append(aliases, kmod.Alias{Pattern: a, Module: m.info.Name})
		}
		if len(m.info.Pre)+len(m.info.Post) > 0 {
			softdeps = append(softdeps, kmod.Softdep{Module: m.info.Name, Pre: m.info.Pre, Post: m.info.Post})
		}
	}
	var dep, alias, soft bytes.Buffer
	if err := kmod.FormatDeps(&dep, files, deps); err != nil {
		return nil, err
	}
	if err := kmod.FormatAliases(&alias, aliases); err != nil {
		return nil, err
	}
	if err := kmod.FormatSoftdeps(&soft, softdeps); err != nil {
		return nil, err
	}
	return map[string][]byte{
		kmod.DepFile:     dep.Bytes(),
		kmod.AliasFile:   alias.Bytes(),
		kmod.SoftdepFile: soft.Bytes(),
	}, nil
}

// moduleSigMagic ends a signed module, after its PKCS#7 signature and a
// struct module_signature (include/linux/module_signature.h).
const moduleSigMagic = "~Module signature appended~\n"

// moduleSigInfoLen is the size of struct module_signature: five bytes,
// three of padding, and the signature's length as a big-endian uint32.
const moduleSigInfoLen = 12

// StripSignature returns the module without its appended signature, or
// data unchanged if it has none or the trailer does not add up.
//
// Why: the kernel checks a signature it finds, an RSA-4096 signature
// over a hash of the whole module, and under emulation that costs about
// as much as loading the module (docs/benchmarks.md, boot). The check
// protects nothing here: Debian's kernel does not enforce signatures
// (module.sig_enforce is off and Rampart does not turn it on), the
// modules come from the same package as the kernel, and they sit in the
// same initramfs as /init. An unsigned module taints the kernel with
// 'E', which only marks bug reports. Should the image ever boot through
// a signed shim with Secure Boot on, lockdown enforces signatures and
// the modules must keep them.
func StripSignature(data []byte) []byte {
	n := len(data) - len(moduleSigMagic) - moduleSigInfoLen
	if n < 0 || string(data[len(data)-len(moduleSigMagic):]) != moduleSigMagic {
		return data
	}
	info := data[n : n+moduleSigInfoLen]
	sigLen := int(binary.BigEndian.Uint32(info[8:]))
	if sigLen > n {
		return data
	}
	return data[:n-sigLen]
}
