package vmtest

import (
	"context"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"
)

// AccelEnv overrides the accelerator choice: "kvm" or "tcg".
const AccelEnv = "RAMPART_VM_ACCEL"

var (
	accelMu     sync.Mutex
	accelChoice string
)

// Accel picks the accelerator once per process. KVM is tried first when
// /dev/kvm opens; on some hosts (nested virtualisation) KVM cannot run
// Debian's kernel or its boot loaders and qemu stops with an emulation
// failure, so a probe boot must reach PID 1 within probeTimeout, or the
// tests fall back to TCG.
func Accel(ctx context.Context, probe Options) string {
	accelMu.Lock()
	defer accelMu.Unlock()
	if accelChoice != "" {
		return accelChoice
	}
	switch a := os.Getenv(AccelEnv); a {
	case "kvm", "tcg":
		accelChoice = a
		return a
	}
	accelChoice = "tcg"
	if f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0); err == nil {
		f.Close()
		if probeKVM(ctx, probe) {
			accelChoice = "kvm"
		}
	}
	return accelChoice
}

const probeTimeout = 30 * time.Second

var pid1Line = regexp.MustCompile(`msg="rampart booting"`)

func probeKVM(ctx context.Context, o Options) bool {
	o.Accel, o.Stick, o.Console = "kvm", "", nil
	ctx, cancel := context.WithTimeout(ctx, probeTimeout+5*time.Second)
	defer cancel()
	vm, err := Start(ctx, o)
	if err != nil {
		return false
	}
	defer vm.Kill()
	deadline := time.Now().Add(probeTimeout)
	for time.Now().Before(deadline) {
		if _, err := vm.WaitFor(pid1Line, time.Second); err == nil {
			return true
		}
		if s := vm.Stderr(); strings.Contains(s, "emulation failure") || strings.Contains(s, "KVM internal error") {
			return false
		}
		select {
		case <-vm.exited:
			return false
		default:
		}
	}
	return false
}
