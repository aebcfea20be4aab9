package ctnl

import "testing"

// BenchmarkParseEvent decodes a TCP event with NAT, as the event path
// does for every change.
func BenchmarkParseEvent(b *testing.B) {
	e := sampleEntries()["tcp4 masquerade"]
	payload := dumpPayload(e)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseEvent(msgType(ipctnlMsgCtNew), nlmFCreate|nlmFExcl, payload); err != nil {
			b.Fatal(err)
		}
	}
}
