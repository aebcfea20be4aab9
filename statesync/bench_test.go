package statesync

import (
	"testing"
	"time"

	"rampart/statesync/ctnl"
)

// BenchmarkReplicate pushes b.N new flows through the sender as fast as
// the caller can make them and waits until the receiver holds them all:
// replicated flows per second over loopback, protocol and TLS included,
// kernel excluded. Drops and resyncs are reported: the figure counts
// only with zero drops.
func BenchmarkReplicate(b *testing.B) {
	p := newPair(b, pairOptions{})
	<-p.rcv.BulkDone()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		p.tb.set(benchFlow(i, 1))
	}
	eventually(b, "the receiver", func() bool { return p.rcv.Cache().Stats().Size == b.N })
	el := time.Since(start)
	b.StopTimer()
	st := p.snd.Status()
	b.ReportMetric(float64(b.N)/el.Seconds(), "flows/s")
	b.ReportMetric(float64(st.Drops["pending_full"]), "drops")
	b.ReportMetric(float64(st.Resyncs["pending_full"]), "resyncs")
}

// BenchmarkLag10k offers 10,000 new flows a second for a second, each
// followed by an update, and reports the p99 and maximum of the lag
// from receipt at the sender to acknowledgement by the receiver.
func BenchmarkLag10k(b *testing.B) {
	for range b.N {
		p := newPair(b, pairOptions{})
		<-p.rcv.BulkDone()
		tick := time.NewTicker(time.Millisecond)
		n := 0
		for range 1000 {
			<-tick.C
			for range 10 {
				p.tb.set(benchFlow(n, 1))
				p.tb.set(benchFlow(n, 2))
				n++
			}
		}
		tick.Stop()
		eventually(b, "the receiver", func() bool { return p.rcv.Cache().Stats().Size == n })
		eventually(b, "the last ack", func() bool { return p.snd.Status().InFlight == 0 })
		st := p.snd.Status()
		b.ReportMetric(float64(st.LagP99.Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(st.LagMax.Microseconds())/1000, "max-ms")
		b.ReportMetric(float64(st.LagSamples), "frames")
	}
}

// benchFlow is flow i of a benchmark: distinct for the first 2^32.
func benchFlow(i int, mark uint32) ctnl.Entry {
	e := tcpFlow(uint16(i), mark)
	e.Orig.DstPort = uint16(i >> 16)
	e.Reply = e.Orig.Reverse()
	return e
}

// BenchmarkCacheApply fills an empty cache with 100,000 new flows, in
// frames of 1024, as a backup does under a burst of new connections.
func BenchmarkCacheApply(b *testing.B) {
	const flows = 100_000
	recs := make([]Record, flows)
	for i := range recs {
		recs[i] = Record{Op: OpUpdate, Entry: benchFlow(i, 1)}
	}
	b.ReportAllocs()
	for b.Loop() {
		c := NewCache(DefaultMaxCache)
		for i := 0; i < flows; i += 1024 {
			c.Apply(recs[i:min(i+1024, flows)])
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*flows), "ns/flow")
}
