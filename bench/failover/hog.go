package main

import (
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"
)

// hogMain spins one core until killed, or for at most its argument's
// duration: the benchmark's CPU hog, run as a child so that the kernel
// schedules it like any other process.
func hogMain(args []string) int {
	limit := 2 * time.Minute
	if len(args) > 0 {
		if d, err := time.ParseDuration(args[0]); err == nil {
			limit = d
		}
	}
	deadline := time.Now().Add(limit)
	x := uint64(1)
	for i := 0; ; i++ {
		x = x*6364136223846793005 + 1442695040888963407
		if i%(1<<20) == 0 && time.Now().After(deadline) {
			break
		}
	}
	if x == 0 {
		return 1
	}
	return 0
}

// hogs runs one hog per CPU inside namespace ns, at normal priority.
type hogs []*exec.Cmd

func startHogs(ns string, limit time.Duration) (hogs, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	var h hogs
	for range runtime.NumCPU() {
		cmd := exec.Command("ip", "netns", "exec", ns, self, "hog", limit.String())
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			h.stop()
			return nil, err
		}
		h = append(h, cmd)
	}
	return h, nil
}

func (h hogs) stop() {
	for _, c := range h {
		_ = c.Process.Kill()
		_ = c.Wait()
	}
}
