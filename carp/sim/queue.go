package sim

import (
	"container/heap"
	"time"
)

type evKind uint8

const (
	evTimer   evKind = iota // a machine's armed timer
	evDeliver               // a packet arrives at a node
	evFunc                  // a fault or an operator action
)

// event is one entry of the queue. Ties in time go by insertion order, so
// a run depends on nothing but its seed.
type event struct {
	at      time.Time
	seq     uint64
	kind    evKind
	node    int
	group   int
	gen     uint64    // evTimer: the member's timer generation when armed
	timerAt time.Time // evTimer: the ArmTimer's At
	pkt     []byte    // evDeliver
	path    path      // evDeliver
	label   string    // evFunc
	fn      func()    // evFunc
}

type queue []*event

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(*event)) }
func (q *queue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return e
}

func (w *World) schedule(e *event) {
	w.seq++
	e.seq = w.seq
	heap.Push(&w.queue, e)
}

// After runs fn at d from now, as one step labelled label.
func (w *World) After(d time.Duration, label string, fn func()) {
	w.schedule(&event{at: w.now.Add(d), kind: evFunc, label: label, fn: fn})
}
