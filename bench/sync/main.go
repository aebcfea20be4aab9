// Command sync measures Rampart's state sync against conntrackd (the
// Debian package: FTFW over UDP on the same kind of link, external cache,
// `conntrackd -c` on takeover), side by side in the same run:
//
//   - survived: the connections that survive the lab's failover with the
//     links cut (lab TestSyncFailoverLinksCut: 1,000 TCP connections,
//     strict conntrack), run as a test binary;
//   - events_per_s: the highest rate of new flows per second that reaches
//     the backup with zero loss. New flows are conntrack entries created
//     in the master's table with ctnl, which fires the same NEW events as
//     real flows; ours counts the backup's cache (statesync.Node runs
//     in-process in each namespace), conntrackd's its external cache
//     (`conntrackd -s`);
//   - lag_p99_ms: the 99th percentile of our replication lag at 10,000
//     new flows per second, from the event's receipt on the master to the
//     backup's acknowledgement (the sender's LagP99);
//   - commit_100k_ms: bench/ctcommit's commit of 100,000 entries, both
//     sides, run as a command.
//
// Run as root: make bench-sync. The last line reads
// RESULT survived=… of=… events_per_s=… conntrackd_events_per_s=… ratio=…
// lag_p99_ms=… commit_100k_ms=… conntrackd_commit_100k_ms=…
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"rampart/bench/internal/conntrackd"
	"rampart/internal/gctune"
	"rampart/internal/netns"
	"rampart/statesync"
	"rampart/statesync/ctnl"
)

type options struct {
	rates    string
	step     time.Duration
	lagRate  int
	ctcommit string
	labTest  string
	skipLab  bool
	ceiling  bool
	nice     int
	genRate  int
	genDur   time.Duration
	cpuprof  string
	pin      bool
}

