package ctnl

import "testing"

// TestKernelSetTimeouts shortens the timeout of every sample entry, NAT'd
// ones included, and checks that nothing else changed: state, flags and
// NAT bindings stay, and an entry that is gone is no failure.
func TestKernelSetTimeouts(t *testing.T) {
	_, c := natNamespace(t)
	_, entries := creatableSamples(3600)
	if fails, err := c.Create(entries, CreateOptions{Liberal: true}); err != nil || len(fails) > 0 {
		t.Fatalf("Create: failures %v, error %v", fails, err)
	}
	before := dumpByKey(t, c)

	gone := entries[0]
	gone.Orig.SrcPort++ // not in the table
	fails, err := c.SetTimeouts(append(entries, gone), 7)
	if err != nil || len(fails) > 0 {
		t.Fatalf("SetTimeouts: failures %v, error %v", fails, err)
	}
	after := dumpByKey(t, c)
	if len(after) != len(before) {
		t.Fatalf("%d entries after, %d before", len(after), len(before))
	}
	for k, b := range before {
		a, ok := after[k]
		if !ok {
			t.Errorf("%s: gone", k)
			continue
		}
		if a.Timeout == 0 || a.Timeout > 7 {
			t.Errorf("%s: timeout %d, want 1..7", k, a.Timeout)
		}
		if b.Timeout <= 7 {
			t.Errorf("%s: timeout before %d, want the created 3600", k, b.Timeout)
		}
		a.Timeout, b.Timeout = 0, 0
		if d := diff(b, a); d != "" {
			t.Errorf("%s: changed beyond its timeout (-before +after):\n%s", k, d)
		}
	}
}

func dumpByKey(t *testing.T, c *Conn) map[string]Entry {
	t.Helper()
	dumped, err := c.Dump()
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]Entry{}
	for _, e := range dumped {
		m[tupleKey(e.Orig)] = e
	}
	return m
}
