package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"rampart/internal/netns"
	"rampart/statesync/ctnl"
)

func netipAddr(a, b, c, d byte) netip.Addr { return netip.AddrFrom4([4]byte{a, b, c, d}) }

// conntrackdConf is a two-node FTFW setup over a dedicated veth, as the
// conntrack-tools examples have it, with caches sized for the run.
const conntrackdConf = `Sync {
	Mode FTFW {
	}
	UDP {
		IPv4_address %[1]s
		IPv4_Destination_Address %[2]s
		Port 3780
		Interface sync0
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
	NetlinkBufferSize 2097152
	NetlinkBufferSizeMaxGrowth 8388608
	Filter From Kernelspace {
		Protocol Accept {
			UDP
			TCP
		}
	}
}
`

// daemon is one conntrackd running in the foreground in a namespace.
type daemon struct {
	ns   *netns.NS
	dir  string
	cmd  *exec.Cmd
	conf string
}

func startDaemon(ns *netns.NS, dir, self, peer string) (*daemon, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	d := &daemon{ns: ns, dir: dir, conf: filepath.Join(dir, "conntrackd.conf")}
	if err := os.WriteFile(d.conf, []byte(fmt.Sprintf(conntrackdConf, self, peer, dir)), 0o644); err != nil {
		return nil, err
	}
	d.cmd = ns.Command(context.Background(), "conntrackd", "-C", d.conf)
	if err := d.cmd.Start(); err != nil {
		return nil, err
	}
	// Wait for its control socket; bounded.
	for i := 0; i < 100; i++ {
		if _, err := d.client("-s"); err == nil {
			return d, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.stop()
	return nil, errors.New("conntrackd did not come up")
}

func (d *daemon) client(args ...string) (string, error) {
	return d.ns.Output("conntrackd", append([]string{"-C", d.conf}, args...)...)
}

func (d *daemon) stop() {
	_, _ = d.client("-k")
	done := make(chan struct{})
	go func() { _ = d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = d.cmd.Process.Kill()
		<-done
	}
}

// cacheCount reads how many entries a cache ("internal" or "external")
// holds from `conntrackd -s`.
func (d *daemon) cacheCount(cache string) (int, error) {
	out, err := d.client("-s")
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

// waitCount polls a cache until it holds want entries or stops growing.
func (d *daemon) waitCount(cache string, want int) (int, error) {
	last, still := -1, 0
	for i := 0; i < 600; i++ {
		n, err := d.cacheCount(cache)
		if err != nil {
			return 0, err
		}
		if n >= want {
			return n, nil
		}
		if n == last {
			still++
			if still >= 20 {
				return n, nil
			}
		} else {
			still = 0
		}
		last = n
		time.Sleep(200 * time.Millisecond)
	}
	return last, nil
}

var commitTook = regexp.MustCompile(`commit has taken ([0-9.]+) seconds`)
var committed = regexp.MustCompile(`Committed (\d+) new entries`)

// reported reads the commit time and count from the daemon's log.
func (d *daemon) reported() (time.Duration, int, error) {
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

type conntrackdResult struct {
	reported, wall time.Duration
	committed      int
}

// commitConntrackd fills conntrackd B's external cache from conntrackd A
// and times B's commit into its empty kernel table.
func commitConntrackd(name string, entries []ctnl.Entry) (conntrackdResult, error) {
	var r conntrackdResult
	a, err := newNS(name + "a")
	if err != nil {
		return r, err
	}
	defer a.Close()
	b, err := newNS(name + "b")
	if err != nil {
		return r, err
	}
	defer b.Close()
	for _, cmd := range []string{
		"ip link add sync0 type veth peer name sync0 netns " + b.Name,
		"ip addr add 192.168.213.1/24 dev sync0",
		"ip link set sync0 up",
	} {
		f := strings.Fields(cmd)
		if err := a.Run(f[0], f[1:]...); err != nil {
			return r, err
		}
	}
	for _, cmd := range []string{"ip addr add 192.168.213.2/24 dev sync0", "ip link set sync0 up"} {
		f := strings.Fields(cmd)
		if err := b.Run(f[0], f[1:]...); err != nil {
			return r, err
		}
	}
	ca, err := ctnl.Dial(ctnl.Config{NetNS: a.Fd()})
	if err != nil {
		return r, err
	}
	defer ca.Close()
	defer ca.Flush()
	if fails, err := ca.Create(entries, ctnl.CreateOptions{}); err != nil || len(fails) > 0 {
		return r, fmt.Errorf("fill A: %d refused, %v", len(fails), err)
	}

	dir, err := os.MkdirTemp("", "ctcommit-conntrackd")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	da, err := startDaemon(a, filepath.Join(dir, "a"), "192.168.213.1", "192.168.213.2")
	if err != nil {
		return r, err
	}
	defer da.stop()
	db, err := startDaemon(b, filepath.Join(dir, "b"), "192.168.213.2", "192.168.213.1")
	if err != nil {
		return r, err
	}
	defer db.stop()
	if n, err := da.waitCount("internal", len(entries)); err != nil || n < len(entries) {
		return r, fmt.Errorf("A's internal cache holds %d of %d: %v", n, len(entries), err)
	}
	if _, err := da.client("-B"); err != nil {
		return r, err
	}
	n, err := db.waitCount("external", len(entries))
	if err != nil {
		return r, err
	}
	if n < len(entries) {
		fmt.Printf("conntrackd: B's external cache got %d of %d entries; extrapolating\n", n, len(entries))
	}
	start := time.Now()
	if _, err := db.client("-c"); err != nil {
		return r, err
	}
	r.wall = time.Since(start)
	if r.reported, r.committed, err = db.reported(); err != nil {
		return r, err
	}
	cb, err := ctnl.Dial(ctnl.Config{NetNS: b.Fd()})
	if err != nil {
		return r, err
	}
	defer cb.Close()
	defer cb.Flush()
	got, err := cb.Dump()
	if err != nil {
		return r, err
	}
	if len(got) != r.committed {
		fmt.Printf("conntrackd: log says %d committed, kernel holds %d\n", r.committed, len(got))
	}
	return r, nil
}
