package netns

import (
	"os"
	"strings"
	"testing"
)

func TestNewDoSweep(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	prefix := NewPrefix()
	ns, err := New(prefix + "-t")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = Sweep(prefix) })

	if err := ns.Run("ip", "link", "add", "d0", "type", "veth", "peer", "name", "d1"); err != nil {
		t.Fatal(err)
	}
	var inside string
	if err := ns.Do(func() error {
		b, err := os.ReadFile("/proc/thread-self/net/dev")
		inside = string(b)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(inside, "d0:") {
		t.Errorf("Do did not run inside the namespace: /proc/net/dev =\n%s", inside)
	}
	host, _ := os.ReadFile("/proc/net/dev")
	if strings.Contains(string(host), "d0:") {
		t.Errorf("veth leaked to the host namespace")
	}
	if err := Sweep(prefix); err != nil {
		t.Fatal(err)
	}
	if names, _ := List(prefix); len(names) != 0 {
		t.Errorf("after Sweep: %v remain", names)
	}
}

func TestSweepRefusesForeignPrefix(t *testing.T) {
	if err := Sweep("docker"); err == nil {
		t.Fatal("Sweep accepted a prefix that is not ours")
	}
}
