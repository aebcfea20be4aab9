// Package vmtest boots Rampart's image in qemu-system-x86_64 for the
// image tests and the boot benchmark: BIOS (SeaBIOS) or UEFI (OVMF), from
// CD or from a USB disk, with an optional config stick on USB, user
// networking forwarded to 127.0.0.1 only, and the serial console read
// line by line. It is test tooling and never part of the firmware.
package vmtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Firmware is what the VM boots with.
type Firmware string

// Media is what the VM boots from.
type Media string

const (
	BIOS Firmware = "bios"
	UEFI Firmware = "uefi"
	CD   Media    = "cd"
	USB  Media    = "usb"
)

// StickDevice is the qemu id of the config stick, for "device_del".
const StickDevice = "stickdev"

// OVMF files of Debian's ovmf package.
const (
	ovmfCode = "/usr/share/OVMF/OVMF_CODE_4M.fd"
	ovmfVars = "/usr/share/OVMF/OVMF_VARS_4M.fd"
)

// Options describe one VM.
type Options struct {
	ISO      string
	Firmware Firmware
	Boot     Media
	// Kernel, Initrd and Append boot the kernel directly instead of the
	// ISO's boot loader, for tests that need their own command line.
	Kernel, Initrd, Append string
	// Stick is a disk image attached as a USB stick; empty for none.
	Stick string
	// Forward maps 127.0.0.1 host ports to guest ports (TCP).
	Forward map[int]int
	// Net adds more qemu -netdev/-device arguments (VM-to-VM links).
	Net []string
	// Accel is "kvm" or "tcg".
	Accel string
	// Dir holds the VM's files (UEFI variables, monitor socket).
	Dir string
	// Console, if set, receives a copy of the serial console.
	Console io.Writer
	Memory  string // default 512M
	// Icount runs the guest clock by instructions (TCG only: -icount
	// shift=1,sleep=off): two boots of the same image agree to the
	// millisecond, so A/B comparisons of boot changes need one run each.
	// It counts CPU work, not TCG's translation nor real waits.
	Icount bool
}

// VM is a running qemu.
type VM struct {
	opts    Options
	cmd     *exec.Cmd
	monitor string

	mu     sync.Mutex
	lines  []string
	mark   int // WaitFor searches lines from here on
	stderr strings.Builder
	update chan struct{} // closed and replaced on every new line
	exited chan struct{}
	err    error // qemu's exit
}

// Start starts qemu. The VM is killed when ctx ends.
func Start(ctx context.Context, opts Options) (*VM, error) {
	if opts.Memory == "" {
		opts.Memory = "512M"
	}
	vm := &VM{opts: opts, monitor: filepath.Join(opts.Dir, "monitor.sock"), update: make(chan struct{}), exited: make(chan struct{})}
	args, err := vm.args()
	if err != nil {
		return nil, err
	}
	vm.cmd = exec.CommandContext(ctx, "qemu-system-x86_64", args...)
	out, err := vm.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	vm.cmd.Stderr = &lockedWriter{mu: &vm.mu, w: &vm.stderr}
	if err := vm.cmd.Start(); err != nil {
		return nil, fmt.Errorf("vmtest: start qemu: %w", err)
	}
	go vm.read(out)
	return vm, nil
}

func (vm *VM) args() ([]string, error) {
	o := vm.opts
	args := []string{
		"-machine", "pc", "-accel", o.Accel, "-m", o.Memory, "-smp", "1",
		"-display", "none", "-serial", "stdio", "-no-reboot",
		"-monitor", "unix:" + vm.monitor + ",server,nowait",
		"-device", "qemu-xhci,id=xhci",
	}
	if o.Accel == "kvm" {
		args = append(args, "-cpu", "host")
	}
	if o.Icount && o.Accel != "kvm" {
		args = append(args, "-icount", "shift=1,sleep=off")
	}
	if o.Firmware == UEFI {
		vars := filepath.Join(o.Dir, "OVMF_VARS.fd")
		if err := copyFile(ovmfVars, vars); err != nil {
			return nil, err
		}
		args = append(args,
			"-drive", "if=pflash,format=raw,unit=0,readonly=on,file="+ovmfCode,
			"-drive", "if=pflash,format=raw,unit=1,file="+vars)
	}
	switch {
	case o.Kernel != "":
		args = append(args, "-kernel", o.Kernel, "-initrd", o.Initrd, "-append", o.Append)
	case o.Boot == USB:
		args = append(args, "-drive", "if=none,id=boot,format=raw,readonly=on,file="+o.ISO,
			"-device", "usb-storage,bus=xhci.0,drive=boot,bootindex=0")
	default:
		args = append(args, "-drive", "if=none,id=boot,media=cdrom,readonly=on,file="+o.ISO,
			"-device", "ide-cd,drive=boot,bootindex=0")
	}
	if o.Stick != "" {
		args = append(args, "-drive", "if=none,id=stick,format=raw,file="+o.Stick,
			"-device", "usb-storage,bus=xhci.0,drive=stick,id="+StickDevice)
	}
	// User networking: the guest's eth0 in 10.0.2.0/24, reachable only
	// through forwards bound to 127.0.0.1.
	user := "user,id=n0,restrict=on"
	for host, guest := range o.Forward {
		user += fmt.Sprintf(",hostfwd=tcp:127.0.0.1:%d-:%d", host, guest)
	}
	args = append(args, "-netdev", user, "-device", "virtio-net-pci,netdev=n0,romfile=")
	return append(args, o.Net...), nil
}