func main() {
	var o options
	flag.StringVar(&o.rates, "rates", "40000,80000,120000,140000,160000,180000,200000,220000,240000,260000", "new flows per second to try, ascending (1 s each: 260,000 is about the kernel's table limit here)")
	flag.DurationVar(&o.step, "step", time.Second, "how long each rate runs")
	flag.IntVar(&o.lagRate, "lag-rate", 10000, "new flows per second of the lag measurement")
	flag.StringVar(&o.ctcommit, "ctcommit", "go run ./bench/ctcommit -runs 3", "the commit benchmark's command")
	flag.StringVar(&o.labTest, "labtest", "go test ./lab -run ^TestSyncFailoverLinksCut$ -count=1 -v", "the failover test's command")
	flag.BoolVar(&o.skipLab, "skip-lab", false, "skip the failover (survived=NA)")
	flag.BoolVar(&o.ceiling, "ceiling", false, "only measure the generator's rate with no one listening, and stop")
	flag.IntVar(&o.nice, "generator-nice", -10, "nice value of the generator process: ahead of both sync daemons, so that their cost per event, not the generator, sets the rate")
	flag.IntVar(&o.genRate, "gen-rate", 0, "internal: run as the generator in the current namespace at this rate")
	flag.DurationVar(&o.genDur, "gen-dur", time.Second, "internal: the generator's duration")
	flag.StringVar(&o.cpuprof, "cpuprofile", "", "write a CPU profile of this process (our nodes) to the file")
	flag.BoolVar(&o.pin, "pin", true, "on two or more CPUs: the generator on CPU 0, both sides' sync daemons on CPU 1")
	flag.Parse()
	if o.genRate > 0 {
		made, reached, err := generate(o.genRate, o.genDur)
		if err != nil {
			fmt.Fprintln(os.Stderr, "sync: generator:", err)
			os.Exit(1)
		}
		fmt.Printf("made %d reached %.0f\n", made, reached)
		return
	}
	generatorNice = o.nice
	if o.pin {
		pinSelf() // returns only when pinned already or when pinning is not possible
	}
	gctune.Apply() // our nodes run in this process: with the daemon's collector settings
	if o.cpuprof != "" {
		f, err := os.Create(o.cpuprof)
		if err == nil {
			_ = pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	if err := run(o); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "sync:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if os.Geteuid() != 0 {
		return errors.New("needs root (network namespaces)")
	}
	var rates []int
	for _, f := range strings.Split(o.rates, ",") {
		var r int
		if _, err := fmt.Sscan(f, &r); err != nil || r <= 0 {
			return fmt.Errorf("bad rate %q", f)
		}
		rates = append(rates, r)
	}
	prefix := netns.NewPrefix()
	defer netns.Sweep(prefix)
	if o.ceiling {
		return ceiling(prefix+"g", o.step)
	}

	survived, of := "NA", "NA"
	if !o.skipLab {
		s, n, err := failover(o.labTest)
		if err != nil {
			fmt.Println("failover:", err)
		} else {
			survived, of = fmt.Sprint(s), fmt.Sprint(n)
		}
	}

	// Rates alternate between the two so that both see the same machine.
	_, err := exec.LookPath("conntrackd")
	haveCtd := err == nil
	if !haveCtd {
		fmt.Println("conntrackd not installed (Debian package conntrackd): measuring ours only")
	}
	ours, theirs := 0, 0
	var ourCPU, theirCPU []float64 // µs per flow at the rates without loss
	oursDone, theirsDone := false, !haveCtd
	for i, r := range rates {
		if !oursDone {
			res, err := rateOurs(fmt.Sprintf("%so%d", prefix, i), r, o.step)
			if err != nil {
				return fmt.Errorf("ours at %d/s: %w", r, err)
			}
			fmt.Printf("ours       %7d/s asked, %7.0f/s made: %s\n", r, res.made, res)
			if res.lost() {
				oursDone = true
			} else {
				ours = max(ours, int(res.replicated()))
				ourCPU = append(ourCPU, res.cpuPerFlow())
			}
		}
		if !theirsDone {
			res, err := rateConntrackd(fmt.Sprintf("%sc%d", prefix, i), r, o.step)
			if err != nil {
				fmt.Printf("conntrackd at %d/s: %v\n", r, err)
				theirsDone = true
				continue
			}
			fmt.Printf("conntrackd %7d/s asked, %7.0f/s made: %s\n", r, res.made, res)
			if res.lost() {
				theirsDone = true
			} else {
				theirs = max(theirs, int(res.replicated()))
				theirCPU = append(theirCPU, res.cpuPerFlow())
			}
		}
	}
	// A side that lost nothing at the last rate was held back by the
	// generator (the kernel's create rate on this machine), not by its
	// replication: its figure is a lower bound.
	if !oursDone {
		fmt.Println("ours lost nothing up to the generator's ceiling: events_per_s is a lower bound")
	}
	if haveCtd && !theirsDone {
		fmt.Println("conntrackd lost nothing up to the generator's ceiling: conntrackd_events_per_s is a lower bound")
	}
	if len(ourCPU) > 0 && len(theirCPU) > 0 {
		fmt.Printf("CPU per flow replicated, both nodes, mean over the rates without loss: ours %.2f µs, conntrackd %.2f µs (%.2fx)\n",
			mean(ourCPU), mean(theirCPU), mean(theirCPU)/mean(ourCPU))
	}
	theirsS, ratio := "NA", "NA"
	if haveCtd && theirs > 0 {
		theirsS, ratio = fmt.Sprint(theirs), fmt.Sprintf("%.2f", float64(ours)/float64(theirs))
	}

	lag, err := lagOurs(prefix+"lag", o.lagRate, 3*time.Second)
	if err != nil {
		return fmt.Errorf("lag: %w", err)
	}
	fmt.Printf("ours at %d/s for 3s: %s\n", o.lagRate, lag)

	commit, ctdCommit := "NA", "NA"
	if line, err := lastResult(o.ctcommit); err != nil {
		fmt.Println("ctcommit:", err)
	} else {
		commit, ctdCommit = field(line, "commit_100k_ms"), field(line, "conntrackd_commit_100k_ms")
	}
	fmt.Printf("RESULT survived=%s of=%s events_per_s=%d conntrackd_events_per_s=%s ratio=%s lag_p99_ms=%.1f commit_100k_ms=%s conntrackd_commit_100k_ms=%s\n",
		survived, of, ours, theirsS, ratio, ms(lag.p99), commit, ctdCommit)
	return nil
}

// pair is two namespaces joined by a veth, sync0: A at .1, B at .2.
type pair struct {
	a, b         *netns.NS
	addrA, addrB netip.Addr
}

func newPair(name string) (*pair, error) {
	p := &pair{addrA: netip.MustParseAddr("192.168.214.1"), addrB: netip.MustParseAddr("192.168.214.2")}
	var err error
	if p.a, err = netns.New(name + "a"); err != nil {
		return nil, err
	}
	if p.b, err = netns.New(name + "b"); err != nil {
		p.a.Close()
		return nil, err
	}
	cmds := map[*netns.NS][]string{
		p.a: append([]string{
			"ip link add sync0 type veth peer name sync0 netns " + p.b.Name,
			"ip addr add 192.168.214.1/30 dev sync0",
			"ip link set sync0 up",
			"ip link set lo up",
		}, genSetup...),
		p.b: {
			"ip addr add 192.168.214.2/30 dev sync0",
			"ip link set sync0 up",
			"ip link set lo up",
		},
	}
	for _, ns := range []*netns.NS{p.a, p.b} { // A first: it makes the link
		for _, c := range cmds[ns] {
			f := strings.Fields(c)
			if err := ns.Run(f[0], f[1:]...); err != nil {
				p.close()
				return nil, err
			}
		}
	}
	return p, nil
}

// close flushes both tables first, so that the kernel does not free
// their entries in the background of the next measurement.
func (p *pair) close() {
	for _, ns := range []*netns.NS{p.a, p.b} {
		if c, err := ctnl.Dial(ctnl.Config{NetNS: ns.Fd()}); err == nil {
			_ = c.Flush()
			c.Close()
		}
		ns.Close()
	}
}

// generate makes new flows in the current namespace (the master's) at
// rate per second for d, a batch every 10ms (packetgen.go), and returns
// how many it made and the rate it reached (below rate when the kernel
// could not keep up).
func generate(rate int, d time.Duration) (int, float64, error) {
	s, err := newPacketSender(512)
	if err != nil {
		return 0, 0, err
	}
	defer s.Close()
	total := int(float64(rate) * d.Seconds())
	made := 0
	start := time.Now()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for made < total {
		<-tick.C
		due := min(total, int(float64(rate)*time.Since(start).Seconds()))
		if due <= made {
			continue
		}
		if err := s.send(made, due); err != nil {
			return made, 0, err
		}
		made = due
	}
	return made, float64(made) / time.Since(start).Seconds(), nil
}

// ceiling measures the generator alone: flows made as fast as it can in
// a namespace where no one listens to conntrack events.
func ceiling(name string, d time.Duration) error {
	p, err := newPair(name)
	if err != nil {
		return err
	}
	defer p.close()
	made, reached, err := generateIn(p.a, 400_000, d)
	if err != nil {
		return err
	}
	fmt.Printf("RESULT generator_made=%d generator_per_s=%.0f\n", made, reached)
	return nil
}

// pinSelf runs the benchmark again under taskset on CPU 1, with the
// generator told to use CPU 0: each side's two sync daemons (ours in this
// process, conntrackd's two processes, which inherit the mask) then have
// one core of their own, and the rate where each starts to lose is set
// by its own cost per flow, not by how the scheduler shares the machine
// with the generator.
func pinSelf() {
	if os.Getenv("RAMPART_BENCH_PINNED") != "" || runtime.NumCPU() < 2 {
		return
	}
	taskset, err := exec.LookPath("taskset")
	if err != nil {
		fmt.Println("taskset not found: not pinning")
		return
	}
	exe, err := os.Executable()
	if err != nil {
		return
	}
	env := append(os.Environ(), "RAMPART_BENCH_PINNED=1", "GEN_CPU=0")
	args := append([]string{"taskset", "-c", "1", exe}, os.Args[1:]...)
	err = syscall.Exec(taskset, args, env)
	fmt.Println("pinning failed:", err)
}

// generatorNice is the generator process's nice value (-generator-nice).
var generatorNice = -10

// generatorCPU pins the generator (taskset -c), when set.
var generatorCPU = os.Getenv("GEN_CPU")

// generateIn runs the generator as a process of its own in ns (this
// binary with -gen-rate), at generatorNice: our nodes run in this process
// and conntrackd in its own, both at nice 0, so neither takes CPU from
// the generator's share by living with it, and the rate at which each
// starts to lose is set by its own cost per event.
func generateIn(ns *netns.NS, rate int, d time.Duration) (int, float64, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, 0, err
	}
	args := []string{"nice", "-n", fmt.Sprint(generatorNice), exe, "-gen-rate", fmt.Sprint(rate), "-gen-dur", d.String()}
	if generatorCPU != "" {
		args = append([]string{"taskset", "-c", generatorCPU}, args...)
	}
	cmd := ns.Command(context.Background(), args[0], args[1:]...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, 0, fmt.Errorf("generator: %w", err)
	}
	var made int
	var reached float64
	if _, err := fmt.Sscanf(string(out), "made %d reached %f", &made, &reached); err != nil {
		return 0, 0, fmt.Errorf("generator said %q: %w", out, err)
	}
	return made, reached, nil
}

