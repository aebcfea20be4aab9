package lab

import (
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"time"

	"rampart/internal/netns"
)

// Report describes one lab run as it exists on the machine now.
type Report struct {
	Prefix     string
	Nodes      int       // as recorded by Up; 0 if unknown
	Created    time.Time // zero if unknown
	Namespaces []Namespace
}

// Namespace describes one lab namespace.
type Namespace struct {
	Name  string
	Links []Link
	Procs []Proc
}

// Link is one network device with its addresses.
type Link struct {
	Name   string
	State  string // operstate: UP, DOWN, UNKNOWN (lo)
	Master string // the bridge, for switch ports
	Addrs  []netip.Prefix
}

// Proc is a process running inside a lab namespace.
type Proc struct {
	PID int
	Cmd string
}

// Status reports the lab run prefix, or every lab run when prefix is "".
func Status(prefix string) ([]Report, error) {
	prefixes := []string{prefix}
	if prefix == "" {
		var err error
		if prefixes, err = Prefixes(); err != nil {
			return nil, err
		}
	}
	var out []Report
	for _, p := range prefixes {
		r, err := status(p)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func status(prefix string) (Report, error) {
	st := readState(prefix)
	r := Report{Prefix: prefix, Nodes: st.Nodes, Created: st.Created}
	names, err := netns.List(prefix + "-")
	if err != nil {
		return r, fmt.Errorf("lab: status %s: %w", prefix, err)
	}
	for _, name := range names {
		ns := Namespace{Name: name}
		if ns.Links, err = links(name); err != nil {
			return r, err
		}
		ns.Procs = procs(name)
		r.Namespaces = append(r.Namespaces, ns)
	}
	return r, nil
}

// ipLink is the part of `ip -j addr` output that Status reads.
type ipLink struct {
	Name     string `json:"ifname"`
	State    string `json:"operstate"`
	Master   string `json:"master"`
	AddrInfo []struct {
		Local     string `json:"local"`
		PrefixLen int    `json:"prefixlen"`
		Scope     string `json:"scope"`
	} `json:"addr_info"`
}

func links(ns string) ([]Link, error) {
	out, err := exec.Command("ip", "-j", "-n", ns, "addr", "show").Output()
	if err != nil {
		return nil, fmt.Errorf("lab: status: ip -n %s addr: %w", ns, err)
	}
	var raw []ipLink
	if err := json.Unmarshal(out, &raw); err != nil {
		return nil, fmt.Errorf("lab: status: ip -n %s addr: %w", ns, err)
	}
	var ls []Link
	for _, r := range raw {
		l := Link{Name: r.Name, State: r.State, Master: r.Master}
		for _, a := range r.AddrInfo {
			if a.Scope == "link" || a.Scope == "host" {
				continue // link-local and loopback addresses say nothing about the lab
			}
			if ip, err := netip.ParseAddr(a.Local); err == nil {
				l.Addrs = append(l.Addrs, netip.PrefixFrom(ip, a.PrefixLen))
			}
		}
		ls = append(ls, l)
	}
	return ls, nil
}

// procs lists the processes inside ns. A process that exits meanwhile is
// simply missing.
func procs(ns string) []Proc {
	out, err := exec.Command("ip", "netns", "pids", ns).Output()
	if err != nil {
		return nil
	}
	var ps []Proc
	for _, f := range strings.Fields(string(out)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + f + "/cmdline")
		if err != nil {
			continue
		}
		cmd := strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
		ps = append(ps, Proc{PID: pid, Cmd: cmd})
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].PID < ps[j].PID })
	return ps
}

// Print writes reports as an admin reads them.
func Print(w io.Writer, reports []Report) {
	if len(reports) == 0 {
		fmt.Fprintln(w, "no lab is running")
		return
	}
	for _, r := range reports {
		fmt.Fprintf(w, "lab %s", r.Prefix)
		if r.Nodes > 0 {
			fmt.Fprintf(w, " (%d node(s), up since %s)", r.Nodes, r.Created.Local().Format(time.DateTime))
		}
		fmt.Fprintln(w)
		if len(r.Namespaces) == 0 {
			fmt.Fprintln(w, "  no namespaces left (a sweep will forget it)")
		}
		for _, ns := range r.Namespaces {
			printNamespace(w, ns)
		}
	}
}

func printNamespace(w io.Writer, ns Namespace) {
	fmt.Fprintf(w, "  %s\n", ns.Name)
	for _, l := range ns.Links {
		if l.Name == "lo" {
			continue
		}
		line := fmt.Sprintf("    %-11s %-7s", l.Name, l.State)
		if l.Master != "" {
			line += " master " + l.Master
		}
		for _, a := range l.Addrs {
			line += " " + a.String()
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	for _, p := range ns.Procs {
		fmt.Fprintf(w, "    pid %-8d %s\n", p.PID, p.Cmd)
	}
}
