package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Where the CPU went during the load, to tell a slow UI from a busy box:
// the UI process, the daemon, this process (the load generator and the
// advert sniffers), and the whole machine, which the bench shares with
// whatever else runs on it. Figures come from /proc, in USER_HZ ticks.

// userHZ is the unit of /proc's CPU times; 100 on every Linux ABI.
const userHZ = 100

// cpuSnap is the CPU time used so far by each party.
type cpuSnap struct {
	daemon, ui, self time.Duration
	busy, total      time.Duration // the machine: not idle, and all
}

// cpuUse is the difference of two snapshots over the load.
type cpuUse struct {
	ok               bool
	wall             time.Duration
	daemon, ui, self time.Duration
	busy, total      time.Duration
	cpus             int
	uiRSS, daemonRSS string // resident memory at the end of the load (VmRSS)
}

// watch finds fw-a's daemon (by its config path) and its UI child.
type watch struct{ daemon, ui int }

func findProcs(configPath string) watch {
	var w watch
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		cmd, err := os.ReadFile(d + "/cmdline")
		if err != nil {
			continue
		}
		args := strings.Split(string(bytes.TrimRight(cmd, "\x00")), "\x00")
		pid, _ := strconv.Atoi(filepath.Base(d))
		if len(args) >= 4 && args[1] == "run" && args[3] == configPath {
			w.daemon = pid
		}
	}
	for _, d := range dirs {
		pid, _ := strconv.Atoi(filepath.Base(d))
		if w.daemon != 0 && ppid(pid) == w.daemon {
			w.ui = pid
		}
	}
	return w
}

// statFields are /proc/pid/stat's fields after the command name.
func statFields(pid int) []string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

func ppid(pid int) int {
	f := statFields(pid)
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

// procCPU is user+system time of pid (fields 14 and 15 of stat).
func procCPU(pid int) time.Duration {
	f := statFields(pid)
	if pid == 0 || len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * time.Second / userHZ
}

// machineCPU is busy and total time over all CPUs (/proc/stat).
func machineCPU() (busy, total time.Duration, cpus int) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 {
			continue
		}
		if f[0] != "cpu" {
			if strings.HasPrefix(f[0], "cpu") {
				cpus++
			}
			continue
		}
		var sum, idle int64
		for i, s := range f[1:min(len(f), 9)] { // user nice system idle iowait irq softirq steal
			n, _ := strconv.ParseInt(s, 10, 64)
			sum += n
			if i == 3 || i == 4 {
				idle += n
			}
		}
		busy, total = time.Duration(sum-idle)*time.Second/userHZ, time.Duration(sum)*time.Second/userHZ
	}
	return busy, total, cpus
}

func (w watch) snap() cpuSnap {
	busy, total, _ := machineCPU()
	return cpuSnap{daemon: procCPU(w.daemon), ui: procCPU(w.ui), self: procCPU(os.Getpid()), busy: busy, total: total}
}

func (w watch) since(a cpuSnap, wall time.Duration) cpuUse {
	b := w.snap()
	_, _, cpus := machineCPU()
	return cpuUse{
		ok: w.daemon != 0, wall: wall, cpus: cpus,
		daemon: b.daemon - a.daemon, ui: b.ui - a.ui, self: b.self - a.self,
		busy: b.busy - a.busy, total: b.total - a.total,
		uiRSS: rss(w.ui), daemonRSS: rss(w.daemon),
	}
}

// rss is VmRSS from /proc/pid/status, or "?".
func rss(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if pid == 0 || err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strings.Join(strings.Fields(v), " ")
		}
	}
	return "?"
}

// print says where the CPU went, as a share of one CPU and per request.
func (u cpuUse) print(w io.Writer, requests int) {
	if !u.ok || u.wall <= 0 {
		return
	}
	pct := func(d time.Duration) float64 { return 100 * d.Seconds() / u.wall.Seconds() }
	per := func(d time.Duration) string {
		if requests == 0 {
			return "-"
		}
		return fmt.Sprintf("%.0f µs/req", float64(d.Microseconds())/float64(requests))
	}
	others := u.busy - u.daemon - u.ui - u.self
	fmt.Fprintf(w, "CPU over the load (%% of one CPU; %d CPUs, %.0f%% busy in all):\n", u.cpus, pct(u.busy))
	fmt.Fprintf(w, "  UI process %5.0f%%  %s  (RSS %s)\n", pct(u.ui), per(u.ui), u.uiRSS)
	fmt.Fprintf(w, "  daemon     %5.0f%%  %s  (RSS %s)\n", pct(u.daemon), per(u.daemon), u.daemonRSS)
	fmt.Fprintf(w, "  load gen.  %5.0f%%  %s\n", pct(u.self), per(u.self))
	fmt.Fprintf(w, "  the rest   %5.0f%%  (kernel threads, fw-b, other work on the machine)\n", pct(others))
}