// rateResult is what reached the backup of the flows made.
type rateResult struct {
	made        float64 // flows per second
	total, got  int
	gaps, drops uint64
	resyncs     uint64
	waited      time.Duration
	cpu         time.Duration // CPU time of both nodes from the first flow to the last at the backup
}

// How the bench waits for the backup after the generator: both sides
// alike, polled every catchUpPoll until complete or still for
// catchUpStill polls.
const (
	catchUpPoll  = 20 * time.Millisecond
	catchUpStill = 100
)

// replicated is the rate at which the flows reached the backup: all of
// them, over the generator's time plus the backup's catching up after
// it. A step lasts a second, and a 64 MB event socket buffer and a queue
// of 2^18 flows can take in a whole second's flows of a daemon that does
// not keep up; the rate it made then is not one it replicates, and its
// backlog shows in the catching up.
func (r rateResult) replicated() float64 {
	if r.made <= 0 || r.total == 0 {
		return 0
	}
	return float64(r.total) / (float64(r.total)/r.made + r.waited.Seconds())
}

// cpuPerFlow is the nodes' CPU time per flow replicated, in µs.
func (r rateResult) cpuPerFlow() float64 {
	if r.total == 0 {
		return 0
	}
	return float64(r.cpu.Nanoseconds()) / 1000 / float64(r.total)
}

