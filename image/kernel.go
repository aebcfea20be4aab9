package image

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// KernelMeta is Debian's kernel metapackage; its Depends names the
// current versioned linux-image package.
const KernelMeta = "linux-image-amd64"

// Kernel is an unpacked Debian kernel package.
type Kernel struct {
	Package string // e.g. linux-image-6.1.0-26-amd64
	Release string // e.g. 6.1.0-26-amd64, the directory under /lib/modules
	Vmlinuz string // path of the compressed kernel
	Modules string // path of /lib/modules/<release>
}

// FetchKernel downloads the kernel package with apt-get into cache and
// unpacks it with dpkg-deb, once: a cached unpacked package is reused.
// pkg may be empty for the package linux-image-amd64 depends on.
func FetchKernel(ctx context.Context, log *slog.Logger, cache, pkg string) (*Kernel, error) {
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return nil, fmt.Errorf("kernel: %w", err)
	}
	if pkg == "" {
		p, err := currentKernelPackage(ctx)
		if err != nil {
			return nil, err
		}
		pkg = p
	}
	root := filepath.Join(cache, pkg)
	if _, err := os.Stat(root); err != nil {
		if err := downloadKernel(ctx, log, cache, pkg, root); err != nil {
			return nil, err
		}
	}
	return findKernel(pkg, root)
}

// currentKernelPackage asks apt which versioned package the metapackage
// depends on, running apt-get update once if apt knows nothing yet.
func currentKernelPackage(ctx context.Context) (string, error) {
	for attempt := 0; ; attempt++ {
		out, err := exec.CommandContext(ctx, "apt-cache", "depends", KernelMeta).Output()
		if err == nil {
			for _, line := range strings.Split(string(out), "\n") {
				f := strings.Fields(line)
				if len(f) == 2 && f[0] == "Depends:" && strings.HasPrefix(f[1], "linux-image-") {
					return f[1], nil
				}
			}
		}
		if attempt > 0 {
			return "", fmt.Errorf("kernel: apt-cache depends %s: no linux-image dependency (%v)", KernelMeta, err)
		}
		if err := run(ctx, "", "apt-get", "update", "-qq"); err != nil {
			return "", fmt.Errorf("kernel: %w", err)
		}
	}
}

// downloadKernel fetches and unpacks into private temporary directories
// and renames the result into place, so that two builds sharing the
// cache (make image and the tests) never see half a kernel.
func downloadKernel(ctx context.Context, log *slog.Logger, cache, pkg, root string) error {
	log.Info("downloading the kernel package", "package", pkg)
	dl, err := os.MkdirTemp(cache, "download-")
	if err != nil {
		return fmt.Errorf("kernel: %w", err)
	}
	defer os.RemoveAll(dl)
	// apt drops privileges to _apt for downloads; let it write here.
	_ = os.Chmod(dl, 0o777)
	if err := run(ctx, dl, "apt-get", "download", "-q", pkg); err != nil {
		if err := run(ctx, "", "apt-get", "update", "-qq"); err != nil {
			return fmt.Errorf("kernel: %w", err)
		}
		if err := run(ctx, dl, "apt-get", "download", "-q", pkg); err != nil {
			return fmt.Errorf("kernel: %w", err)
		}
	}
	debs, _ := filepath.Glob(filepath.Join(dl, pkg+"_*.deb"))
	if len(debs) != 1 {
		return fmt.Errorf("kernel: apt-get download %s left %d packages", pkg, len(debs))
	}
	tmp, err := os.MkdirTemp(cache, "unpack-")
	if err != nil {
		return fmt.Errorf("kernel: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := run(ctx, "", "dpkg-deb", "-x", debs[0], tmp); err != nil {
		return fmt.Errorf("kernel: %w", err)
	}
	if err := os.Rename(tmp, root); err != nil {
		if _, statErr := os.Stat(root); statErr == nil {
			return nil // another build got there first
		}
		return fmt.Errorf("kernel: %w", err)
	}
	return nil
}

func findKernel(pkg, root string) (*Kernel, error) {
	mods, _ := filepath.Glob(filepath.Join(root, "lib/modules/*"))
	if len(mods) != 1 {
		return nil, fmt.Errorf("kernel: %s holds %d module directories, want 1", pkg, len(mods))
	}
	release := filepath.Base(mods[0])
	vmlinuz := filepath.Join(root, "boot", "vmlinuz-"+release)
	if _, err := os.Stat(vmlinuz); err != nil {
		return nil, fmt.Errorf("kernel: %w", err)
	}
	return &Kernel{Package: pkg, Release: release, Vmlinuz: vmlinuz, Modules: mods[0]}, nil
}

// run runs a command in dir and returns its output in the error.
func run(ctx context.Context, dir, name string, args ...string) error {
	return runEnv(ctx, dir, nil, name, args...)
}

func runEnv(ctx context.Context, dir string, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}
