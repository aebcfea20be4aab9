package carp

import (
	"net/netip"
	"time"
)

// Event is an input to Machine.Step.
type Event interface{ isEvent() }

// Start moves a machine from INIT to BACKUP. The daemon sends it once the
// group's sockets are open; while the firewall is still loading, it also
// holds a Demote{Cause: CauseBoot}.
type Start struct{}

// Shutdown moves the machine to INIT. A master first sends a bow-out so a
// backup takes over at once.
type Shutdown struct{}

// Timer reports that the timer from the last ArmTimer fired. At is that
// ArmTimer's At; a Timer for an older ArmTimer is ignored, so the driver
// need not worry about a timer that fired while it was being replaced.
type Timer struct{ At time.Time }

// Received is an advert that passed Receiver.Accept for this group. From is
// its source address, for log lines only: the sender is Advert.Node.
type Received struct {
	Advert Advert
	From   netip.Addr
}

// Unverified is an advert for this group that failed authentication
// (Reason.Presence). It proves that some node is alive and sending, so a
// backup does not take over because of it; see Reason.Presence. The driver
// sends it only for packets from a configured peer address (ha.peers, over
// the heartbeat link): another cluster on the LAN that happens to use the
// same vhid must not hold this node down, so its packets are only counted
// and logged.
type Unverified struct {
	From   netip.Addr
	Reason Reason
}

// Demote sets one demotion source to By. By 0 removes it (as Promote). The
// machine's demotion counter is the sum of its sources, at most 255.
// Sending the same Demote twice changes nothing.
type Demote struct {
	Cause Cause
	Name  string // health check name; empty for boot, sync and maintenance
	By    uint8
}

// Promote removes a demotion source.
type Promote struct {
	Cause Cause
	Name  string
}

// LinkChange reports the carrier of an interface role. Only roles in
// Config.Track matter: losing carrier demotes by LinkDemotion at once;
// regaining it promotes only after the link has stayed up for LinkUpHold.
type LinkChange struct {
	Name string
	Up   bool
}

// HeartbeatCarrier reports the carrier of the dedicated heartbeat link. A
// backup that loses it takes over unless an advert arrives (over the second
// path) within Config.CarrierLossWindow.
type HeartbeatCarrier struct{ Up bool }

func (Start) isEvent()            {}
func (Shutdown) isEvent()         {}
func (Timer) isEvent()            {}
func (Received) isEvent()         {}
func (Unverified) isEvent()       {}
func (Demote) isEvent()           {}
func (Promote) isEvent()          {}
func (LinkChange) isEvent()       {}
func (HeartbeatCarrier) isEvent() {}

// Action is an output of Machine.Step, for the driver to carry out in order.
type Action interface{ isAction() }

// SendAdvert asks the driver to seal and send Advert (an advert or a
// bow-out, see Advert.Type) to every peer and on the second path.
type SendAdvert struct{ Advert Advert }

// AddVIPs asks the driver to add every VIP of the group (LAN and WAN alike,
// they move together) and the virtual MAC.
type AddVIPs struct{}

// RemoveVIPs asks the driver to remove every VIP of the group.
type RemoveVIPs struct{}

// Announce asks for a gratuitous ARP / unsolicited NA burst for the VIPs,
// so switches and neighbours learn where they live now.
type Announce struct{}

// ArmTimer asks the driver to replace its timer for this machine with one
// that fires at At (a zero At cancels it) and then to call Step with
// Timer{At}. The driver measures the wait on a monotonic clock
// (time.NewTimer(At.Sub(now))), so a step of the wall clock changes the now
// it passes but not when the timer fires; the machine notices the
// difference and re-bases its deadlines (see the package comment).
type ArmTimer struct{ At time.Time }

// StateChanged reports a transition, for the state-change hook and logs.
type StateChanged struct {
	From, To State
	Why      Why
}

// Alarm is something an operator must hear about. The machine raises each
// alarm when its condition starts, not on every packet.
type Alarm struct {
	Kind   AlarmKind
	Node   NodeID // the peer concerned, if any
	Detail string
}