func (r rateResult) lost() bool { return r.got < r.total || r.gaps > 0 || r.drops > 0 }

func (r rateResult) String() string {
	s := fmt.Sprintf("%d of %d at the backup after %v (replicated at %.0f/s)", r.got, r.total, r.waited.Round(time.Millisecond), r.replicated())
	if r.cpu > 0 {
		s += fmt.Sprintf(", %.2f µs CPU per flow", r.cpuPerFlow())
	}
	if r.gaps+r.drops+r.resyncs > 0 {
		s += fmt.Sprintf(", event gaps %d, drops %d, resyncs %d", r.gaps, r.drops, r.resyncs)
	}
	if r.lost() {
		s += " LOSS"
	}
	return s
}

// nodes runs a statesync.Node in each namespace of p.
type nodes struct {
	a, b   *statesync.Node
	cancel context.CancelFunc
	done   chan struct{}
}

func startNodes(p *pair) (*nodes, error) {
	secret := []byte("bench-sync-secret")
	mk := func(ns *netns.NS, local, peer netip.Addr) (*statesync.Node, error) {
		id, err := statesync.DeriveIdentity(secret, local, peer)
		if err != nil {
			return nil, err
		}
		var ln net.Listener
		if err := ns.Do(func() error {
			var err error
			ln, err = net.Listen("tcp", netip.AddrPortFrom(local, 7547).String())
			return err
		}); err != nil {
			return nil, err
		}
		n, err := statesync.NewNode(statesync.Config{
			Local: local, Peer: peer, Port: 7547, Identity: id, NetNS: ns.Fd(), Listener: ln,
			Filter: statesync.Filter{Ignore: []netip.Prefix{netip.MustParsePrefix("192.168.214.0/30")}},
			Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
				var c net.Conn
				err := ns.Do(func() error {
					d := net.Dialer{LocalAddr: &net.TCPAddr{IP: local.AsSlice()}}
					var err error
					c, err = d.DialContext(ctx, network, addr)
					return err
				})
				return c, err
			},
		})
		if err != nil {
			ln.Close()
		}
		return n, err
	}
	a, err := mk(p.a, p.addrA, p.addrB)
	if err != nil {
		return nil, err
	}
	b, err := mk(p.b, p.addrB, p.addrA)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &nodes{a: a, b: b, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(n.done)
		done := make(chan struct{})
		go func() { _ = b.Run(ctx); close(done) }()
		_ = a.Run(ctx)
		<-done
	}()
	// Wait (bounded) for both bulk updates: the sessions are up.
	for _, x := range []*statesync.Node{a, b} {
		select {
		case <-x.BulkDone():
		case <-time.After(10 * time.Second):
			n.stop()
			return nil, errors.New("no bulk update within 10s")
		}
	}
	return n, nil
}

