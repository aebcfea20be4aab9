// Package netns creates, enters and removes named network namespaces for
// the lab and for kernel tests. Every name carries a run prefix so that a
// sweep can remove the leftovers of a killed run without touching anything
// else on the host.
package netns

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// PrefixBase starts every namespace name this package makes, so that
// `rampart lab down` can sweep them by prefix.
const PrefixBase = "rp"

// NewPrefix returns a short run prefix such as "rp3fa9c1". It is short
// because interface names built from it must fit IFNAMSIZ (15 bytes).
func NewPrefix() string {
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Sprintf("%s%06x", PrefixBase, os.Getpid()&0xffffff)
	}
	return PrefixBase + hex.EncodeToString(b[:])
}

// NS is a named network namespace held open by a file descriptor.
type NS struct {
	Name string
	f    *os.File
}

// New creates the namespace name (through iproute2, so that `ip netns exec`
// sees it too) and brings its loopback up.
func New(name string) (*NS, error) {
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("netns: add %s: %v: %s", name, err, bytes.TrimSpace(out))
	}
	f, err := os.Open("/run/netns/" + name)
	if err != nil {
		_ = exec.Command("ip", "netns", "del", name).Run()
		return nil, fmt.Errorf("netns: open %s: %w", name, err)
	}
	ns := &NS{Name: name, f: f}
	if err := ns.Run("ip", "link", "set", "lo", "up"); err != nil {
		_ = ns.Close()
		return nil, err
	}
	return ns, nil
}

// Fd is the namespace's file descriptor, for netlink clients that take one
// (nftables.WithNetNSFd, rtnetlink's NetNS option).
func (n *NS) Fd() int { return int(n.f.Fd()) }

// Do runs fn on an OS thread switched into the namespace. Sockets that fn
// opens stay in the namespace after Do returns.
func (n *NS) Do(fn func() error) error {
	runtime.LockOSThread()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netns: open own namespace: %w", err)
	}
	defer orig.Close()
	if err := unix.Setns(n.Fd(), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netns: enter %s: %w", n.Name, err)
	}
	ferr := fn()
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		// Leave the thread locked: the runtime then ends it rather than
		// reuse a thread that sits in the wrong namespace.
		return fmt.Errorf("netns: leave %s: %w", n.Name, err)
	}
	runtime.UnlockOSThread()
	return ferr
}

// Command returns a command that runs inside the namespace.
func (n *NS) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.Name, name}, args...)...)
}

// Run runs a command inside the namespace and returns its output in the
// error when it fails.
func (n *NS) Run(name string, args ...string) error {
	out, err := n.Command(context.Background(), name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("netns %s: %s %s: %v: %s", n.Name, name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// Output runs a command inside the namespace and returns its stdout.
func (n *NS) Output(name string, args ...string) (string, error) {
	var stderr bytes.Buffer
	cmd := n.Command(context.Background(), name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("netns %s: %s %s: %v: %s", n.Name, name, strings.Join(args, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return string(out), nil
}

// Close deletes the namespace. Processes still inside keep it alive until
// they exit; the name is gone at once.
func (n *NS) Close() error {
	if n.f != nil {
		n.f.Close()
		n.f = nil
	}
	if out, err := exec.Command("ip", "netns", "del", n.Name).CombinedOutput(); err != nil {
		return fmt.Errorf("netns: del %s: %v: %s", n.Name, err, bytes.TrimSpace(out))
	}
	return nil
}

// List returns the names of namespaces that start with prefix.
func List(prefix string) ([]string, error) {
	entries, err := os.ReadDir("/run/netns")
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("netns: list: %w", err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// Sweep deletes every namespace whose name starts with prefix, killing the
// processes inside first. It is how a killed run's leftovers are removed.
func Sweep(prefix string) error {
	if !strings.HasPrefix(prefix, PrefixBase) {
		return fmt.Errorf("netns: sweep: prefix %q does not start with %q", prefix, PrefixBase)
	}
	names, err := List(prefix)
	if err != nil {
		return err
	}
	var firstErr error
	for _, name := range names {
		if pids, err := exec.Command("ip", "netns", "pids", name).Output(); err == nil {
			for _, pid := range strings.Fields(string(pids)) {
				_ = exec.Command("kill", "-9", pid).Run()
			}
		}
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil && firstErr == nil {
			firstErr = fmt.Errorf("netns: sweep %s: %v: %s", name, err, bytes.TrimSpace(out))
		}
	}
	return firstErr
}
