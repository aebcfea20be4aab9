package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The firmware binary links neither the image builder nor u-root's
// build-time packages, as Tailscale's deps_test keeps packages out of
// tailscaled. PID 1 uses u-root's kmodule and mount at run time; those
// are allowed.
func TestDeps(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list; not in -short")
	}
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := map[string]bool{}
	for _, p := range strings.Fields(string(out)) {
		deps[p] = true
	}
	banned := []string{
		"rampart/image",                      // the image builder and its tests
		"github.com/u-root/u-root/pkg/cpio",  // writes the initramfs
		"github.com/u-root/u-root/pkg/uroot", // u-root's own image builder
		"github.com/u-root/mkuimage",
		"github.com/u-root/gobusybox",
		"github.com/pierrec/lz4", // compresses the initramfs
		"golang.org/x/tools",
	}
	for p := range deps {
		for _, b := range banned {
			if p == b || strings.HasPrefix(p, b+"/") {
				t.Errorf("rampart links %s", p)
			}
		}
	}
	for _, want := range []string{"rampart/boot", "github.com/u-root/u-root/pkg/kmodule"} {
		if !deps[want] {
			t.Errorf("rampart does not link %s; is the test still looking at the firmware?", want)
		}
	}
}