func (n *nodes) stop() {
	n.cancel()
	<-n.done
}

// rateOurs makes flows in A's table at rate and counts them in B's cache.
func rateOurs(name string, rate int, d time.Duration) (rateResult, error) {
	var r rateResult
	p, err := newPair(name)
	if err != nil {
		return r, err
	}
	defer p.close()
	n, err := startNodes(p)
	if err != nil {
		return r, err
	}
	defer n.stop()
	base := n.a.Status()
	cpu0 := selfCPU()
	made, reached, err := generateIn(p.a, rate, d)
	if err != nil {
		return r, err
	}
	r.total, r.made = made, reached
	start := time.Now()
	r.got = waitGrowth(func() (int, error) { return n.b.Status().Receiver.CacheSize, nil }, made, catchUpPoll, catchUpStill)
	r.waited = time.Since(start)
	r.cpu = selfCPU() - cpu0
	st := n.a.Status()
	r.gaps = sum(st.Source.Gaps) - sum(base.Source.Gaps)
	r.drops = sum(st.Sender.Drops) - sum(base.Sender.Drops)
	r.resyncs = sum(st.Sender.Resyncs) - sum(base.Sender.Resyncs)
	return r, nil
}

// lagResult is the sender's lag after a run at a steady rate.
type lagResult struct {
	p99, max time.Duration
	samples  int
	got      rateResult
}

func (l lagResult) String() string {
	return fmt.Sprintf("lag p99 %.1f ms, max %.1f ms over %d frames; %s", ms(l.p99), ms(l.max), l.samples, l.got)
}

func lagOurs(name string, rate int, d time.Duration) (lagResult, error) {
	var l lagResult
	p, err := newPair(name)
	if err != nil {
		return l, err
	}
	defer p.close()
	n, err := startNodes(p)
	if err != nil {
		return l, err
	}
	defer n.stop()
	made, reached, err := generateIn(p.a, rate, d)
	if err != nil {
		return l, err
	}
	l.got.total, l.got.made = made, reached
	start := time.Now()
	l.got.got = waitGrowth(func() (int, error) { return n.b.Status().Receiver.CacheSize, nil }, made, 10*time.Millisecond, 100)
	l.got.waited = time.Since(start)
	st := n.a.Status().Sender
	l.p99, l.max, l.samples = st.LagP99, st.LagMax, st.LagSamples
	return l, nil
}

