package vmtest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"rampart/image"
)

// Tools lists what building and booting the image needs, each with the
// Debian package that ships it (the Makefile's IMAGE_DEBS).
var Tools = map[string]string{
	"qemu-system-x86_64":                 "qemu-system-x86",
	"/usr/share/OVMF/OVMF_CODE_4M.fd":    "ovmf",
	"xorriso":                            "xorriso",
	"mkfs.fat":                           "dosfstools",
	"mcopy":                              "mtools",
	"grub-mkimage":                       "grub-efi-amd64-bin",
	"/usr/lib/grub/x86_64-efi/linux.mod": "grub-efi-amd64-bin",
	"/usr/lib/ISOLINUX/isolinux.bin":     "isolinux",
	"/usr/lib/syslinux/modules/bios/ldlinux.c32": "syslinux-common",
	"dpkg-deb": "dpkg",
	"apt-get":  "apt",
}

// Missing returns the packages whose tools are not installed.
func Missing() []string {
	seen := map[string]bool{}
	var out []string
	for tool, pkg := range Tools {
		var err error
		if filepath.IsAbs(tool) {
			_, err = os.Stat(tool)
		} else {
			_, err = exec.LookPath(tool)
		}
		if err != nil && !seen[pkg] {
			seen[pkg] = true
			out = append(out, pkg)
		}
	}
	return out
}

// RepoRoot finds the module root from the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("vmtest: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Build compiles rampart and builds the image into dir, with the kernel
// package cached in the repository's out/cache as `make image` does.
func Build(ctx context.Context, dir string, log *slog.Logger) (*image.Result, error) {
	bin, err := BuildBinary(ctx, dir)
	if err != nil {
		return nil, err
	}
	return BuildImage(ctx, bin, dir, log)
}

// BuildBinary compiles the static rampart binary into dir.
func BuildBinary(ctx context.Context, dir string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "rampart")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=vmtest", "-o", bin, "./cmd/rampart")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("vmtest: go build: %w: %s", err, out)
	}
	return bin, nil
}

// BuildImage builds the image of bin into dir.
func BuildImage(ctx context.Context, bin, dir string, log *slog.Logger) (*image.Result, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	return image.Build(ctx, image.Options{
		Binary: bin,
		Out:    filepath.Join(dir, "rampart.iso"),
		Cache:  filepath.Join(root, "out", "cache"),
		Epoch:  time.Unix(1704067200, 0).UTC(),
		Logger: log,
	})
}