func (vm *VM) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if vm.opts.Console != nil {
			fmt.Fprintln(vm.opts.Console, line)
		}
		vm.mu.Lock()
		vm.lines = append(vm.lines, line)
		close(vm.update)
		vm.update = make(chan struct{})
		vm.mu.Unlock()
	}
	err := vm.cmd.Wait()
	vm.mu.Lock()
	vm.err = err
	vm.mu.Unlock()
	close(vm.exited)
}

// ErrExited means qemu ended before the console showed what was awaited.
var ErrExited = errors.New("vmtest: qemu exited")

// Mark makes later WaitFor calls look only at lines printed from now on,
// e.g. before asking the guest to reboot.
func (vm *VM) Mark() {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	vm.mark = len(vm.lines)
}

// WaitFor waits up to timeout for a console line matching re, printed
// since the last Mark, and returns its submatches.
func (vm *VM) WaitFor(re *regexp.Regexp, timeout time.Duration) ([]string, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	seen := 0
	for {
		vm.mu.Lock()
		lines := vm.lines[vm.mark:]
		for ; seen < len(lines); seen++ {
			if m := re.FindStringSubmatch(lines[seen]); m != nil {
				vm.mu.Unlock()
				return m, nil
			}
		}
		update := vm.update
		vm.mu.Unlock()
		select {
		case <-update:
		case <-vm.exited:
			// The reader may have appended lines before it closed exited.
			if vm.drained(seen) {
				return nil, fmt.Errorf("%w waiting for %q: %v", ErrExited, re, vm.exitErr())
			}
		case <-deadline.C:
			return nil, fmt.Errorf("vmtest: no console line matching %q in %v", re, timeout)
		}
	}
}

// Lines returns the console lines since the last Mark that match re.
func (vm *VM) Lines(re *regexp.Regexp) [][]string {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	var out [][]string
	for _, l := range vm.lines[vm.mark:] {
		if m := re.FindStringSubmatch(l); m != nil {
			out = append(out, m)
		}
	}
	return out
}

func (vm *VM) drained(seen int) bool {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.mark+seen >= len(vm.lines)
}

func (vm *VM) exitErr() error {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.err
}

// Console returns the console so far.
func (vm *VM) Console() string {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return strings.Join(vm.lines, "\n")
}

// Stderr returns what qemu itself printed.
func (vm *VM) Stderr() string {
	vm.mu.Lock()
	defer vm.mu.Unlock()
	return vm.stderr.String()
}

// Monitor sends one command to qemu's human monitor, such as
// "sendkey ctrl-alt-delete".
func (vm *VM) Monitor(cmd string) error {
	c, err := net.DialTimeout("unix", vm.monitor, 5*time.Second)
	if err != nil {
		return fmt.Errorf("vmtest: monitor: %w", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, cmd+"\n"); err != nil {
		return fmt.Errorf("vmtest: monitor: %w", err)
	}
	// Read the banner and the echo so the command is taken before close.
	buf := make([]byte, 4096)
	got := ""
	for !strings.Contains(got, cmd) {
		n, err := c.Read(buf)
		if err != nil {
			return fmt.Errorf("vmtest: monitor: %w", err)
		}
		got += string(buf[:n])
	}
	return nil
}

// Wait waits up to timeout for qemu to exit on its own (the guest
// rebooted or powered off: -no-reboot turns both into an exit).
func (vm *VM) Wait(timeout time.Duration) error {
	select {
	case <-vm.exited:
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("vmtest: qemu still running after %v", timeout)
	}
}

// Kill pulls the plug: SIGKILL, no flush, like a power cut.
func (vm *VM) Kill() {
	if vm.cmd.Process != nil {
		_ = vm.cmd.Process.Kill()
	}
	<-vm.exited
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("vmtest: %w", err)
	}
	return os.WriteFile(dst, b, 0o644)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Link returns the qemu arguments of a NIC on a point-to-point link to
// another VM: UDP datagrams between two ports on 127.0.0.1.
func Link(id string, localPort, remotePort int) []string {
	return []string{
		"-netdev", fmt.Sprintf("dgram,id=%s,local.type=inet,local.host=127.0.0.1,local.port=%d,remote.type=inet,remote.host=127.0.0.1,remote.port=%d", id, localPort, remotePort),
		"-device", "virtio-net-pci,netdev=" + id + ",romfile=",
	}
}

// FreeUDPPort returns a UDP port on 127.0.0.1 that was free a moment ago.
func FreeUDPPort() (int, error) {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port, nil
}
