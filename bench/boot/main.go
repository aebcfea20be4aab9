// Command boot is the boot benchmark (make bench-boot): it boots the
// built ISO under qemu (BIOS, from CD, with a config stick, as a real box
// boots) and prints
//
//	RESULT iso_mb=… initramfs_mb=… ready_uptime_ms=… accel=tcg|kvm
//
// ready_uptime_ms is the kernel's uptime when the appliance is ready
// (ruleset loaded) and the web UI listens, as PID 1 prints both on the
// console; the median of the runs. Targets: iso_mb ≤ 32, ready_uptime_ms
// ≤ 6000 under TCG on the 2-core build machine.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"time"

	"rampart/image"
	"rampart/image/vmtest"
)

// stickConfig has a management interface, so the web UI listens.
const stickConfig = `schema_version: 1
hostname: bench
interfaces:
  lan:
    device: eth0
    addresses: [10.0.2.15/24]
rules:
  - comment: LAN clients may reach anything
    from: { interface: lan }
    action: accept
management:
  interfaces: [lan]
`

var (
	readyLine = regexp.MustCompile(`msg="appliance ready" .*uptime_ms=(\d+)`)
	webUILine = regexp.MustCompile(`msg="web UI up" .*uptime_ms=(\d+)`)
)

func main() {
	iso := flag.String("iso", "out/rampart.iso", "the image")
	initrd := flag.String("initrd", "out/initrd.img", "its initramfs, for the size")
	runs := flag.Int("runs", 3, "boots; the median is reported")
	icount := flag.Bool("icount", false, "TCG with the guest clock counted in instructions (qemu -icount shift=1,sleep=off): repeatable figures for A/B runs, not real time")
	flag.BoolVar(&showConsole, "console", false, "copy each boot's serial console to stderr")
	flag.StringVar(&kernelAppend, "append", "", "boot out/vmlinuz and the initramfs directly with the image's command line and these words added (rampart.debug, say), instead of the ISO's boot loader")
	flag.Parse()
	if err := run(*iso, *initrd, *runs, *icount); err != nil {
		fmt.Fprintln(os.Stderr, "bench-boot:", err)
		os.Exit(1)
	}
}

func run(iso, initrd string, runs int, icount bool) error {
	isoInfo, err := os.Stat(iso)
	if err != nil {
		return err
	}
	initrdInfo, err := os.Stat(initrd)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "rampart-bench-boot-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	accel := "tcg"
	if !icount {
		accel = vmtest.Accel(ctx, vmtest.Options{ISO: iso, Firmware: vmtest.BIOS, Boot: vmtest.CD, Dir: dir})
	}
	var readies []int
	for i := 0; i < runs; i++ {
		ms, err := bootOnce(ctx, iso, accel, icount, filepath.Join(dir, strconv.Itoa(i)))
		if err != nil {
			return fmt.Errorf("boot %d: %w", i+1, err)
		}
		fmt.Fprintf(os.Stderr, "boot %d: ready at uptime %d ms\n", i+1, ms)
		readies = append(readies, ms)
	}
	sort.Ints(readies)
	if icount {
		accel += "-icount"
	}
	fmt.Printf("RESULT iso_mb=%.1f initramfs_mb=%.1f ready_uptime_ms=%d accel=%s\n",
		mb(isoInfo.Size()), mb(initrdInfo.Size()), readies[len(readies)/2], accel)
	return nil
}

// Diagnosis (-console, -append): not part of the reported figure.
var (
	showConsole  bool
	kernelAppend string
)

func bootOnce(ctx context.Context, iso, accel string, icount bool, dir string) (int, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	stick := filepath.Join(dir, "stick.img")
	if err := (vmtest.Stick{Files: map[string][]byte{"rampart.yaml": []byte(stickConfig)}}).Make(stick); err != nil {
		return 0, err
	}
	opts := vmtest.Options{ISO: iso, Firmware: vmtest.BIOS, Boot: vmtest.CD, Stick: stick, Accel: accel, Dir: dir, Icount: icount}
	if showConsole {
		opts.Console = os.Stderr
	}
	if kernelAppend != "" {
		opts.Kernel = filepath.Join(filepath.Dir(iso), "vmlinuz")
		opts.Initrd = filepath.Join(filepath.Dir(iso), "initrd.img")
		opts.Append = image.Cmdline + " " + kernelAppend
	}
	vm, err := vmtest.Start(ctx, opts)
	if err != nil {
		return 0, err
	}
	defer vm.Kill()
	ready, err := uptimeOf(vm, readyLine)
	if err != nil {
		return 0, fmt.Errorf("%w\n%s", err, vm.Console())
	}
	web, err := uptimeOf(vm, webUILine)
	if err != nil {
		return 0, fmt.Errorf("%w\n%s", err, vm.Console())
	}
	return max(ready, web), nil
}

func uptimeOf(vm *vmtest.VM, re *regexp.Regexp) (int, error) {
	m, err := vm.WaitFor(re, 3*time.Minute)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(m[1])
}

func mb(n int64) float64 { return float64(n) / (1 << 20) }
