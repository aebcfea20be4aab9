package boot

import (
	"sync"
	"sync/atomic"

	"rampart/boot/kmod"
)

func (b *booter) newLoader() (*Loader, error) {
	dir, err := ModuleDir()
	if err != nil {
		return nil, err
	}
	return NewLoader(dir)
}

// loadModules loads, in two goroutines, what the appliance needs before
// it starts. The first is the config stick's path: the USB host drivers,
// then USB storage; it mostly waits on the USB bus (enumeration, and
// usb-storage's one-second settle delay). The second waits for it to get
// there and uses the idle CPU meanwhile: the stick's file system, the
// firewall's modules, and the drivers of the other devices (PCI, then the
// virtio devices virtio_pci found). Modules are optional one by one: a
// missing NIC driver must not stop the firewall.
func (b *booter) loadModules(l *Loader) {
	if l == nil {
		return
	}
	var failed atomic.Int32
	load := func(what string, fn func(string) error, names []string) {
		for _, n := range names {
			t0 := uptime()
			err := fn(n)
			b.log.Debug("module", what, n, "ms", (uptime() - t0).Milliseconds(), "err", err)
			if err != nil {
				failed.Add(1)
				b.log.Warn("module not loaded", what, n, "err", err)
			}
		}
	}
	usbHosts, others := splitUSBHosts(modaliases("/sys/bus/pci/devices"))
	var wg sync.WaitGroup
	usbUp := make(chan struct{})
	wg.Add(2)
	go func() {
		defer wg.Done()
		load("modalias", l.LoadModalias, usbHosts)
		load("module", l.Load, kmod.Storage[:1])
		close(usbUp)
		load("module", l.Load, kmod.Storage[1:])
	}()
	go func() {
		defer wg.Done()
		<-usbUp
		// Most sticks are vfat: have it ready before the stick shows up.
		load("module", l.Load, []string{"vfat", "nls_cp437", "nls_ascii"})
		load("module", l.Load, kmod.Firewall)
		load("modalias", l.LoadModalias, others)
		load("modalias", l.LoadModalias, modaliases("/sys/bus/virtio/devices"))
	}()
	wg.Wait()
	b.log.Info("modules loaded", "loaded", loadedCount(), "failed", failed.Load(), "uptime_ms", uptime().Milliseconds())
}

// loadLate loads what the appliance does not wait for.
func (b *booter) loadLate() {
	if b.loader == nil {
		return
	}
	for _, n := range kmod.Late {
		b.optional("late module", b.loader.Load(n))
	}
}
