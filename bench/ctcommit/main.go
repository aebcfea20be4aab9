// Command ctcommit measures the commit of a conntrack table on takeover:
// how long it takes to write 100,000 UDP entries, a fifth of them NAT'd,
// into an empty kernel table, with statesync/ctnl's batched create and,
// in the same run, with conntrackd's external cache commit (`conntrackd
// -c`), the tool Rampart has to match. Each run uses fresh network
// namespaces; the figure is the median of the runs.
//
// conntrackd is fed the way it is in production: a first conntrackd (A)
// dumps a namespace holding the entries into its internal cache and
// bulk-sends it (`conntrackd -B`) over a veth to a second one (B), whose
// external cache is then committed. The conntrackd figure is the time B
// reports in its log ("commit has taken"), which excludes the client's
// own start-up; the wall time of `conntrackd -c` is printed too.
//
// Run as root: go run ./bench/ctcommit. The last line reads
// RESULT commit_100k_ms=… conntrackd_commit_100k_ms=…
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"time"

	"rampart/internal/netns"
	"rampart/statesync/ctnl"
)

// natRuleset registers NAT hooks: without them the kernel creates NAT'd
// entries but does not translate.
const natRuleset = `
table ip nat {
	chain pre { type nat hook prerouting priority dstnat; }
	chain post { type nat hook postrouting priority srcnat; }
}
`

type options struct {
	n, runs, batch int
	conntrackd     bool
}

func main() {
	var o options
	flag.IntVar(&o.n, "n", 100000, "entries to commit")
	flag.IntVar(&o.runs, "runs", 3, "runs per method; the median is reported")
	flag.IntVar(&o.batch, "batch", ctnl.DefaultBatchSize, "messages per sendmsg")
	flag.BoolVar(&o.conntrackd, "conntrackd", true, "measure conntrackd too")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "ctcommit:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if os.Geteuid() != 0 {
		return errors.New("needs root (network namespaces)")
	}
	prefix := netns.NewPrefix()
	defer netns.Sweep(prefix)
	entries := makeEntries(o.n)
	fmt.Printf("entries: %d UDP, %d NAT'd; batch %d; %d runs\n", o.n, countNAT(entries), o.batch, o.runs)

	useConntrackd := o.conntrackd
	if _, err := exec.LookPath("conntrackd"); useConntrackd && err != nil {
		fmt.Println("conntrackd not installed (Debian package conntrackd): measuring ctnl only")
		useConntrackd = false
	}
	// Runs alternate between the two methods so that both see the same
	// load on a shared machine.
	var ours, theirs []time.Duration
	for i := 0; i < o.runs; i++ {
		d, err := commitOurs(fmt.Sprintf("%so%d", prefix, i), entries, o.batch, false)
		if err != nil {
			return fmt.Errorf("ctnl run %d: %w", i, err)
		}
		// conntrackd listens to the table's events while it commits, and
		// the kernel builds one per entry; show ours under the same load.
		dl, err := commitOurs(fmt.Sprintf("%sl%d", prefix, i), entries, o.batch, true)
		if err != nil {
			return fmt.Errorf("ctnl run %d with a listener: %w", i, err)
		}
		fmt.Printf("ctnl run %d: %.1f ms (%.1f ms with an event listener draining)\n", i, ms(d), ms(dl))
		ours = append(ours, scale(d, o.n))
		if !useConntrackd {
			continue
		}
		r, err := commitConntrackd(fmt.Sprintf("%sc%d", prefix, i), entries)
		if err != nil {
			return fmt.Errorf("conntrackd run %d: %w", i, err)
		}
		fmt.Printf("conntrackd run %d: %.1f ms (its log), %.1f ms (conntrackd -c wall), %d committed\n",
			i, ms(r.reported), ms(r.wall), r.committed)
		theirs = append(theirs, scale(r.reported, r.committed))
	}
	theirsMS := "NA"
	if len(theirs) > 0 {
		theirsMS = fmt.Sprintf("%.1f", ms(median(theirs)))
	}
	fmt.Printf("RESULT commit_100k_ms=%.1f conntrackd_commit_100k_ms=%s\n", ms(median(ours)), theirsMS)
	return nil
}

