package sim

import (
	"bytes"
	"time"
)

// path is one of the two ways an advert travels.
type path uint8

const (
	pathHeartbeat path = iota // unicast over the dedicated link
	pathLAN                   // multicast on the LAN, the second path
)

func (p path) String() string {
	if p == pathHeartbeat {
		return "hb"
	}
	return "lan"
}

// network decides the fate of each packet: lost across a partition or a
// cut cable, lost at random, or delivered after a random delay (which is
// where reordering comes from).
type network struct {
	side          []int  // partition side of each node
	hbCut         []bool // heartbeat cable of each node
	loss          float64
	delay, jitter time.Duration
}

func newNetwork(n int, delay, jitter time.Duration) network {
	return network{side: make([]int, n), hbCut: make([]bool, n), delay: delay, jitter: jitter}
}

func (nw *network) send(w *World, from int, pkt []byte) {
	for to := range w.nodes {
		if to == from || nw.side[to] != nw.side[from] {
			continue
		}
		for _, p := range []path{pathHeartbeat, pathLAN} {
			if p == pathHeartbeat && (nw.hbCut[from] || nw.hbCut[to]) {
				continue
			}
			if nw.loss > 0 && w.rng.Float64() < nw.loss {
				continue
			}
			d := nw.delay
			if nw.jitter > 0 {
				d += time.Duration(w.rng.Int64N(int64(nw.jitter) + 1))
			}
			w.schedule(&event{at: w.now.Add(d), kind: evDeliver, node: to, pkt: pkt, path: p})
		}
	}
}

// carrierLost reports whether node i sees its heartbeat link down.
func (nw *network) carrierLost(i int) bool {
	if nw.hbCut[i] {
		return true
	}
	return len(nw.hbCut) == 2 && nw.hbCut[1-i]
}

// Connected reports whether every packet between running nodes arrives,
// authenticated, soon: no loss, no partition, a delay of at most a quarter
// of the shortest advbase (over the LAN at least; a cut heartbeat cable
// alone does not disconnect), and one key.
func (w *World) Connected() bool {
	if w.net.loss > 0 || w.net.delay+w.net.jitter > w.check.connDelay {
		return false
	}
	var first *node
	for _, n := range w.nodes {
		if !n.up {
			continue
		}
		if first == nil {
			first = n
			continue
		}
		if w.net.side[n.idx] != w.net.side[first.idx] || !bytes.Equal(n.secret, first.secret) {
			return false
		}
	}
	return true
}
