package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"rampart/internal/netns"
	"rampart/lab"
)

// Ports of the two servers in the server namespace. Both lie outside the
// policy's dropped ports, so that the last rule is what accepts them.
const (
	sinkPort  = 9000
	iperfPort = 5201
)

// offloadsOff turns segmentation and receive offloads off on every device
// of the lab, so that every packet is at most MTU-sized and pays the
// per-packet cost of the ruleset.
func offloadsOff(ctx context.Context, prefix string, hosts []*netns.NS) error {
	reports, err := lab.Status(prefix)
	if err != nil {
		return err
	}
	byName := map[string]*netns.NS{}
	for _, ns := range hosts {
		byName[ns.Name] = ns
	}
	for _, r := range reports {
		for _, n := range r.Namespaces {
			ns := byName[n.Name]
			if ns == nil {
				continue
			}
			for _, l := range n.Links {
				if l.Name == "lo" {
					continue
				}
				if out, err := ns.Command(ctx, "ethtool", "-K", l.Name, "tso", "off", "gso", "off", "gro", "off").CombinedOutput(); err != nil {
					return fmt.Errorf("ethtool -K %s in %s: %v: %s", l.Name, n.Name, err, out)
				}
			}
		}
	}
	return nil
}

// startServer runs a long-lived server process in ns and waits until it
// prints a line containing ready. The caller kills it.
func startServer(ctx context.Context, ns *netns.NS, ready string, name string, args ...string) (*exec.Cmd, error) {
	cmd := ns.Command(ctx, name, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	lines := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), ready) {
				lines <- true
				break
			}
		}
		_, _ = io.Copy(io.Discard, out) // keep draining until the process ends
	}()
	select {
	case <-lines:
		return cmd, nil
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("%s: not ready after 10s", name)
	}
}

// measureCPS runs the load generator in the client namespace for d and
// returns completed connections per second.
func measureCPS(ctx context.Context, client *netns.NS, exe string, d time.Duration, workers int) (float64, error) {
	dst := fmt.Sprintf("%s:%d", lab.ServerV4, sinkPort)
	out, err := client.Command(ctx, exe, "loadgen", "-addr", dst, "-duration", d.String(),
		"-workers", strconv.Itoa(workers)).Output()
	if err != nil {
		return 0, fmt.Errorf("loadgen: %w", err)
	}
	var ok, failed int
	if _, err := fmt.Sscan(string(out), &ok, &failed); err != nil {
		return 0, fmt.Errorf("loadgen output %q: %w", out, err)
	}
	if ok == 0 {
		return 0, fmt.Errorf("loadgen: no connection succeeded (%d failed)", failed)
	}
	return float64(ok) / d.Seconds(), nil
}

// measureMbps runs iperf3 (TCP, one stream) from the client for d, after
// one omitted second of slow start, and returns the received Mbit/s.
func measureMbps(ctx context.Context, client *netns.NS, d time.Duration) (float64, error) {
	secs := strconv.Itoa(int(d.Round(time.Second) / time.Second))
	out, err := client.Command(ctx, "iperf3", "-c", lab.ServerV4.String(), "-p", strconv.Itoa(iperfPort),
		"-t", secs, "-O", "1", "-J").Output()
	var res struct {
		End struct {
			SumReceived struct {
				BitsPerSecond float64 `json:"bits_per_second"`
			} `json:"sum_received"`
		} `json:"end"`
		Error string `json:"error"`
	}
	if jerr := json.Unmarshal(out, &res); jerr != nil {
		return 0, fmt.Errorf("iperf3: %v (%v)", err, jerr)
	}
	if res.Error != "" || err != nil {
		return 0, fmt.Errorf("iperf3: %v %s", err, res.Error)
	}
	return res.End.SumReceived.BitsPerSecond / 1e6, nil
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
