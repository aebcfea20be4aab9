package image_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"rampart/image/vmtest"
)

// MaxISOBytes is the bound on the image.
const MaxISOBytes = 32 << 20

// Two builds from the same inputs give the same bytes, a few seconds
// apart (FAT and ISO time stamps have 2 s and 1 s resolution), and the
// image fits the bound.
func TestBuildReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the image twice; not in -short")
	}
	if missing := vmtest.Missing(); len(missing) > 0 {
		t.Skip("missing Debian packages (make test installs them): " + strings.Join(missing, " "))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// One binary: Go's builds are reproducible on their own, and the
	// working tree may change between two compiles.
	bin, err := vmtest.BuildBinary(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var isos [2][]byte
	for i := range isos {
		dir := t.TempDir()
		res, err := vmtest.BuildImage(ctx, bin, dir, log)
		if err != nil {
			t.Fatal(err)
		}
		if isos[i], err = os.ReadFile(res.ISO); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			time.Sleep(3 * time.Second) // let the clock move past a FAT time stamp
		}
		t.Logf("build %d: %s, %d bytes", i, filepath.Base(res.ISO), len(isos[i]))
	}
	if !bytes.Equal(isos[0], isos[1]) {
		t.Error("two builds of the same sources differ")
	}
	if n := len(isos[0]); n > MaxISOBytes {
		t.Errorf("ISO is %d bytes, more than %d", n, MaxISOBytes)
	}
}
