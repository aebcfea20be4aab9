package carp

import (
	"fmt"
	"slices"
	"time"

	"rampart/config"
)

// Defaults for Config fields left zero.
const (
	// DefaultAdvBase is CARP's default advertisement interval.
	DefaultAdvBase = time.Second
	// DefaultLinkUpHold is how long a tracked link must stay up before its
	// demotion is lifted: the hysteresis that keeps a flapping link from
	// moving the VIPs back and forth with every flap.
	DefaultLinkUpHold = 5 * time.Second
	// maxTrack bounds Config.Track; a node has a handful of roles.
	maxTrack = 64
)

// Config is one group's settings on this node.
type Config struct {
	VHID  uint8
	Node  NodeID
	Epoch uint64 // this boot's epoch; must exceed every earlier boot's

	AdvBase      time.Duration // whole milliseconds, 1ms to 65.535s
	AdvSkew      uint8         // 255 - priority: lower wins
	Preempt      bool          // take over from a master of lower priority
	PreemptDelay time.Duration // wait this long before preempting (0: at once)

	Digest Digest   // VIPDigest of the group's VIPs
	Track  []string // interface roles whose carrier loss demotes

	LinkUpHold        time.Duration // 0: DefaultLinkUpHold
	CarrierLossWindow time.Duration // 0: AdvBase * 3/2
}

// ConfigFromHA builds the Config of group g from the HA section, applying
// the config's defaults (advbase 1s, preempt on).
func ConfigFromHA(ha *config.HA, g *config.Group, epoch uint64) (Config, error) {
	node, err := ParseNodeID(ha.NodeID)
	if err != nil {
		return Config{}, err
	}
	c := Config{
		VHID:              g.VHID,
		Node:              node,
		Epoch:             epoch,
		AdvBase:           time.Duration(g.AdvBase),
		AdvSkew:           255 - g.Priority,
		Preempt:           g.Preempt == nil || *g.Preempt,
		PreemptDelay:      time.Duration(g.PreemptDelay),
		Digest:            VIPDigest(g.VIPs),
		Track:             slices.Clone(g.Track),
		CarrierLossWindow: time.Duration(ha.CarrierLossWindow),
	}
	if c.AdvBase == 0 {
		c.AdvBase = DefaultAdvBase
	}
	return c, c.validate()
}

func (c *Config) validate() error {
	var why string
	switch {
	case c.VHID == 0:
		why = "vhid 0"
	case c.Node.IsZero() || !c.Node.canonical():
		why = "no node id"
	case c.AdvBase < time.Millisecond || c.AdvBase > MaxAdvBase*time.Millisecond || c.AdvBase%time.Millisecond != 0:
		why = fmt.Sprintf("advbase %v: want whole milliseconds from 1ms to %dms", c.AdvBase, MaxAdvBase)
	case c.PreemptDelay < 0 || c.LinkUpHold < 0 || c.CarrierLossWindow < 0:
		why = "negative duration"
	case len(c.Track) > maxTrack:
		why = fmt.Sprintf("%d tracked interfaces; at most %d", len(c.Track), maxTrack)
	}
	if why != "" {
		return fmt.Errorf("carp: group %d: %s", c.VHID, why)
	}
	return nil
}

func (c *Config) withDefaults() Config {
	d := *c
	d.Track = slices.Compact(slices.Sorted(slices.Values(c.Track)))
	if d.LinkUpHold == 0 {
		d.LinkUpHold = DefaultLinkUpHold
	}
	if d.CarrierLossWindow == 0 {
		d.CarrierLossWindow = d.AdvBase * 3 / 2
	}
	return d
}

// Skew is the part of the master down interval that orders backups: those
// with a lower advskew wait less (RFC 5798 §6.1 Skew_Time, with advskew in
// the place of 256 - priority), and a demoted backup waits one advbase
// more, so that a healthy backup takes over first.
func (c *Config) Skew(demoted bool) time.Duration {
	s := c.AdvBase * time.Duration(c.AdvSkew) / 256
	if demoted {
		s += c.AdvBase
	}
	return s
}

// MasterDown is how long a backup waits without an advert before it takes
// over: 3 × advbase + skew (RFC 5798 §6.1 Master_Down_Interval).
func (c *Config) MasterDown(demoted bool) time.Duration {
	return 3*c.AdvBase + c.Skew(demoted)
}