func (SendAdvert) isAction()   {}
func (AddVIPs) isAction()      {}
func (RemoveVIPs) isAction()   {}
func (Announce) isAction()     {}
func (ArmTimer) isAction()     {}
func (StateChanged) isAction() {}
func (Alarm) isAction()        {}

// State is a machine's state.
type State uint8

const (
	Init State = iota
	Backup
	Master
)

func (s State) String() string {
	switch s {
	case Init:
		return "init"
	case Backup:
		return "backup"
	case Master:
		return "master"
	}
	return "unknown"
}

// Why is the reason for a transition.
type Why uint8

const (
	WhyStart         Why = iota + 1 // INIT to BACKUP
	WhyMasterDown                   // no advert for the master down interval
	WhyCarrierLost                  // heartbeat carrier lost and no advert on the second path in time
	WhyBowOut                       // the master bowed out
	WhyPreempt                      // this node has a better priority than the master
	WhyMasterDemoted                // the master is more demoted than this node
	WhyHeardBetter                  // a master with a better rank is advertising
	WhyMaintenance                  // maintenance mode: bowed out
	WhyShutdown                     // Shutdown event
)

var whyNames = [...]string{
	WhyStart:         "start",
	WhyMasterDown:    "master_down",
	WhyCarrierLost:   "carrier_lost",
	WhyBowOut:        "bow_out",
	WhyPreempt:       "preempt",
	WhyMasterDemoted: "master_demoted",
	WhyHeardBetter:   "heard_better",
	WhyMaintenance:   "maintenance",
	WhyShutdown:      "shutdown",
}

func (w Why) String() string {
	if w > 0 && int(w) < len(whyNames) {
		return whyNames[w]
	}
	return "unknown"
}

// AlarmKind classifies alarms.
type AlarmKind uint8

const (
	// AlarmUnverified: adverts for this group fail authentication. As a
	// backup, the machine holds back its takeover; as a master, there may
	// now be two masters.
	AlarmUnverified AlarmKind = iota + 1
	// AlarmVIPMismatch: a peer advertises another VIP digest.
	AlarmVIPMismatch
	// AlarmAdvBaseMismatch: a peer advertises another advbase.
	AlarmAdvBaseMismatch
	// AlarmClockJump: now moved against the machine's timers.
	AlarmClockJump
)

var alarmNames = [...]string{
	AlarmUnverified:      "unverified",
	AlarmVIPMismatch:     "vip_mismatch",
	AlarmAdvBaseMismatch: "advbase_mismatch",
	AlarmClockJump:       "clock_jump",
}

func (k AlarmKind) String() string {
	if k > 0 && int(k) < len(alarmNames) {
		return alarmNames[k]
	}
	return "unknown"
}

// Cause names what raised a demotion.
type Cause uint8

const (
	CauseBoot        Cause = iota + 1 // booting: held until the firewall (and state sync bulk) is loaded
	CauseLink                         // a tracked interface lost carrier (from LinkChange)
	CauseHealth                       // a failed health check, named by Name
	CauseMaintenance                  // maintenance mode; a master also bows out
	CauseSync                         // state sync not yet in step with the peer
)

var causeNames = [...]string{
	CauseBoot:        "boot",
	CauseLink:        "link",
	CauseHealth:      "health",
	CauseMaintenance: "maintenance",
	CauseSync:        "sync",
}

func (c Cause) String() string {
	if c > 0 && int(c) < len(causeNames) {
		return causeNames[c]
	}
	return "unknown"
}

// Demotion amounts. Any demotion loses to none, so the amounts only order
// nodes that are both demoted: the one with less wrong wins.
const (
	// BootDemotion is OpenBSD's boot-time carpdemote.
	BootDemotion = 128
	// LinkDemotion is per tracked interface down.
	LinkDemotion = 50
	// HealthDemotion is the default of a health check (config's demote).
	HealthDemotion = 50
	// MaintenanceDemotion is the most there is: in maintenance a node
	// loses to any other.
	MaintenanceDemotion = 255
)
