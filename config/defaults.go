package config

import "time"

// Defaults that Parse fills in for keys left out. docs/config.md lists the
// same values; keep them in step.
const (
	DefaultAdvBase           = Duration(time.Second)            // CARP's advbase 1
	DefaultCarrierLossWindow = Duration(100 * time.Millisecond) // a few adverts at the fastest rate
	DefaultHealthInterval    = Duration(2 * time.Second)
	DefaultHealthTimeout     = Duration(time.Second)
	DefaultDemote            = 50 // enough to lose against a healthy peer of a typical priority gap
	DefaultStateSyncPort     = 7547
	DefaultPurgeTimeout      = Duration(60 * time.Second)
	DefaultWebUIPort         = 443
	DefaultSessionIdle       = Duration(30 * time.Minute)
	DefaultConfirmTimeout    = Duration(120 * time.Second)
)

// applyDefaults fills the keys a document may leave out. It runs after
// validation, so it may assume references resolve. Every default lives
// here, so that the documentation has one place to agree with.
func applyDefaults(c *Config) {
	for _, r := range c.Rules {
		if r.Chain == "" {
			r.Chain = Forward
		}
	}
	for _, f := range c.NAT.PortForwards {
		if f.ToPort == 0 {
			f.ToPort = f.Port.From
		}
	}
	if c.HA != nil {
		haDefaults(c.HA, c.Interfaces)
	}
	if s := c.StateSync; s != nil {
		setDefault(&s.Port, DefaultStateSyncPort)
		setDefault(&s.PurgeTimeout, DefaultPurgeTimeout)
	}
	w := &c.WebUI
	setDefault(&w.Port, DefaultWebUIPort)
	setDefault(&w.SessionIdle, DefaultSessionIdle)
	setDefault(&w.ConfirmTimeout, DefaultConfirmTimeout)
}

func haDefaults(h *HA, ifaces map[string]*Interface) {
	if _, ok := ifaces["lan"]; ok && h.SecondPath == nil {
		h.SecondPath = []string{"lan"}
	}
	setDefault(&h.CarrierLossWindow, DefaultCarrierLossWindow)
	if h.VirtualMAC == nil {
		h.VirtualMAC = ptr(true)
	}
	for _, g := range h.Groups {
		setDefault(&g.AdvBase, DefaultAdvBase)
		if g.Preempt == nil {
			g.Preempt = ptr(true)
		}
	}
	for i := range h.HealthChecks {
		hc := &h.HealthChecks[i]
		setDefault(&hc.Interval, DefaultHealthInterval)
		setDefault(&hc.Timeout, DefaultHealthTimeout)
		setDefault(&hc.Demote, DefaultDemote)
	}
}

func setDefault[T comparable](p *T, def T) {
	var zero T
	if *p == zero {
		*p = def
	}
}

func ptr[T any](v T) *T { return &v }
