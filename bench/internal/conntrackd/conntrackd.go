// Package conntrackd runs conntrackd (the Debian package) in a network
// namespace for the benchmarks that measure Rampart against it: a
// two-node FTFW setup over UDP on a dedicated link, as the conntrack-tools
// examples have it, with caches sized for a benchmark's run.
package conntrackd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"rampart/internal/netns"
)

// conf is the FTFW setup; %[1]s is the node's address on the link,
// %[2]s the peer's, %[3]s the run directory, %[4]s the link's device.
const conf = `Sync {
	Mode FTFW {
	}
	UDP {
		IPv4_address %[1]s
		IPv4_Destination_Address %[2]s
		Port 3780
		Interface %[4]s
		SndSocketBuffer 24985600
		RcvSocketBuffer 24985600
		Checksum on
	}
}
General {
	HashSize 262144
	HashLimit 1048576
	LogFile %[3]s/conntrackd.log
	Syslog off
	LockFile %[3]s/conntrackd.lock
	UNIX {
		Path %[3]s/conntrackd.ctl
	}
	NetlinkBufferSize 67108864
	NetlinkBufferSizeMaxGrowth 67108864
	Filter From Kernelspace {
		Protocol Accept {
			UDP
			TCP
		}
	}
}
`

// Daemon is one conntrackd running in the foreground in a namespace.
type Daemon struct {
	ns   *netns.NS
	dir  string
	cmd  *exec.Cmd
	conf string
}

// Start runs conntrackd in ns with its files in dir, syncing over dev
// from self to peer, and waits (bounded) for its control socket.
func Start(ns *netns.NS, dir, dev, self, peer string) (*Daemon, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	d := &Daemon{ns: ns, dir: dir, conf: filepath.Join(dir, "conntrackd.conf")}
	if err := os.WriteFile(d.conf, []byte(fmt.Sprintf(conf, self, peer, dir, dev)), 0o644); err != nil {
		return nil, err
	}
	d.cmd = ns.Command(context.Background(), "conntrackd", "-C", d.conf)
	if err := d.cmd.Start(); err != nil {
		return nil, err
	}
	for range 100 {
		if _, err := d.Client("-s"); err == nil {
			return d, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.Stop()
	return nil, errors.New("conntrackd did not come up")
}

// Client runs the conntrackd client against the daemon (-s, -c, -B, …).
func (d *Daemon) Client(args ...string) (string, error) {
	return d.ns.Output("conntrackd", append([]string{"-C", d.conf}, args...)...)
}

// Stop asks the daemon to exit and kills it if it does not in 10 s.
func (d *Daemon) Stop() {
	_, _ = d.Client("-k")
	done := make(chan struct{})
	go func() { _ = d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = d.cmd.Process.Kill()
		<-done
	}
}

// CacheCount reads how many entries a cache ("internal" or "external")
// holds from `conntrackd -s`.
func (d *Daemon) CacheCount(cache string) (int, error) {
	out, err := d.Client("-s")
	if err != nil {
		return 0, err
	}
	re := regexp.MustCompile(fmt.Sprintf(`cache %s:\s*\ncurrent active connections:\s*(\d+)`, cache))
	m := re.FindStringSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no %s cache count in conntrackd -s", cache)
	}
	return strconv.Atoi(m[1])
}

// WaitCount polls a cache every poll until it holds want entries or has
// not grown for still polls in a row, and returns the last count.
func (d *Daemon) WaitCount(cache string, want int, poll time.Duration, still int) (int, error) {
	last, same := -1, 0
	for range 600 {
		n, err := d.CacheCount(cache)
		if err != nil {
			return 0, err
		}
		if n >= want {
			return n, nil
		}
		if n == last {
			if same++; same >= still {
				return n, nil
			}
		} else {
			same = 0
		}
		last = n
		time.Sleep(poll)
	}
	return last, nil
}

var (
	commitTook = regexp.MustCompile(`commit has taken ([0-9.]+) seconds`)
	committed  = regexp.MustCompile(`Committed (\d+) new entries`)
)

// Reported reads the last commit's time and count from the daemon's log.
func (d *Daemon) Reported() (time.Duration, int, error) {
	f, err := os.Open(filepath.Join(d.dir, "conntrackd.log"))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	var took time.Duration
	n := -1
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := commitTook.FindStringSubmatch(sc.Text()); m != nil {
			s, _ := strconv.ParseFloat(m[1], 64)
			took = time.Duration(s * float64(time.Second))
		}
		if m := committed.FindStringSubmatch(sc.Text()); m != nil {
			n, _ = strconv.Atoi(m[1])
		}
	}
	if n < 0 {
		return 0, 0, errors.New("no commit in the conntrackd log")
	}
	return took, n, sc.Err()
}

// CPUTime is the CPU time, user and system, that the daemon has used,
// from /proc/PID/stat (clock ticks of 10 ms).
func (d *Daemon) CPUTime() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", d.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command may hold spaces
	if i < 0 {
		return 0, errors.New("conntrackd: cannot read its /proc stat")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, errors.New("conntrackd: short /proc stat")
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("conntrackd: bad /proc stat times")
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}
