// Command mkimage builds Rampart's bootable ISO (make image). It is a
// build tool and never part of the firmware.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"time"

	"rampart/image"
)

// defaultEpoch stands in for SOURCE_DATE_EPOCH when it is unset, so that
// a plain build is reproducible too (2024-01-01; FAT dates start in 1980).
const defaultEpoch = 1704067200

func main() {
	bin := flag.String("binary", "bin/rampart", "the static rampart binary, installed as /init")
	out := flag.String("o", "out/rampart.iso", "the ISO to write")
	cache := flag.String("cache", "out/cache", "where the kernel package is downloaded and unpacked")
	kpkg := flag.String("kernel", os.Getenv("KERNEL_PACKAGE"), "kernel package (default: the one linux-image-amd64 depends on)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	epoch, err := sourceDateEpoch()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := image.Build(ctx, image.Options{
		Binary: *bin, Out: *out, Cache: *cache, KernelPackage: *kpkg, Epoch: epoch, Logger: log,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
	fmt.Println(res.ISO)
}

func sourceDateEpoch() (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return time.Unix(defaultEpoch, 0).UTC(), nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 315532800 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: want seconds since 1970, from 1980 on (FAT)", s)
	}
	return time.Unix(n, 0).UTC(), nil
}