// makeEntries returns n distinct UDP entries: one in ten SNAT'd (each to
// its own port, as masquerade would), one in ten DNAT'd.
func makeEntries(n int) []ctnl.Entry {
	es := make([]ctnl.Entry, n)
	dst := netipAddr(10, 200, 0, 1)
	for i := range es {
		orig := ctnl.Tuple{
			Src: netipAddr(10, byte(1+i>>16), byte(i>>8), byte(i)), Dst: dst,
			Proto: 17, SrcPort: uint16(1024 + i%50000), DstPort: 53,
		}
		e := ctnl.Entry{Orig: orig, Reply: orig.Reverse(), Status: ctnl.StatusConfirmed | ctnl.StatusSeenReply, Timeout: 600}
		switch i % 10 {
		case 0:
			e.SNAT = &ctnl.NAT{Addr: netipAddr(198, 51, 100, 1), Port: uint16(10000 + i/10)}
		case 5:
			e.DNAT = &ctnl.NAT{Addr: netipAddr(10, 3, byte(i>>8), byte(i)), Port: 5353}
		}
		es[i] = e
	}
	return es
}

func countNAT(es []ctnl.Entry) int {
	n := 0
	for _, e := range es {
		if e.SNAT != nil || e.DNAT != nil {
			n++
		}
	}
	return n
}

// newNS makes a namespace with NAT hooks. Callers flush its table before
// they close it, so that the kernel does not free a namespace's 100,000
// entries in the background of the next measurement.
func newNS(name string) (*netns.NS, error) {
	ns, err := netns.New(name)
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp("", "ctcommit-ruleset")
	if err != nil {
		ns.Close()
		return nil, err
	}
	defer os.Remove(f.Name())
	_, err = f.WriteString(natRuleset)
	f.Close()
	if err == nil {
		err = ns.Run("nft", "-f", f.Name())
	}
	if err != nil {
		ns.Close()
		return nil, err
	}
	return ns, nil
}

// commitOurs times one batched create of entries into a fresh namespace
// and checks that the kernel holds them all. With listen, an event
// listener drains the namespace's events meanwhile.
func commitOurs(name string, entries []ctnl.Entry, batch int, listen bool) (time.Duration, error) {
	ns, err := newNS(name)
	if err != nil {
		return 0, err
	}
	defer ns.Close()
	if listen {
		ln, err := ctnl.Listen(ctnl.Config{NetNS: ns.Fd()}, ctnl.EventNew)
		if err != nil {
			return 0, err
		}
		defer ln.Close()
		go func() {
			for {
				if _, err := ln.Receive(); err != nil && !errors.Is(err, ctnl.ErrOverrun) {
					return
				}
			}
		}()
	}
	c, err := ctnl.Dial(ctnl.Config{NetNS: ns.Fd(), BatchSize: batch})
	if err != nil {
		return 0, err
	}
	defer c.Close()
	start := time.Now()
	fails, err := c.Create(entries, ctnl.CreateOptions{})
	d := time.Since(start)
	if err != nil {
		return 0, err
	}
	if len(fails) > 0 {
		return 0, fmt.Errorf("%d entries refused, first: %v", len(fails), fails[0])
	}
	if err := checkCount(c, len(entries)); err != nil {
		return 0, err
	}
	return d, c.Flush()
}

func checkCount(c *ctnl.Conn, want int) error {
	got, err := c.Dump()
	if err != nil {
		return err
	}
	if len(got) != want {
		return fmt.Errorf("kernel holds %d entries, want %d", len(got), want)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// scale extrapolates a time measured for n entries to 100,000.
func scale(d time.Duration, n int) time.Duration {
	if n <= 0 {
		return 0
	}
	return time.Duration(float64(d) * 100000 / float64(n))
}
