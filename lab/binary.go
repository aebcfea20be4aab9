package lab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// BuildDaemon compiles ./cmd/rampart into dir the way the Makefile does
// (static, CGO off), so that tests and benchmarks run the real binary.
func BuildDaemon(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "rampart")
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.CommandContext(ctx, gobin, "build", "-o", bin, "rampart/cmd/rampart")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("lab: go build ./cmd/rampart: %v\n%s", err, out)
	}
	return bin, nil
}
