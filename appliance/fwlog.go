package appliance

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"rampart/config"
	"rampart/firewall"
	"rampart/webui"
)

// Logged packets reach the live log: rules and port forwards with `log`
// compile to NFLOG on firewall.LogGroup, the daemon binds that group in
// its network namespace (nfnetlink_log is per namespace), and every packet
// the kernel sends becomes one "firewall" line in the log ring. They never
// go to the console: a busy logged rule would flood it. When the daemon
// falls behind, the kernel drops packets from the socket rather than
// slowing the firewall; the ring gets one line saying how many.

// Settings of the NFLOG instance.
const (
	// fwLogCopyRange is how much of each packet the kernel copies: the
	// IPv4 or IPv6 header, a few extension headers, and the ports.
	fwLogCopyRange = 128
	// fwLogFlush is how long the kernel may batch packets (1/100 s).
	fwLogFlush = 10
	// fwLogReadBuffer is the socket's receive buffer: bursts beyond it
	// are dropped and counted.
	fwLogReadBuffer = 1 << 20
)

// fwLogOptions configure a listener.
type fwLogOptions struct {
	NetNSFd int // 0: the current namespace
	Ring    *logRing
	Now     func() time.Time
	// IfName names an interface index, in the listener's namespace.
	IfName func(uint32) string
	Log    *slog.Logger // for the listener's own trouble
}

// fwLog is a bound NFLOG group and the config that names its rules.
type fwLog struct {
	opts fwLogOptions
	conn *netlink.Conn
	cfg  atomic.Pointer[config.Config]
	done chan struct{}

	closeOnce sync.Once
	closed    atomic.Bool
	started   atomic.Bool // run was started: Close waits for it

	// run's own: overruns since the last line about them, and interface
	// names, kept while the config stays the same (bounded all the same).
	dropped  uint64
	names    map[uint32]string
	namesFor *config.Config
	limit    lineLimit
}

// maxIfNames bounds the interface name cache.
const maxIfNames = 256

// Lines per rule: a flood on a logged rule (a scan of a logged drop)
// must not push everything else out of the ring. Beyond the rate the
// packets are counted, and the next line of that rule says how many.
const (
	fwLogRate    = 20 // lines per second per rule
	fwLogBurst   = 40
	maxLogLimits = 1024 // rules with a bucket; more forget them all
)

// lineLimit is a token bucket per log prefix.
type lineLimit struct {
	buckets map[string]*lineBucket
}

type lineBucket struct {
	tokens     float64
	last       time.Time
	suppressed uint64
}

// allow takes a token for prefix at now. When it may, it also returns
// how many packets of prefix were held back since its last line.
func (ll *lineLimit) allow(prefix string, now time.Time) (bool, uint64) {
	if ll.buckets == nil || len(ll.buckets) >= maxLogLimits {
		ll.buckets = map[string]*lineBucket{}
	}
	b, ok := ll.buckets[prefix]
	if !ok {
		b = &lineBucket{tokens: fwLogBurst, last: now}
		ll.buckets[prefix] = b
	}
	if dt := now.Sub(b.last); dt > 0 { // a clock going back refills nothing
		b.tokens = min(fwLogBurst, b.tokens+dt.Seconds()*fwLogRate)
	}
	b.last = now
	if b.tokens < 1 {
		b.suppressed++
		return false, 0
	}
	b.tokens--
	n := b.suppressed
	b.suppressed = 0
	return true, n
}

// listenFirewallLog binds firewall.LogGroup. Only one socket per namespace
// can: a second daemon gets an error naming the group.
func listenFirewallLog(opts fwLogOptions) (*fwLog, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.IfName == nil {
		opts.IfName = ifNameByIndex
	}
	c, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{NetNS: opts.NetNSFd})
	if err != nil {
		return nil, fmt.Errorf("firewall log: dial netfilter netlink: %w", err)
	}
	if err := c.SetReadBuffer(fwLogReadBuffer); err != nil {
		opts.Log.Debug("firewall log: read buffer stays the default", "err", err)
	}
	ae := netlink.NewAttributeEncoder()
	ae.ByteOrder = binary.BigEndian
	ae.Bytes(nfulaCfgCmd, []byte{nfulnlCfgCmdBind})
	mode := make([]byte, 6) // copy_range (be32), copy_mode, pad
	binary.BigEndian.PutUint32(mode, fwLogCopyRange)
	mode[4] = nfulnlCopyPacket
	ae.Bytes(nfulaCfgMode, mode)
	ae.Uint32(nfulaCfgTimeout, fwLogFlush)
	attrs, err := ae.Encode()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("firewall log: encode config: %w", err)
	}
	hdr := []byte{unix.AF_UNSPEC, unix.NFNETLINK_V0, 0, 0}
	binary.BigEndian.PutUint16(hdr[2:], firewall.LogGroup)
	_, err = c.Execute(netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(unix.NFNL_SUBSYS_ULOG<<8 | nfulnlMsgConfig), Flags: netlink.Request | netlink.Acknowledge},
		Data:   append(hdr, attrs...),
	})
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("firewall log: bind nflog group %d: %w", firewall.LogGroup, err)
	}
	return &fwLog{opts: opts, conn: c, done: make(chan struct{})}, nil
}

