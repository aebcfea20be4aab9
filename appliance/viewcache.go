package appliance

import (
	"sync"
	"time"
)

// viewTTL is how long the interface and rule-counter views are reused.
// Pages and scrapes read them on every request; under load the kernel
// dumps behind them were a third of the daemon's CPU, and counters a
// second old are as good for a page that refreshes itself.
const viewTTL = time.Second

// cachedView keeps one read for viewTTL. Concurrent misses wait for one
// read rather than each dumping the kernel's tables.
type cachedView[T any] struct {
	mu  sync.Mutex
	at  time.Time
	ok  bool
	v   T
	err error
}

// get returns the kept value while it is fresh, else read's.
func (c *cachedView[T]) get(now time.Time, read func() (T, error)) (T, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ok && !now.Before(c.at) && now.Sub(c.at) < viewTTL {
		return c.v, c.err
	}
	c.v, c.err = read()
	c.at, c.ok = now, true
	return c.v, c.err
}

// reset drops the kept value: the config changed.
func (c *cachedView[T]) reset() {
	c.mu.Lock()
	c.ok = false
	c.mu.Unlock()
}
