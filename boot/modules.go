package boot

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/u-root/u-root/pkg/kmodule"
	"golang.org/x/sys/unix"

	"rampart/boot/kmod"
)

// Loader loads modules by name or alias with their soft dependencies.
// u-root's kmodule follows modules.dep; aliases and softdeps, which it
// ignores, are resolved here from the index the image builder wrote.
type Loader struct {
	dir    string
	ix     *kmod.Index
	prober *kmodule.Prober

	mu   sync.Mutex
	done map[string]error
}

// NewLoader reads the module index in dir, /lib/modules/<release>.
func NewLoader(dir string) (*Loader, error) {
	ix, err := kmod.Parse(func(name string) (io.ReadCloser, error) {
		f, err := os.Open(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return f, err
	})
	if err != nil {
		return nil, fmt.Errorf("modules: %w", err)
	}
	p, err := kmodule.NewProber(kmodule.ProbeOpts{})
	if err != nil {
		return nil, fmt.Errorf("modules: %w", err)
	}
	return &Loader{dir: dir, ix: ix, prober: p, done: map[string]error{}}, nil
}

// ModuleDir is /lib/modules/<release> of the running kernel.
func ModuleDir() (string, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "", fmt.Errorf("modules: uname: %w", err)
	}
	return filepath.Join("/lib/modules", unix.ByteSliceToString(u.Release[:])), nil
}

// Load loads the module, or the modules an alias names, as modprobe
// does. A built-in module is a success. With an alias that matches
// several modules (crc32c: the generic one and the CPU's), one loading
// is enough: a CPU without the instructions refuses the fast one.
func (l *Loader) Load(name string) error {
	mods, builtin := l.ix.Resolve(name)
	if builtin {
		return nil
	}
	if len(mods) == 0 {
		return fmt.Errorf("modules: %s: no such module or alias", name)
	}
	var errs []error
	for _, m := range mods {
		err := l.loadOne(m, nil)
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// loadOne loads one module: the pre softdeps of its dependencies and its
// own, itself and its dependencies (kmodule), then the post softdeps. A
// softdep that fails is not fatal, as with modprobe. The softdeps of the
// dependencies matter: kmodule loads those itself and would skip them,
// and a missing crc32c or crct10dif makes the kernel ask /sbin/modprobe
// for it, an exec of this binary that costs a tenth of a second under
// emulation.
func (l *Loader) loadOne(mod string, stack []string) error {
	l.mu.Lock()
	err, ok := l.done[mod]
	l.mu.Unlock()
	if ok {
		return err
	}
	for _, s := range stack {
		if s == mod {
			return nil // a softdep cycle: the outer load does it
		}
	}
	stack = append(stack, mod)
	withDeps := append(slices.Clone(l.ix.Deps[mod]), mod)
	for _, m := range withDeps {
		l.softdeps(l.ix.Softdeps[m].Pre, stack)
	}
	err = l.prober.Probe(mod, "")
	if err != nil {
		err = fmt.Errorf("modules: load %s: %w", mod, err)
	}
	l.mu.Lock()
	l.done[mod] = err
	l.mu.Unlock()
	if err == nil {
		for _, m := range withDeps {
			l.softdeps(l.ix.Softdeps[m].Post, stack)
		}
	}
	return err
}

func (l *Loader) softdeps(names []string, stack []string) {
	for _, n := range names {
		mods, _ := l.ix.Resolve(n)
		for _, m := range mods {
			_ = l.loadOne(m, stack)
		}
	}
}

// LoadModalias loads every module whose alias matches a device's
// modalias, as udev's coldplug does. No match is no error: not every
// device has a driver in the image.
func (l *Loader) LoadModalias(modalias string) error {
	mods, _ := l.ix.Resolve(modalias)
	var errs []error
	for _, m := range mods {
		errs = append(errs, l.loadOne(m, nil))
	}
	return errors.Join(errs...)
}

// modaliases lists the modalias of every device on a bus, such as
// /sys/bus/pci/devices, in directory order.
func modaliases(busDevices string) []string {
	ents, err := os.ReadDir(busDevices)
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(busDevices, e.Name(), "modalias"))
		if err == nil {
			out = append(out, strings.TrimSpace(string(b)))
		}
	}
	return out
}

// loadedCount counts the modules in /proc/modules.
func loadedCount() int {
	b, err := os.ReadFile("/proc/modules")
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "\n")
}

// splitUSBHosts separates the PCI devices of class 0c03 (USB host
// controllers: UHCI, OHCI, EHCI, xHCI) from the others, keeping order.
func splitUSBHosts(pci []string) (usb, others []string) {
	for _, m := range pci {
		if strings.Contains(m, "bc0Csc03") {
			usb = append(usb, m)
		} else {
			others = append(others, m)
		}
	}
	return usb, others
}