// rateConntrackd makes flows in A's table at rate with a conntrackd in
// each namespace and counts them in B's external cache.
func rateConntrackd(name string, rate int, d time.Duration) (rateResult, error) {
	var r rateResult
	p, err := newPair(name)
	if err != nil {
		return r, err
	}
	defer p.close()
	dir, err := os.MkdirTemp("", "bench-sync-conntrackd")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	da, err := conntrackd.Start(p.a, filepath.Join(dir, "a"), "sync0", p.addrA.String(), p.addrB.String())
	if err != nil {
		return r, err
	}
	defer da.Stop()
	db, err := conntrackd.Start(p.b, filepath.Join(dir, "b"), "sync0", p.addrB.String(), p.addrA.String())
	if err != nil {
		return r, err
	}
	defer db.Stop()
	cpu0 := daemonsCPU(da, db)
	made, reached, err := generateIn(p.a, rate, d)
	if err != nil {
		return r, err
	}
	r.total, r.made = made, reached
	start := time.Now()
	r.got = waitGrowth(func() (int, error) { return db.CacheCount("external") }, made, catchUpPoll, catchUpStill)
	r.waited = time.Since(start)
	r.cpu = daemonsCPU(da, db) - cpu0
	// An event socket overrun is a loss that conntrackd repairs with a
	// resync, as our gaps are: count it the same way.
	if log, err := os.ReadFile(filepath.Join(dir, "a", "conntrackd.log")); err == nil {
		r.gaps = uint64(strings.Count(strings.ToLower(string(log)), "overrun"))
	}
	return r, nil
}

// selfCPU is this process's CPU time, user and system: our two nodes.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// daemonsCPU is the CPU time of both conntrackd daemons.
func daemonsCPU(ds ...*conntrackd.Daemon) time.Duration {
	var sum time.Duration
	for _, d := range ds {
		if t, err := d.CPUTime(); err == nil {
			sum += t
		}
	}
	return sum
}

// waitGrowth polls count every poll until it reaches want or has not
// grown for still polls in a row; it returns the last count.
func waitGrowth(count func() (int, error), want int, poll time.Duration, still int) int {
	last, same := -1, 0
	for range 2000 {
		n, err := count()
		if err == nil && n >= want {
			return n
		}
		if n == last {
			if same++; same >= still {
				return n
			}
		} else {
			same = 0
		}
		last = n
		time.Sleep(poll)
	}
	return last
}

// failover runs the lab's failover test and returns how many of its TCP
// connections survived: all, less those it reports broken.
func failover(command string) (survived, of int, err error) {
	out, runErr := runCommand(command)
	if m := regexp.MustCompile(`(\d+) TCP flows, \d+ bytes echoed and verified`).FindSubmatch(out); m != nil {
		_, _ = fmt.Sscan(string(m[1]), &of)
	}
	broke := 0
	if m := regexp.MustCompile(`(\d+) of (\d+) TCP flows broke`).FindSubmatch(out); m != nil {
		_, _ = fmt.Sscan(string(m[1]), &broke)
	}
	if of == 0 {
		return 0, 0, fmt.Errorf("no flow count in its output (%v):\n%s", runErr, tail(out, 20))
	}
	fmt.Printf("failover (lab TestSyncFailoverLinksCut): %d of %d connections survived (%v)\n", of-broke, of, runErr)
	return of - broke, of, nil
}

// lastResult runs a benchmark command and returns its RESULT line.
func lastResult(command string) (string, error) {
	out, err := runCommand(command)
	var line string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fmt.Println("  " + sc.Text())
		if strings.HasPrefix(sc.Text(), "RESULT ") {
			line = sc.Text()
		}
	}
	if line == "" {
		return "", fmt.Errorf("no RESULT line (%v)", err)
	}
	return line, nil
}

func runCommand(command string) ([]byte, error) {
	f := strings.Fields(command)
	cmd := exec.Command(f[0], f[1:]...)
	cmd.Stderr = os.Stderr
	return cmd.Output()
}

func field(line, key string) string {
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return v
		}
	}
	return "NA"
}

func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func sum(m map[string]uint64) uint64 {
	var s uint64
	for _, v := range m {
		s += v
	}
	return s
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