// setConfig names the rules of the config in force; nil-safe.
func (l *fwLog) setConfig(cfg *config.Config) {
	if l != nil {
		l.cfg.Store(cfg)
	}
}

// run reads logged packets into the ring until Close.
func (l *fwLog) run() {
	defer close(l.done)
	for l.receive() {
	}
}

// receive reads one batch of messages into the ring; false when the
// socket is closed or broken.
func (l *fwLog) receive() bool {
	msgs, err := l.conn.Receive()
	if err != nil {
		if l.closed.Load() || errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrClosed) {
			return false
		}
		if errors.Is(err, unix.ENOBUFS) {
			l.dropped++
			return true
		}
		l.opts.Log.Warn("firewall log: receive failed; logged packets are no longer shown", "err", err)
		return false
	}
	for _, m := range msgs {
		l.handle(m)
	}
	return true
}

func (l *fwLog) handle(m netlink.Message) {
	if m.Header.Type != nflogMsgType {
		return
	}
	now := l.opts.Now()
	if l.dropped > 0 {
		l.opts.Ring.add(webui.LogLine{Time: now, Kind: "firewall",
			Text: fmt.Sprintf("logged packets dropped %d time(s): the daemon fell behind the kernel", l.dropped)})
		l.dropped = 0
	}
	p, err := parseNFLOG(m.Data)
	if err != nil && p.Prefix == "" {
		return // not ours to show
	}
	ok, suppressed := l.limit.allow(p.Prefix, now)
	if !ok {
		return
	}
	if suppressed > 0 {
		l.opts.Ring.add(webui.LogLine{Time: now, Kind: "firewall",
			Text: fmt.Sprintf("%q: %d more packet(s) not shown (over %d lines/s per rule)", p.Prefix, suppressed, fwLogRate)})
	}
	cfg := l.cfg.Load()
	if l.names == nil || cfg != l.namesFor || len(l.names) >= maxIfNames {
		l.names, l.namesFor = map[uint32]string{}, cfg
	}
	text := describe(p, cfg, func(i uint32) string {
		n, ok := l.names[i]
		if !ok {
			n = l.opts.IfName(i)
			l.names[i] = n
		}
		return n
	})
	if err != nil {
		text = fmt.Sprintf("%s (%v)", text, err)
	}
	l.opts.Ring.add(webui.LogLine{Time: now, Kind: "firewall", Text: text})
}

// Close unbinds (closing the socket frees the group) and waits for run,
// when it was started.
func (l *fwLog) Close() error {
	var err error
	l.closeOnce.Do(func() {
		l.closed.Store(true)
		err = l.conn.Close()
	})
	if l.started.Load() {
		<-l.done
	}
	return err
}

// ifNameByIndex names an interface of the daemon's own namespace.
func ifNameByIndex(i uint32) string {
	ifi, err := net.InterfaceByIndex(int(i))
	if err != nil {
		return fmt.Sprintf("if%d", i)
	}
	return ifi.Name
}

// startFirewallLog listens for logged packets while the daemon runs. A
// box whose kernel lacks nfnetlink_log still filters; it only shows no
// logged packets, and the log says why. The returned func stops it.
func (d *Daemon) startFirewallLog() func() {
	l, err := listenFirewallLog(fwLogOptions{Ring: d.ui.logs, Now: d.ui.now, IfName: ifNameByIndex, Log: d.log})
	if err != nil {
		d.log.Warn("firewall log: logged packets will not reach the live log", "err", err)
		return func() {}
	}
	d.ui.mu.Lock()
	l.setConfig(d.cfg)
	d.ui.fwlog = l
	d.ui.mu.Unlock()
	l.started.Store(true)
	go l.run()
	return func() {
		d.ui.mu.Lock()
		d.ui.fwlog = nil
		d.ui.mu.Unlock()
		_ = l.Close()
	}
}
